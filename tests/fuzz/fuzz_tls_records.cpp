// libFuzzer target for engine/tls13_records: what a TLS 1.3 client can put in the records our
// record layer reads after the handshake (tls_transport_own.cpp).
// The first input byte picks a suite and a record type; the rest is used three ways:
//   1. as received records: each header the parser accepts is opened with fixed keys (a random
//      tag never verifies; the point is that no length makes open() read or write out of bounds);
//   2. as a decrypted inner plaintext: parse_inner() and, for handshake content,
//      read_post_handshake() (their answers must stay inside the input and follow RFC 8446);
//   3. sealed and opened again: the same type and bytes come back, and any one flipped bit of
//      the record makes open() fail.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/tls13_records.h"

using namespace wspush::engine::tls13;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

TrafficKeys keys_for(Suite s) {
    TrafficKeys k;
    uint8_t secret[48];
    for (int i = 0; i < 48; ++i) secret[i] = static_cast<uint8_t>(i * 13 + 1);
    CHECK(derive_keys(s, secret, &k));
    return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static RecordCipher cipher;
    if (size < 1) return 0;
    const Suite suite = static_cast<Suite>(data[0] % 3);
    const uint8_t type = static_cast<uint8_t>(20 + (data[0] >> 2) % 4);
    ++data, --size;

    // 1. Received records.
    {
        std::vector<uint8_t> stream(data, data + size);
        TrafficKeys k = keys_for(suite);
        size_t at = 0;
        while (stream.size() - at >= kHeader) {
            Header h = parse_header(stream.data() + at);
            if (!h.ok) {
                CHECK(h.alert != 0);
                break;
            }
            CHECK(h.length > kTag && h.length <= kMaxCiphertext);
            if (stream.size() - at - kHeader < h.length) break;
            size_t plain = 0;
            if (cipher.open(suite, k, stream.data() + at, h.length, &plain)) CHECK(plain == h.length - kTag);
            at += kHeader + h.length;
        }
    }

    // 2. An inner plaintext.
    {
        Inner in = parse_inner(data, size);
        if (in.ok) {
            CHECK(in.length < size && in.type != 0 && data[in.length] == in.type && size <= kMaxPlaintext + 1);
            for (size_t i = in.length + 1; i < size; ++i) CHECK(data[i] == 0);
            if (in.type == kHandshake) {
                PostHandshake h = read_post_handshake(data, in.length);
                if (h.ok) CHECK(h.key_update && in.length == 5 && data[0] == 24 && data[4] <= 1 && h.update_requested == (data[4] == 1));
                else CHECK(h.alert != 0);
            }
        } else {
            CHECK(in.alert != 0);
        }
    }

    // 3. Seal and open.
    {
        const size_t len = size < kMaxPlaintext ? size : kMaxPlaintext;
        std::vector<uint8_t> rec(len + kOverhead);
        TrafficKeys tx = keys_for(suite), rx = keys_for(suite);
        tx.seq = rx.seq = len;  // any sequence number, the same on both sides
        size_t n = cipher.seal(suite, tx, type, data, len, rec.data());
        CHECK(n == len + kOverhead && tx.seq == len + 1);
        std::vector<uint8_t> copy = rec;
        Header h = parse_header(rec.data());
        CHECK(h.ok && h.length == len + 1 + kTag);
        size_t plain = 0;
        CHECK(cipher.open(suite, rx, rec.data(), h.length, &plain));
        CHECK(plain == len + 1 && memcmp(rec.data() + kHeader, data, len) == 0 && rec[kHeader + len] == type);
        Inner in = parse_inner(rec.data() + kHeader, plain);
        CHECK(in.ok && in.type == type && in.length == len);
        // One flipped bit anywhere but the header's length (which parse_header judges) fails.
        const size_t bit = (len * 131 + type) % (copy.size() * 8);
        copy[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        TrafficKeys rx2 = keys_for(suite);
        rx2.seq = len;
        Header h2 = parse_header(copy.data());
        if (h2.ok && h2.length == h.length) CHECK(!cipher.open(suite, rx2, copy.data(), h2.length, &plain));
    }
    return 0;
}
