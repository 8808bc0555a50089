// Router: the one interface through which every message is delivered, whoever sent it (a
// client, the HTTP API, later another worker or another host over Redis). The protocol code
// calls only this; LocalRouter delivers within this process. A cluster adds a router that
// publishes to the other nodes and delivers locally, without touching the protocol code.
//
// Return contract: the number of connections the message was queued to on this node.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/opcode.h"

namespace wspush::server {

struct Outgoing {
    codec::Opcode op;  // Text or Binary
    const uint8_t* data;
    size_t len;
    // --mark-sender: delivered as "<sender>:<data>" (written into the one shared frame, so the
    // mark costs no copy per recipient). Empty: the data as it is.
    std::string_view sender = {};
    size_t payload_size() const { return sender.empty() ? len : sender.size() + 1 + len; }
};

class Router {
public:
    virtual ~Router() = default;
    virtual size_t to_uid(std::string_view uid, const Outgoing& m) = 0;
    virtual size_t to_group(std::string_view group, const Outgoing& m) = 0;
    virtual size_t to_all(const Outgoing& m) = 0;
    // One message to several uids (the API's "uids": [...]). This default encodes per uid;
    // LocalRouter encodes once for all of them.
    virtual size_t to_uids(const std::string_view* uids, size_t count, const Outgoing& m) {
        size_t n = 0;
        for (size_t i = 0; i < count; ++i) n += to_uid(uids[i], m);
        return n;
    }
};

}  // namespace wspush::server
