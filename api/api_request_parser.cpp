#include "api/api_request_parser.h"

#include <algorithm>
#include <cstring>

#include "api/api_base64.h"

namespace wspush::api {

namespace dom = simdjson::dom;

namespace {

constexpr size_t kMaxCloseReason = 123;  // RFC 6455 5.5: 125-byte control payload minus the code

bool fail(ApiError* err, const char* message, const char* field = nullptr) {
    err->status = 400;
    err->message = message;
    err->field = field;
    return false;
}

ByteRef append(PushBatch& b, std::string_view s) {
    ByteRef r{static_cast<uint32_t>(b.arena.size()), static_cast<uint32_t>(s.size())};
    b.arena.append(s);
    return r;
}

// A field that must be a string when present. absent: *present = false.
bool optional_string(dom::object obj, const char* field, std::string_view* out, bool* present, ApiError* err) {
    dom::element v;
    *present = obj.at_key(field).get(v) == simdjson::SUCCESS;
    if (!*present) return true;
    if (v.get_string().get(*out) != simdjson::SUCCESS) return fail(err, "must be a string", field);
    return true;
}

// Where a PushBatch stood before a parse: a failed parse truncates back to it, so a batch is
// never left holding part of a rejected request.
struct BatchMark {
    size_t arena, uid_refs, items;
    explicit BatchMark(const PushBatch& b) : arena(b.arena.size()), uid_refs(b.uid_refs.size()), items(b.items.size()) {}
    bool rollback(PushBatch& b) const {
        b.arena.resize(arena);
        b.uid_refs.resize(uid_refs);
        b.items.resize(items);
        return false;
    }
};

}  // namespace

bool ApiRequestParser::valid_uid(std::string_view s) const {
    return !s.empty() && s.size() <= max_name_len_ && s.find(':') == std::string_view::npos;
}

bool ApiRequestParser::parse_document(const uint8_t* body, size_t len, dom::element* doc, ApiError* err) {
    if (len + simdjson::SIMDJSON_PADDING > padded_cap_) {
        padded_cap_ = len + simdjson::SIMDJSON_PADDING;
        padded_.reset(new char[padded_cap_]);
    }
    if (len) memcpy(padded_.get(), body, len);
    memset(padded_.get() + len, 0, simdjson::SIMDJSON_PADDING);
    if (parser_.parse(padded_.get(), len, false).get(*doc) != simdjson::SUCCESS)
        return fail(err, "body is not valid JSON (RFC 8259, UTF-8)");
    return true;
}

bool ApiRequestParser::read_uid_array(dom::element v, PushBatch& out, PushItem& item, ApiError* err) {
    dom::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) return fail(err, "must be an array of strings", "uids");
    item.target = PushTarget::Uids;
    item.uids_begin = static_cast<uint32_t>(out.uid_refs.size());
    for (dom::element u : arr) {
        std::string_view uid;
        if (u.get_string().get(uid) != simdjson::SUCCESS) return fail(err, "must be an array of strings", "uids");
        if (!valid_uid(uid)) return fail(err, "each uid must be 1..max-uid-len bytes without ':'", "uids");
        out.uid_refs.push_back(append(out, uid));
    }
    if (out.uid_refs.size() == item.uids_begin) return fail(err, "must name at least one uid", "uids");
    // A uid listed twice gets the message once: a backend expects one delivery per uid. Sort
    // the refs by their bytes and drop repeats, in place: O(k log k) for k uids, no allocation
    // (the repeated bytes stay in the arena, unreferenced). Delivery order is then byte order.
    auto first = out.uid_refs.begin() + item.uids_begin;
    auto less = [&out](ByteRef a, ByteRef b) { return out.view(a) < out.view(b); };
    auto same = [&out](ByteRef a, ByteRef b) { return out.view(a) == out.view(b); };
    std::sort(first, out.uid_refs.end(), less);
    out.uid_refs.erase(std::unique(first, out.uid_refs.end(), same), out.uid_refs.end());
    item.uids_count = static_cast<uint32_t>(out.uid_refs.size()) - item.uids_begin;
    return true;
}

// The target fields must agree with where the target comes from: a body whose path names the
// target (broadcast, group push) carrying a uid would otherwise reach everyone in silence.
bool ApiRequestParser::read_target(dom::object obj, PushTargetsAllowed targets, PushItem& item, PushBatch& out,
                                   ApiError* err) {
    dom::element uid_v, uids_v, group_v;
    const bool has_uid = obj.at_key("uid").get(uid_v) == simdjson::SUCCESS;
    const bool has_uids = obj.at_key("uids").get(uids_v) == simdjson::SUCCESS;
    const bool has_group = obj.at_key("group").get(group_v) == simdjson::SUCCESS;
    const char* named_field = has_uid ? "uid" : has_uids ? "uids" : has_group ? "group" : nullptr;
    if (targets == kTargetFromPath) {
        if (!named_field) return true;
        return fail(err, "the path names the target: uid, uids and group are not allowed", named_field);
    }
    if (targets == kTargetUidOrUids && has_group)
        return fail(err, "group is not allowed here (POST /v1/groups/{group}/push)", "group");
    if (has_uid + has_uids + has_group != 1) {
        return fail(err, targets == kTargetAny ? "exactly one of uid, uids, group is required"
                                               : "exactly one of uid, uids is required",
                    named_field);
    }
    if (has_uids) return read_uid_array(uids_v, out, item, err);
    std::string_view name;
    const char* field = has_uid ? "uid" : "group";
    if ((has_uid ? uid_v : group_v).get_string().get(name) != simdjson::SUCCESS)
        return fail(err, "must be a string", field);
    if (has_uid && !valid_uid(name)) return fail(err, "uid must be 1..max-uid-len bytes without ':'", "uid");
    if (has_group && !valid_group(name)) return fail(err, "group must be 1..max-uid-len bytes", "group");
    item.target = has_uid ? PushTarget::Uid : PushTarget::Group;
    item.name = append(out, name);
    return true;
}

