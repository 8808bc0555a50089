// Frame opcodes, RFC 6455 section 5.2.
#pragma once
#include <cstdint>

namespace wspush::codec {

enum class Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

constexpr bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

}  // namespace wspush::codec
