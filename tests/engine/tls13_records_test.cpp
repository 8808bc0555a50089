// engine/tls13_records: the key schedule against RFC 8448's published values, sealing and
// opening, and the parsers' answers to what a client may send after the handshake.
#include "engine/tls13_records.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace wspush::engine::tls13;

namespace {

std::vector<uint8_t> hex(const char* h) {
    std::vector<uint8_t> out;
    for (; h[0] && h[1]; h += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h, 2), nullptr, 16)));
    return out;
}

TrafficKeys keys(Suite s, uint8_t fill = 7) {
    uint8_t secret[48];
    memset(secret, fill, sizeof secret);
    TrafficKeys k;
    EXPECT_TRUE(derive_keys(s, secret, &k));
    return k;
}

}  // namespace

// RFC 8448 §3 (simple 1-RTT handshake), "derive write traffic keys for application data": the
// server's application traffic secret and the key and IV expanded from it.
TEST(Tls13Records, KeysFromRfc8448ServerApplicationSecret) {
    auto secret = hex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
    TrafficKeys k;
    k.seq = 99;
    ASSERT_TRUE(derive_keys(Suite::Aes128Gcm, secret.data(), &k));
    EXPECT_EQ(std::vector<uint8_t>(k.key, k.key + 16), hex("9f02283b6c9c07efc26bb9f2ac92e356"));
    EXPECT_EQ(std::vector<uint8_t>(k.iv, k.iv + 12), hex("cf782b88dd83549aadf1e984"));
    EXPECT_EQ(k.seq, 0u);
}

TEST(Tls13Records, KeyUpdateDerivesANewGenerationFromTheSecret) {
    TrafficKeys a = keys(Suite::Chacha20Poly1305), b = a;
    a.seq = 5;
    ASSERT_TRUE(next_generation(Suite::Chacha20Poly1305, &a));
    EXPECT_NE(memcmp(a.secret, b.secret, 32), 0);
    EXPECT_NE(memcmp(a.key, b.key, 32), 0);
    EXPECT_EQ(a.seq, 0u);
    ASSERT_TRUE(next_generation(Suite::Chacha20Poly1305, &b));  // deterministic
    EXPECT_EQ(memcmp(a.key, b.key, 32), 0);
}

TEST(Tls13Records, SealThenOpenEverySuiteAndType) {
    RecordCipher c;
    ASSERT_TRUE(c.ok());
    for (Suite s : {Suite::Aes128Gcm, Suite::Aes256Gcm, Suite::Chacha20Poly1305}) {
        for (size_t len : {size_t(0), size_t(1), size_t(100), kMaxPlaintext}) {
            TrafficKeys tx = keys(s), rx = keys(s);
            std::vector<uint8_t> data(len), rec(len + kOverhead);
            for (size_t i = 0; i < len; ++i) data[i] = static_cast<uint8_t>(i * 31);
            ASSERT_EQ(c.seal(s, tx, kApplicationData, data.data(), len, rec.data()), len + kOverhead);
            Header h = parse_header(rec.data());
            ASSERT_TRUE(h.ok);
            size_t plain = 0;
            ASSERT_TRUE(c.open(s, rx, rec.data(), h.length, &plain));
            Inner in = parse_inner(rec.data() + kHeader, plain);
            ASSERT_TRUE(in.ok);
            EXPECT_EQ(in.type, kApplicationData);
            EXPECT_EQ(std::vector<uint8_t>(rec.data() + kHeader, rec.data() + kHeader + in.length), data);
            EXPECT_EQ(tx.seq, 1u);
            EXPECT_EQ(rx.seq, 1u);
        }
    }
}

TEST(Tls13Records, SealingInPlaceEqualsSealingFromElsewhere) {
    RecordCipher c;
    TrafficKeys a = keys(Suite::Aes128Gcm), b = a;
    std::string msg(500, 'q');
    std::vector<uint8_t> apart(msg.size() + kOverhead), inplace(msg.size() + kOverhead);
    c.seal(Suite::Aes128Gcm, a, kApplicationData, reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), apart.data());
    memcpy(inplace.data() + kHeader, msg.data(), msg.size());
    c.seal(Suite::Aes128Gcm, b, kApplicationData, inplace.data() + kHeader, msg.size(), inplace.data());
    EXPECT_EQ(apart, inplace);
}

TEST(Tls13Records, OpenRefusesAnotherSequenceNumberOrKey) {
    RecordCipher c;
    TrafficKeys tx = keys(Suite::Aes128Gcm);
    uint8_t rec[64 + kOverhead];
    uint8_t data[64] = {1, 2, 3};
    size_t n = c.seal(Suite::Aes128Gcm, tx, kApplicationData, data, sizeof data, rec);
    std::vector<uint8_t> copy(rec, rec + n);
    size_t plain = 0;
    TrafficKeys later = keys(Suite::Aes128Gcm);
    later.seq = 1;  // a replay, as the next record
    EXPECT_FALSE(c.open(Suite::Aes128Gcm, later, copy.data(), n - kHeader, &plain));
    copy.assign(rec, rec + n);
    TrafficKeys other = keys(Suite::Aes128Gcm, 8);
    EXPECT_FALSE(c.open(Suite::Aes128Gcm, other, copy.data(), n - kHeader, &plain));
    copy.assign(rec, rec + n);
    TrafficKeys right = keys(Suite::Aes128Gcm);
    EXPECT_TRUE(c.open(Suite::Aes128Gcm, right, copy.data(), n - kHeader, &plain));
}