bool ApiRequestParser::parse_item(dom::element e, PushTargetsAllowed targets, PushBatch& out, ApiError* err) {
    dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return fail(err, "a push must be a JSON object");
    PushItem item;
    if (!read_target(obj, targets, item, out, err)) return false;
    dom::element v;
    if (obj.at_key("binary").get(v) == simdjson::SUCCESS && v.get_bool().get(item.binary) != simdjson::SUCCESS)
        return fail(err, "must be true or false", "binary");
    std::string_view message;
    bool has_message;
    if (!optional_string(obj, "message", &message, &has_message, err)) return false;
    if (!has_message) return fail(err, "message is required", "message");
    if (item.binary) {
        size_t start = out.arena.size();
        if (!base64_decode(message, out.arena)) return fail(err, "binary message must be base64", "message");
        item.message = {static_cast<uint32_t>(start), static_cast<uint32_t>(out.arena.size() - start)};
    } else {
        item.message = append(out, message);  // simdjson has checked UTF-8: a valid text frame
    }
    out.items.push_back(item);
    return true;
}

bool ApiRequestParser::parse_push(const uint8_t* body, size_t len, PushTargetsAllowed targets, PushBatch& out,
                                  ApiError* err) {
    BatchMark mark(out);
    dom::element doc;
    if (!parse_document(body, len, &doc, err) || !parse_item(doc, targets, out, err)) return mark.rollback(out);
    return true;
}

bool ApiRequestParser::parse_batch(const uint8_t* body, size_t len, bool ndjson, PushBatch& out, ApiError* err) {
    BatchMark mark(out);
    if (!read_batch(body, len, ndjson, out, err)) return mark.rollback(out);
    return true;
}

bool ApiRequestParser::read_batch(const uint8_t* body, size_t len, bool ndjson, PushBatch& out, ApiError* err) {
    if (!ndjson) {
        dom::element doc;
        dom::array arr;
        if (!parse_document(body, len, &doc, err)) return false;
        if (doc.get_array().get(arr) != simdjson::SUCCESS)
            return fail(err, "a batch is a JSON array of pushes (or NDJSON)");
        long index = 0;
        for (dom::element e : arr) {
            if (!parse_item(e, kTargetAny, out, err)) return err->index = index, false;
            ++index;
        }
        return true;
    }
    // NDJSON: each line its own document (RFC 7464-like framing, without the RS byte).
    std::string_view text(reinterpret_cast<const char*>(body), len);
    long index = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        dom::element doc;
        if (!parse_document(reinterpret_cast<const uint8_t*>(line.data()), line.size(), &doc, err) ||
            !parse_item(doc, kTargetAny, out, err))
            return err->index = index, false;
        ++index;
    }
    return true;
}

bool ApiRequestParser::parse_uid_list(const uint8_t* body, size_t len, std::vector<std::string_view>& uids,
                                      ApiError* err) {
    dom::element doc, v;
    dom::array arr;
    if (!parse_document(body, len, &doc, err)) return false;
    if (doc.at_key("uids").get(v) != simdjson::SUCCESS) return fail(err, "uids is required", "uids");
    if (v.get_array().get(arr) != simdjson::SUCCESS) return fail(err, "must be an array of strings", "uids");
    uids.clear();
    for (dom::element u : arr) {
        std::string_view uid;
        if (u.get_string().get(uid) != simdjson::SUCCESS) return fail(err, "must be an array of strings", "uids");
        uids.push_back(uid);
    }
    return true;
}

bool ApiRequestParser::parse_member(const uint8_t* body, size_t len, std::string_view* uid, ApiError* err) {
    dom::element doc, v;
    if (!parse_document(body, len, &doc, err)) return false;
    if (doc.type() != dom::element_type::OBJECT) return fail(err, "body must be a JSON object");
    if (doc.at_key("uid").get(v) != simdjson::SUCCESS) return fail(err, "uid is required", "uid");
    if (v.get_string().get(*uid) != simdjson::SUCCESS) return fail(err, "must be a string", "uid");
    if (!valid_uid(*uid)) return fail(err, "uid must be 1..max-uid-len bytes without ':'", "uid");
    return true;
}

bool ApiRequestParser::parse_kick(const uint8_t* body, size_t len, KickRequest* kick, ApiError* err) {
    *kick = KickRequest{};
    if (len == 0) return true;
    dom::element doc, v;
    if (!parse_document(body, len, &doc, err)) return false;
    if (doc.type() != dom::element_type::OBJECT) return fail(err, "body must be a JSON object");
    if (doc.at_key("code").get(v) == simdjson::SUCCESS) {
        int64_t code;
        // RFC 6455 7.4: 1000 is a normal close; 3000-3999 registered, 4000-4999 private use.
        // 1001-2999 are the protocol's own codes, which an application must not forge.
        if (v.get_int64().get(code) != simdjson::SUCCESS || !(code == 1000 || (code >= 3000 && code <= 4999)))
            return fail(err, "code must be 1000 or 3000-4999", "code");
        kick->code = static_cast<uint16_t>(code);
    }
    if (doc.at_key("reason").get(v) == simdjson::SUCCESS) {
        if (v.get_string().get(kick->reason) != simdjson::SUCCESS) return fail(err, "must be a string", "reason");
        if (kick->reason.size() > kMaxCloseReason) return fail(err, "reason must be at most 123 bytes", "reason");
    }
    return true;
}

}  // namespace wspush::api
