// HttpApi: the push endpoints. Every one parses the whole body into batch_ first (nothing
// is sent if any item is invalid), then delivers through the Router, which encodes each
// message once whatever the number of recipients.
#include "codec/http_status.h"
#include "api/api_json_writer.h"
#include "api/http_api.h"
#include "server/push_service.h"

namespace wspush::api {

using namespace wspush::server;  // the service this API drives

size_t HttpApi::deliver(const PushItem& item) {
    std::string_view msg = batch_.view(item.message);
    Outgoing m{item.binary ? codec::Opcode::Binary : codec::Opcode::Text,
               reinterpret_cast<const uint8_t*>(msg.data()), msg.size()};
    Router& router = service_.router();
    size_t n = 0;
    switch (item.target) {
        case PushTarget::Uid: n = router.to_uid(batch_.view(item.name), m); break;
        case PushTarget::Group: n = router.to_group(batch_.view(item.name), m); break;
        case PushTarget::All: n = router.to_all(m); break;
        case PushTarget::Uids: {
            // Views into the arena, now stable: parsing is over. Reused vector: no allocation.
            // Distinct uids (the parser deduplicates), so each uid's connections get one copy.
            uids_.clear();
            for (uint32_t i = 0; i < item.uids_count; ++i) uids_.push_back(batch_.view(batch_.uid_refs[item.uids_begin + i]));
            n = router.to_uids(uids_.data(), uids_.size(), m);
            break;
        }
    }
    ServiceStats& st = service_.stats();
    ++st.api_messages;
    const RouteStatus& rs = router.status();
    st.routed(st.api, m.len, n, rs.remote);
    remote_ += rs.remote;
    if (rs.unavailable) unavailable_ = true;
    return n;
}

// The push answer: {"delivered": n} (connections queued to on this node), in a cluster with
// "remote" (connections on other nodes it was sent toward); 503 "cluster unavailable" when a
// part of it needed another node and Redis could not take it: "delivered" says what got out.
int HttpApi::push_answer(size_t delivered) {
    JsonWriter w(out_);
    w.raw("{");
    if (unavailable_) w.key("error").str("cluster unavailable").raw(",");
    w.key("delivered").num(delivered);
    if (service_.cluster()) w.raw(",").key("remote").num(remote_);
    if (results_.empty()) {
        w.raw("}\n");
    } else {
        w.raw(",").key("results").raw("[");
        for (size_t i = 0; i < results_.size(); ++i) {
            if (i) w.raw(",");
            w.num(results_[i]);
        }
        w.raw("]}\n");
    }
    if (!unavailable_) return codec::kHttpOk;
    ++metrics_.cluster_unavailable;
    return codec::kHttpServiceUnavailable;
}

// One push: parsed (its target from the body, or, where the route names the target, `route`
// and `name`), delivered, answered {"delivered": n}.
int HttpApi::push_one(const uint8_t* body, size_t len, PushTargetsAllowed targets, PushTarget route,
                      std::string_view name) {
    batch_.clear();
    ApiError err;
    if (!parser_.parse_push(body, len, targets, batch_, &err)) return error(err);
    PushItem& item = batch_.items[0];
    if (targets == kTargetFromPath) {
        item.target = route;
        item.name = {static_cast<uint32_t>(batch_.arena.size()), static_cast<uint32_t>(name.size())};
        batch_.arena.append(name);
    }
    remote_ = 0;
    unavailable_ = false;
    results_.clear();
    return push_answer(deliver(item));
}

int HttpApi::push(const uint8_t* body, size_t len) {
    return push_one(body, len, kTargetUidOrUids, PushTarget::Uid, {});  // target: the body's
}

// {"delivered": total, "results": [per item, in order]}
int HttpApi::push_batch(const codec::HttpRequest& req, const uint8_t* body, size_t len) {
    batch_.clear();
    ApiError err;
    std::string_view type = req.header("Content-Type");
    constexpr std::string_view kNdjson = "application/x-ndjson";
    bool ndjson = type.size() >= kNdjson.size() && codec::ascii_iequals(type.substr(0, kNdjson.size()), kNdjson);
    if (!parser_.parse_batch(body, len, ndjson, batch_, &err)) return error(err);
    // The results are written after the total; deliver into a reused results list first.
    size_t total = 0;
    results_.clear();
    remote_ = 0;
    unavailable_ = false;
    for (const PushItem& item : batch_.items) {
        size_t n = deliver(item);
        total += n;
        results_.push_back(n);
    }
    return push_answer(total);
}

int HttpApi::broadcast(const uint8_t* body, size_t len) {
    return push_one(body, len, kTargetFromPath, PushTarget::All, {});
}

int HttpApi::group_push(const uint8_t* body, size_t len) {
    if (!parser_.valid_group(match_.group)) return error(codec::kHttpBadRequest, "group name longer than max-uid-len");
    return push_one(body, len, kTargetFromPath, PushTarget::Group, match_.group);
}

}  // namespace wspush::api