TEST(Tls13Records, HeaderAnswers) {
    const uint8_t ok[] = {23, 3, 3, 0x00, 17};
    EXPECT_TRUE(parse_header(ok).ok);
    const uint8_t max[] = {23, 3, 3, 0x41, 0x00};  // 2^14 + 256
    EXPECT_TRUE(parse_header(max).ok);
    const uint8_t over[] = {23, 3, 3, 0x41, 0x01};
    EXPECT_EQ(parse_header(over).alert, kRecordOverflow);
    const uint8_t tiny[] = {23, 3, 3, 0x00, 16};
    EXPECT_EQ(parse_header(tiny).alert, kDecodeError);
    for (uint8_t type : {20, 21, 22, 24}) {
        const uint8_t clear[] = {type, 3, 3, 0, 20};
        EXPECT_EQ(parse_header(clear).alert, kUnexpectedMessage) << int(type);
    }
}

TEST(Tls13Records, InnerPlaintextFindsTheTypeBehindThePadding) {
    const uint8_t padded[] = {'h', 'i', 23, 0, 0, 0};
    Inner in = parse_inner(padded, sizeof padded);
    EXPECT_TRUE(in.ok);
    EXPECT_EQ(in.type, 23);
    EXPECT_EQ(in.length, 2u);
    const uint8_t zeros[] = {0, 0, 0};
    EXPECT_EQ(parse_inner(zeros, sizeof zeros).alert, kUnexpectedMessage);
    EXPECT_EQ(parse_inner(zeros, 0).alert, kUnexpectedMessage);
    std::vector<uint8_t> big(kMaxPlaintext + 2, 'x');
    big[kMaxPlaintext + 1] = 23;  // content of 2^14 + 1 bytes
    EXPECT_EQ(parse_inner(big.data(), big.size()).alert, kRecordOverflow);
}

TEST(Tls13Records, OnlyAWholeKeyUpdateIsAcceptedAfterTheHandshake) {
    const uint8_t requested[] = {24, 0, 0, 1, 1};
    PostHandshake h = read_post_handshake(requested, sizeof requested);
    EXPECT_TRUE(h.ok && h.key_update && h.update_requested);
    const uint8_t not_requested[] = {24, 0, 0, 1, 0};
    h = read_post_handshake(not_requested, sizeof not_requested);
    EXPECT_TRUE(h.ok && h.key_update && !h.update_requested);
    const uint8_t bad_value[] = {24, 0, 0, 1, 2};
    EXPECT_EQ(read_post_handshake(bad_value, 5).alert, kIllegalParameter);
    const uint8_t bad_length[] = {24, 0, 0, 2, 0, 0};
    EXPECT_EQ(read_post_handshake(bad_length, 6).alert, kDecodeError);
    const uint8_t two[] = {24, 0, 0, 1, 0, 24, 0, 0, 1, 0};  // the first one does not end the record
    EXPECT_EQ(read_post_handshake(two, 10).alert, kUnexpectedMessage);
    const uint8_t ticket[] = {4, 0, 0, 1, 0};  // NewSessionTicket: a server's message
    EXPECT_EQ(read_post_handshake(ticket, 5).alert, kUnexpectedMessage);
    const uint8_t split[] = {24, 0, 0};
    EXPECT_EQ(read_post_handshake(split, 3).alert, kUnexpectedMessage);
    EXPECT_EQ(read_post_handshake(split, 0).alert, kUnexpectedMessage);
}

// Lanes: connections that share a lane (fd modulo lanes) take turns re-keying it; ones on
// their own lane keep it. Every record opens either way, and sealing is the same as on one lane.
TEST(Tls13Records, LanesSharedOrNotSealTheSameRecords) {
    RecordCipher two(2), one(1), reader(3);
    TrafficKeys a = keys(Suite::Aes128Gcm, 1), b = keys(Suite::Aes128Gcm, 2), c = keys(Suite::Aes256Gcm, 3);
    TrafficKeys a1 = a, b1 = b, c1 = c, ra = a, rb = b, rc = c;
    uint8_t data[40] = {9};
    for (int round = 0; round < 5; ++round) {
        struct Case {
            TrafficKeys *k, *k1, *r;
            Suite s;
            uint32_t fd;
        };
        for (Case x : {Case{&a, &a1, &ra, Suite::Aes128Gcm, 4}, Case{&b, &b1, &rb, Suite::Aes128Gcm, 6},
                       Case{&c, &c1, &rc, Suite::Aes256Gcm, 5}}) {
            uint8_t rec[40 + kOverhead], ref[40 + kOverhead];
            ASSERT_EQ(two.seal(x.s, *x.k, kApplicationData, data, sizeof data, rec, x.fd), sizeof rec);  // fds 4 and 6 share lane 0
            ASSERT_EQ(one.seal(x.s, *x.k1, kApplicationData, data, sizeof data, ref), sizeof ref);
            EXPECT_EQ(memcmp(rec, ref, sizeof rec), 0);
            size_t plain = 0;
            EXPECT_TRUE(reader.open(x.s, *x.r, rec, sizeof rec - kHeader, &plain, x.fd));
        }
    }
}
