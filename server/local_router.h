// LocalRouter: delivery to connections of this process. Each message is encoded once into a
// SharedFrame and queued by reference to every recipient: a broadcast to N clients costs one
// allocation, one copy of the payload and N queue entries.
#pragma once
#include "engine/server.h"
#include "server/router.h"
#include "server/sessions.h"

namespace wspush::server {

class LocalRouter final : public Router {
public:
    LocalRouter(engine::Server& server, Sessions& sessions) : server_(server), sessions_(sessions) {}

    size_t to_uid(std::string_view uid, const Outgoing& m) override;
    size_t to_group(std::string_view group, const Outgoing& m) override;
    size_t to_all(const Outgoing& m) override;
    size_t to_uids(const std::string_view* uids, size_t count, const Outgoing& m) override;
    // Queues an encoded frame to every live connection of uid (the cluster's receiving side).
    size_t send_to_uid(std::string_view uid, engine::SharedFrame* frame) {
        return send_to(sessions_.uids().find(uid), frame);
    }

private:
    size_t to_span(registry::ConnSpan conns, const Outgoing& m);
    // Queues frame to every live connection in conns; the number queued.
    size_t send_to(registry::ConnSpan conns, engine::SharedFrame* frame);

    engine::Server& server_;
    Sessions& sessions_;
};

}  // namespace wspush::server
