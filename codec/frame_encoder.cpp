// Frame encoder, RFC 6455 section 5.2. Lengths use the minimal encoding (5.2 "MUST").
#include "codec/frame_encoder.h"

#include <cstring>

#include "codec/unmask.h"

namespace wspush::codec {
namespace {

size_t write_header(uint8_t* out, Opcode op, uint64_t len, bool fin, bool rsv1, bool masked) {
    out[0] = uint8_t((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(op));
    uint8_t mask_bit = masked ? 0x80 : 0;
    if (len < 126) {
        out[1] = uint8_t(mask_bit | len);
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = mask_bit | 126;
        out[2] = uint8_t(len >> 8);
        out[3] = uint8_t(len);
        return 4;
    }
    out[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = uint8_t(len >> (56 - 8 * i));
    return 10;
}

}  // namespace

size_t encode_header(uint8_t* out, Opcode op, uint64_t payload_len, bool fin, bool rsv1) {
    return write_header(out, op, payload_len, fin, rsv1, false);
}

size_t encode_frame(uint8_t* out, Opcode op, const void* payload, size_t len, bool fin) {
    size_t h = write_header(out, op, len, fin, false, false);
    if (len) memcpy(out + h, payload, len);
    return h + len;
}

size_t encode_close(uint8_t* out, uint16_t code, std::string_view reason) {
    if (code == 0) return write_header(out, Opcode::Close, 0, true, false, false);
    size_t n = reason.size();
    if (n > kMaxControlPayload - 2) {
        n = kMaxControlPayload - 2;
        // Back up to a character boundary: never end on a cut multi-byte sequence.
        while (n > 0 && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
    }
    size_t h = write_header(out, Opcode::Close, 2 + n, true, false, false);
    out[h] = uint8_t(code >> 8);
    out[h + 1] = uint8_t(code);
    if (n) memcpy(out + h + 2, reason.data(), n);
    return h + 2 + n;
}

size_t encode_client_frame(uint8_t* out, Opcode op, const void* payload, size_t len,
                           uint32_t mask_key, bool fin) {
    size_t h = write_header(out, op, len, fin, false, true);
    uint8_t* mask = out + h;
    mask[0] = uint8_t(mask_key >> 24);
    mask[1] = uint8_t(mask_key >> 16);
    mask[2] = uint8_t(mask_key >> 8);
    mask[3] = uint8_t(mask_key);
    if (len) {
        memcpy(out + h + 4, payload, len);
        unmask(out + h + 4, len, mask);  // XOR masks and unmasks alike
    }
    return h + 4 + len;
}

}  // namespace wspush::codec
