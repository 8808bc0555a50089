// HttpApi: group membership (GatewayWorker's joinGroup / leaveGroup / ungroup / getClientCountByGroup).
// Groups hold uids: "add uid to group" makes the uid a member, so its connections on any node,
// open now or opened later, receive the group's pushes until it leaves. "joined", "left" and
// "members" count online connections (as when groups held connections), "removed" member uids.
// In a cluster a change reaches every node, or, when Redis is unavailable, none (503).
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

// Online connections of uid: here, and in a cluster on every node.
uint64_t HttpApi::uid_connections(std::string_view uid) {
    if (ClusterRouter* cl = service_.cluster()) {
        ClusterPresence p = cl->presence(uid);
        return p.local + p.remote;
    }
    return live_connections(uid);
}

// O(members): an admin query.
uint64_t HttpApi::group_connections(std::string_view group) {
    const registry::UidGroups::Members* members = service_.sessions().groups().members(group);
    uint64_t n = 0;
    if (members)
        for (const std::string& uid : *members) n += uid_connections(uid);
    return n;
}

int HttpApi::cluster_unavailable() {
    ++metrics_.cluster_unavailable;
    return error(codec::kHttpServiceUnavailable, "cluster unavailable");
}

// {"group", "connections", "uid_count", "offset", "limit", "uids": [page of member uids, sorted]}
// O(m log m) for m members (collect, sort): an admin query, not a hot path.
int HttpApi::group_get(const codec::HttpRequest& req) {
    size_t offset, limit;
    if (!query_number(req.query, "offset", 0, &offset)) return error(codec::kHttpBadRequest, "offset must be a number");
    if (!query_number(req.query, "limit", kDefaultPage, &limit) || limit == 0 || limit > kMaxPage)
        return error(codec::kHttpBadRequest, "limit must be 1-1000");
    const registry::UidGroups::Members* members = service_.sessions().groups().members(match_.group);
    uids_.clear();
    if (members)
        for (const std::string& uid : *members) uids_.push_back(uid);
    std::sort(uids_.begin(), uids_.end());
    JsonWriter w(out_);
    w.raw("{").key("group").str(match_.group).raw(",").key("connections").num(group_connections(match_.group));
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
    size_t removed = 0;
    if (ClusterRouter* cl = service_.cluster()) {
        if (!cl->group_delete(match_.group, &removed)) return cluster_unavailable();
    } else {
        removed = service_.sessions().groups().ungroup(match_.group);
    }
    JsonWriter(out_).raw("{").key("group").str(match_.group).raw(",").key("removed").num(removed).raw("}\n");
    return codec::kHttpOk;
}

// {"group", "uid", "joined": the uid's online connections if it was not a member, else 0,
//  "members": online connections of the group's members}
int HttpApi::group_member_add(const uint8_t* body, size_t len) {
    std::string_view uid;
    ApiError err;
    if (!parser_.valid_group(match_.group)) return error(codec::kHttpBadRequest, "group name longer than max-uid-len");
    if (!parser_.parse_member(body, len, &uid, &err)) return error(err);
    bool joined = false;
    if (ClusterRouter* cl = service_.cluster()) {
        if (!cl->group_join(match_.group, uid, &joined)) return cluster_unavailable();
    } else {
        joined = service_.sessions().groups().join(match_.group, uid);
    }
    JsonWriter w(out_);
    w.raw("{").key("group").str(match_.group).raw(",").key("uid").str(uid);
    w.raw(",").key("joined").num(joined ? uid_connections(uid) : 0);
    w.raw(",").key("members").num(group_connections(match_.group));
    w.raw("}\n");
    return codec::kHttpOk;
}

int HttpApi::group_member_remove() {
    bool left = false;
    if (ClusterRouter* cl = service_.cluster()) {
        if (!cl->group_leave(match_.group, match_.uid, &left)) return cluster_unavailable();
    } else {
        left = service_.sessions().groups().leave(match_.group, match_.uid);
    }
    JsonWriter w(out_);
    w.raw("{").key("group").str(match_.group).raw(",").key("uid").str(match_.uid);
    w.raw(",").key("left").num(left ? uid_connections(match_.uid) : 0);
    w.raw(",").key("members").num(group_connections(match_.group));
    w.raw("}\n");
    return codec::kHttpOk;
}

}  // namespace wspush::api
