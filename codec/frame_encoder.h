// Frame encoder, RFC 6455 section 5.2. Writes into a caller's buffer; the engine wraps the
// result in one shared, reference-counted buffer so that a broadcast is encoded once.
// No allocation, no failure: callers size `out` with frame_size().
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/opcode.h"

namespace wspush::codec {

constexpr size_t kMaxFrameHeader = 14;      // 2 + 8 (64-bit length) + 4 (mask)
constexpr size_t kMaxControlPayload = 125;  // 5.5

// Header bytes for a payload of `len`: 2, 4 or 10 (+4 when masked).
constexpr size_t frame_header_size(uint64_t len, bool masked = false) {
    return (len < 126 ? 2 : len <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}
constexpr size_t frame_size(uint64_t len, bool masked = false) {
    return frame_header_size(len, masked) + len;
}

// Server frame header (unmasked). Returns bytes written.
size_t encode_header(uint8_t* out, Opcode op, uint64_t payload_len, bool fin = true,
                     bool rsv1 = false);

// Server frame: header + payload. Returns bytes written (frame_size(len)).
size_t encode_frame(uint8_t* out, Opcode op, const void* payload, size_t len, bool fin = true);

// Close frame: code (network order) + reason, the reason cut to fit 123 bytes at a UTF-8
// character boundary. code == 0 gives an empty close payload. Returns bytes written (<= 127).
size_t encode_close(uint8_t* out, uint16_t code, std::string_view reason);

// Client frame (masked with mask_key, as RFC 6455 5.3 requires of clients): for tools/wsload
// and tests. Returns bytes written (frame_size(len, true)).
size_t encode_client_frame(uint8_t* out, Opcode op, const void* payload, size_t len,
                           uint32_t mask_key, bool fin = true);

}  // namespace wspush::codec
