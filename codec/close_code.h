// WebSocket close codes, RFC 6455 section 7.4.1, and the rule for which codes a peer may send.
#pragma once
#include <cstdint>

namespace wspush::codec {

enum CloseCode : uint16_t {
    kCloseNone = 0,                  // not a code: "no error" in parser results
    kCloseNormal = 1000,             // 7.4.1: normal closure
    kCloseGoingAway = 1001,          // 7.4.1: server shutting down
    kCloseProtocolError = 1002,      // 7.4.1: protocol error
    kCloseUnsupportedData = 1003,    // 7.4.1: data type it cannot accept
    kCloseNoStatus = 1005,           // 7.4.1: reserved, never on the wire (close frame with no code)
    kCloseAbnormal = 1006,           // 7.4.1: reserved, never on the wire (no close frame)
    kCloseInvalidPayload = 1007,     // 7.4.1: data inconsistent with the message type (bad UTF-8)
    kClosePolicyViolation = 1008,    // 7.4.1: policy violation (bad login, slow consumer)
    kCloseMessageTooBig = 1009,      // 7.4.1: message too big
    kCloseMandatoryExtension = 1010, // 7.4.1: client expected an extension
    kCloseInternalError = 1011,      // 7.4.1: unexpected condition
    kCloseTryAgainLater = 1013,      // IANA registry: server overloaded, reconnect later
};

// 7.4.1/7.4.2: what a peer may put in a close frame: 1000-1003, 1007-1011, 3000-4999.
constexpr bool close_code_is_valid_on_wire(uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

}  // namespace wspush::codec
