#include "server/local_router.h"

#include <cstring>
#include <optional>

#include "codec/frame_encoder.h"

namespace wspush::server {

using engine::FrameRef;
using engine::Server;

namespace {

// The message's one frame: the payload, or "<sender>:<payload>" with --mark-sender.
engine::SharedFrame* encode(const Outgoing& m) {
    if (m.sender.empty()) return Server::encode(m.op, m.data, m.len);
    size_t payload = m.payload_size();
    engine::SharedFrame* f = engine::SharedFrame::create(codec::frame_size(payload));
    uint8_t* p = f->data() + codec::encode_header(f->data(), m.op, payload);
    memcpy(p, m.sender.data(), m.sender.size());
    p[m.sender.size()] = ':';
    if (m.len) memcpy(p + m.sender.size() + 1, m.data, m.len);
    return f;
}

}  // namespace

size_t LocalRouter::send_to(registry::ConnSpan conns, engine::SharedFrame* frame) {
    size_t n = 0;
    // send() never unregisters anyone (closes are reaped after the loop iteration), so the
    // span stays valid while we walk it.
    for (registry::ConnId id : conns)
        if (engine::Connection* c = server_.get(id)) n += server_.send(*c, frame);
    return n;
}

size_t LocalRouter::to_span(registry::ConnSpan conns, const Outgoing& m) {
    if (conns.empty()) return 0;
    FrameRef frame(encode(m));
    return send_to(conns, frame.get());
}

size_t LocalRouter::to_uid(std::string_view uid, const Outgoing& m) {
    return to_span(sessions_.uids().find(uid), m);
}

size_t LocalRouter::to_group(std::string_view group, const Outgoing& m) {
    return to_span(sessions_.groups().members(group), m);
}

// One encoding for every uid's connections; the frame is allocated only when someone is online.
size_t LocalRouter::to_uids(const std::string_view* uids, size_t count, const Outgoing& m) {
    std::optional<FrameRef> frame;
    size_t n = 0;
    for (size_t i = 0; i < count; ++i) {
        registry::ConnSpan conns = sessions_.uids().find(uids[i]);
        if (conns.empty()) continue;
        if (!frame) frame.emplace(encode(m));
        n += send_to(conns, frame->get());
    }
    return n;
}

// Tightest loop of a broadcast: one pointer load, one queue push per recipient.
size_t LocalRouter::to_all(const Outgoing& m) {
    const auto& online = sessions_.online();
    if (online.empty()) return 0;
    FrameRef frame(encode(m));
    size_t n = 0;
    for (engine::Connection* c : online) n += server_.send(*c, frame.get());
    return n;
}

}  // namespace wspush::server
