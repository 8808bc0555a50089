// HttpApi: group membership (GatewayWorker's joinGroup / leaveGroup / ungroup / getClientCountByGroup).
// Groups hold connections, not uids: "add uid to group" joins the uid's connections open now;
// a connection opened later by the same uid joins only when asked again.
#include <algorithm>
#include <charconv>

#include "codec/http_status.h"
#include "api/api_json_writer.h"
#include "api/http_api.h"
#include "server/push_service.h"

namespace wspush::api {

using namespace wspush::server;  // the service this API drives

namespace {

constexpr size_t kDefaultPage = 100;
constexpr size_t kMaxPage = 1000;

// A decimal query value; absent gives `fallback`. False when present but not a number.
bool query_number(std::string_view query, std::string_view name, size_t fallback, size_t* out) {
    std::string_view v = query_param(query, name);
    *out = fallback;
    if (v.empty()) return true;
    auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
    return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

}  // namespace

// {"group", "connections", "uid_count", "offset", "limit", "uids": [page of distinct uids, sorted]}
// O(m log m) for m members (collect, sort, dedupe): an admin query, not a hot path.
int HttpApi::group_get(const codec::HttpRequest& req) {
    size_t offset, limit;
    if (!query_number(req.query, "offset", 0, &offset)) return error(codec::kHttpBadRequest, "offset must be a number");
    if (!query_number(req.query, "limit", kDefaultPage, &limit) || limit == 0 || limit > kMaxPage)
        return error(codec::kHttpBadRequest, "limit must be 1-1000");
    Sessions& sessions = service_.sessions();
    engine::Server& srv = service_.server();
    registry::ConnSpan members = sessions.groups().members(match_.group);
    uids_.clear();
    for (registry::ConnId id : members)
        if (engine::Connection* c = srv.get(id)) uids_.push_back(Sessions::uid_of(*c));
    std::sort(uids_.begin(), uids_.end());
    uids_.erase(std::unique(uids_.begin(), uids_.end()), uids_.end());
    JsonWriter w(out_);
    w.raw("{").key("group").str(match_.group).raw(",").key("connections").num(members.size);
    w.raw(",").key("uid_count").num(uids_.size()).raw(",").key("offset").num(offset);
    w.raw(",").key("limit").num(limit).raw(",").key("uids").raw("[");
    for (size_t i = offset; i < uids_.size() && i < offset + limit; ++i) {
        if (i > offset) w.raw(",");
        w.str(uids_[i]);
    }
    w.raw("]}\n");
    return codec::kHttpOk;
}

int HttpApi::group_delete() {
    size_t removed = service_.sessions().groups().ungroup(match_.group);
    JsonWriter(out_).raw("{").key("group").str(match_.group).raw(",").key("removed").num(removed).raw("}\n");
    return codec::kHttpOk;
}

// {"group", "uid", "joined": connections newly added, "members": connections in the group}
int HttpApi::group_member_add(const uint8_t* body, size_t len) {
    std::string_view uid;
    ApiError err;
    if (!parser_.valid_group(match_.group)) return error(codec::kHttpBadRequest, "group name longer than max-uid-len");
    if (!parser_.parse_member(body, len, &uid, &err)) return error(err);
    Sessions& sessions = service_.sessions();
    size_t joined = 0;
    // join() changes the group table only, so the uid's span stays valid while we walk it.
    for (registry::ConnId id : sessions.uids().find(uid))
        joined += sessions.groups().join(match_.group, id) == registry::GroupTable::JoinResult::Joined;
    JsonWriter w(out_);
    w.raw("{").key("group").str(match_.group).raw(",").key("uid").str(uid);
    w.raw(",").key("joined").num(joined).raw(",").key("members").num(sessions.groups().group_size(match_.group));
    w.raw("}\n");
    return codec::kHttpOk;
}

int HttpApi::group_member_remove() {
    Sessions& sessions = service_.sessions();
    size_t left = 0;
    for (registry::ConnId id : sessions.uids().find(match_.uid)) left += sessions.groups().leave(match_.group, id);
    JsonWriter w(out_);
    w.raw("{").key("group").str(match_.group).raw(",").key("uid").str(match_.uid);
    w.raw(",").key("left").num(left).raw(",").key("members").num(sessions.groups().group_size(match_.group));
    w.raw("}\n");
    return codec::kHttpOk;
}

}  // namespace wspush::api
