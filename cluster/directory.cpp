#include "cluster/directory.h"

namespace wspush::cluster {

const char* node_stat_name(NodeStat s) {
    static const char* const names[] = {"connections",      "websockets",   "online_connections",
                                        "online_uids",      "logins",       "client_messages",
                                        "api_messages",     "deliveries",   "dropped_offline",
                                        "bus_messages_in",  "bus_bytes_in", "bus_messages_out",
                                        "bus_bytes_out",    "uptime_seconds"};
    static_assert(sizeof(names) / sizeof(names[0]) == kStatCount);
    return names[s];
}

size_t Directory::find_node(std::string_view id) const {
    for (size_t i = 0; i < nodes_.size(); ++i)  // a few nodes: a scan beats a map
        if (nodes_[i].alive && nodes_[i].id == id) return i;
    return SIZE_MAX;
}

size_t Directory::touch_node(std::string_view id, uint32_t now_ms) {
    size_t i = find_node(id);
    if (i == SIZE_MAX) {
        for (i = 0; i < nodes_.size() && nodes_[i].alive; ++i) {}
        if (i == nodes_.size()) {
            if (nodes_.size() >= kMaxNodes) return SIZE_MAX;
            nodes_.emplace_back();
        }
        nodes_[i] = NodeInfo{};
        nodes_[i].id = std::string(id);
        nodes_[i].alive = true;
        nodes_[i].asked_ms = now_ms;
    }
    nodes_[i].last_heard_ms = now_ms;
    return i;
}

void Directory::heard(std::string_view id, uint32_t now_ms) {
    size_t i = find_node(id);
    if (i != SIZE_MAX) nodes_[i].last_heard_ms = now_ms;
}

void Directory::forget_node(size_t index) {
    clear_node(index);
    nodes_[index] = NodeInfo{};
}

void Directory::clear_node(size_t node) {
    // O(uids): a node's snapshot or death is rare next to the messages it saves.
    for (auto it = uids_.begin(); it != uids_.end();) {
        auto& hs = it->second;
        for (size_t j = 0; j < hs.size(); ++j) {
            if (hs[j].node != node) continue;
            hs[j] = hs.back();
            hs.pop_back();
            break;
        }
        it = hs.empty() ? uids_.erase(it) : std::next(it);
    }
}

void Directory::expire(uint32_t now_ms, uint32_t timeout_ms, std::vector<std::string>* gone) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i].alive || now_ms - nodes_[i].last_heard_ms <= timeout_ms) continue;
        gone->push_back(nodes_[i].id);
        forget_node(i);
    }
}

void Directory::set(std::string_view uid, size_t node, uint32_t count) {
    auto it = uids_.find(uid);
    if (it == uids_.end()) {
        if (count == 0) return;
        uids_.emplace(std::string(uid), std::vector<Holder>{Holder{static_cast<uint16_t>(node), count}});
        return;
    }
    auto& hs = it->second;
    for (size_t j = 0; j < hs.size(); ++j) {
        if (hs[j].node != node) continue;
        if (count) {
            hs[j].count = count;
        } else {
            hs[j] = hs.back();
            hs.pop_back();
            if (hs.empty()) uids_.erase(it);
        }
        return;
    }
    if (count) hs.push_back(Holder{static_cast<uint16_t>(node), count});
}

const std::vector<Holder>* Directory::holders(std::string_view uid) const {
    auto it = uids_.find(uid);
    return it == uids_.end() ? nullptr : &it->second;
}

uint64_t Directory::remote_connections(std::string_view uid) const {
    uint64_t n = 0;
    if (const auto* hs = holders(uid))
        for (const Holder& h : *hs) n += h.count;
    return n;
}

bool Directory::all_fresh(uint32_t now_ms, uint32_t stale_ms) const {
    for (size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].alive && !fresh(i, now_ms, stale_ms)) return false;
    return true;
}

size_t Directory::live_nodes() const {
    size_t n = 0;
    for (const NodeInfo& ni : nodes_) n += ni.alive;
    return n;
}

}  // namespace wspush::cluster
