// libFuzzer target for api/api_request_parser: every kind of request body of the push API.
// Input: byte 0 picks the body kind (push to uid/uids, push whose path names the target, batch
// as a JSON array, batch as NDJSON, presence uid list, group member, kick); byte 1 the
// max uid length (1..32, so length limits are reached); the rest is the body.
// Invariants (abort on violation):
//   the parser accepts a body exactly when a reference accepts it: simdjson's own parse, then
//     the documented fields checked plainly here (first occurrence of a key wins, as at_key);
//   what it accepts is what the reference read: targets, names, messages (binary ones agree
//     with base64_decode, which fuzz_base64 checks against its own reference), and a uid list
//     that is non-empty, distinct and equal as a set to the uids of the body;
//   every error has status 400 and a message (and a batch error an item index in range), and
//     leaves the PushBatch exactly as it was, whatever it held before.
// The parser and the batch are reused across inputs, as HttpApi reuses them.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_base64.h"
#include "api/api_request_parser.h"

using namespace wspush::api;
namespace dom = simdjson::dom;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

enum Kind : uint8_t { kPush, kPushFromPath, kBatchArray, kBatchNdjson, kUidList, kMember, kKick, kKinds };

// The reference's reading of one push.
struct RefItem {
    PushTarget target = PushTarget::All;
    bool binary = false;
    std::string name;
    std::set<std::string> uids;
    std::string message;
};

// First occurrence of a key (dom::object::at_key's rule), found by walking the fields.
bool field(dom::object obj, std::string_view key, dom::element* out) {
    for (dom::key_value_pair kv : obj) {
        if (kv.key == key) {
            *out = kv.value;
            return true;
        }
    }
    return false;
}

bool ref_uid_ok(std::string_view s, size_t max) { return !s.empty() && s.size() <= max && s.find(':') == s.npos; }

bool ref_item(dom::element e, PushTargetsAllowed targets, size_t max, RefItem* it) {
    if (e.type() != dom::element_type::OBJECT) return false;
    dom::object obj = e.get_object().value_unsafe();
    dom::element uid, uids, group, message, binary;
    bool has_uid = field(obj, "uid", &uid), has_uids = field(obj, "uids", &uids), has_group = field(obj, "group", &group);
    if (targets == kTargetFromPath && (has_uid || has_uids || has_group)) return false;
    if (targets == kTargetUidOrUids && has_group) return false;
    if (targets != kTargetFromPath && has_uid + has_uids + has_group != 1) return false;
    if (has_uid) {
        if (uid.type() != dom::element_type::STRING) return false;
        it->name = std::string(uid.get_string().value_unsafe());
        if (!ref_uid_ok(it->name, max)) return false;
        it->target = PushTarget::Uid;
    } else if (has_group) {
        if (group.type() != dom::element_type::STRING) return false;
        it->name = std::string(group.get_string().value_unsafe());
        if (it->name.empty() || it->name.size() > max) return false;
        it->target = PushTarget::Group;
    } else if (has_uids) {
        if (uids.type() != dom::element_type::ARRAY) return false;
        dom::array arr = uids.get_array().value_unsafe();  // a named copy: range-for over a temporary result dangles
        for (dom::element u : arr) {
            if (u.type() != dom::element_type::STRING) return false;
            std::string s(u.get_string().value_unsafe());
            if (!ref_uid_ok(s, max)) return false;
            it->uids.insert(s);
        }
        if (it->uids.empty()) return false;
        it->target = PushTarget::Uids;
    }
    if (field(obj, "binary", &binary)) {
        if (binary.type() != dom::element_type::BOOL) return false;
        it->binary = binary.get_bool().value_unsafe();
    }
    if (!field(obj, "message", &message) || message.type() != dom::element_type::STRING) return false;
    std::string_view text = message.get_string().value_unsafe();
    if (it->binary) return base64_decode(text, it->message);
    it->message = std::string(text);
    return true;
}

// A copy of a batch, to compare before and after a failed parse.
struct Snapshot {
    std::string arena;
    std::vector<std::pair<uint32_t, uint32_t>> refs;
    size_t items;
    explicit Snapshot(const PushBatch& b) : arena(b.arena), items(b.items.size()) {
        for (ByteRef r : b.uid_refs) refs.emplace_back(r.off, r.len);
    }
    bool same(const PushBatch& b) const {
        if (b.arena != arena || b.items.size() != items || b.uid_refs.size() != refs.size()) return false;
        for (size_t i = 0; i < refs.size(); ++i)
            if (b.uid_refs[i].off != refs[i].first || b.uid_refs[i].len != refs[i].second) return false;
        return true;
    }
};

void check_error(const ApiError& err) {
    CHECK(err.status == 400);
    CHECK(err.message != nullptr && err.message[0] != '\0');
}

void check_items(const PushBatch& b, size_t first, const std::vector<RefItem>& want) {
    CHECK(b.items.size() == first + want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        const PushItem& got = b.items[first + i];
        const RefItem& w = want[i];
        CHECK(got.target == w.target && got.binary == w.binary);
        CHECK(b.view(got.message) == w.message);
        if (w.target == PushTarget::Uid || w.target == PushTarget::Group) CHECK(b.view(got.name) == w.name);
        if (w.target != PushTarget::Uids) continue;
        CHECK(got.uids_count > 0 && got.uids_begin + got.uids_count <= b.uid_refs.size());
        std::vector<std::string_view> uids;
        for (uint32_t k = 0; k < got.uids_count; ++k) uids.push_back(b.view(b.uid_refs[got.uids_begin + k]));
        std::sort(uids.begin(), uids.end());
        CHECK(std::adjacent_find(uids.begin(), uids.end()) == uids.end());  // one delivery per uid
        CHECK(uids.size() == w.uids.size() && std::equal(uids.begin(), uids.end(), w.uids.begin()));
    }
}

// Parses `text` with simdjson directly (the reference's own parser).
bool ref_parse(dom::parser& p, std::string_view text, dom::element* doc) {
    return p.parse(simdjson::padded_string(text)).get(*doc) == simdjson::SUCCESS;
}

void check_pushes(ApiRequestParser& parser, PushBatch& batch, Kind kind, std::string_view body, size_t max) {
    static dom::parser ref;
    const auto* bytes = reinterpret_cast<const uint8_t*>(body.data());
    Snapshot before(batch);
    size_t first = batch.items.size();
    ApiError err;
    bool ok;
    std::vector<RefItem> want;
    bool ref_ok = true;
    long ref_index = -1;  // the item a batch error should name
    if (kind == kPush || kind == kPushFromPath) {
        PushTargetsAllowed t = kind == kPush ? kTargetUidOrUids : kTargetFromPath;
        ok = parser.parse_push(bytes, body.size(), t, batch, &err);
        dom::element doc;
        want.emplace_back();
        ref_ok = ref_parse(ref, body, &doc) && ref_item(doc, t, max, &want.back());
    } else if (kind == kBatchArray) {
        ok = parser.parse_batch(bytes, body.size(), false, batch, &err);
        dom::element doc;
        ref_ok = ref_parse(ref, body, &doc) && doc.type() == dom::element_type::ARRAY;
        if (ref_ok) {
            dom::array arr = doc.get_array().value_unsafe();
            for (dom::element e : arr) {
                want.emplace_back();
                if (!ref_item(e, kTargetAny, max, &want.back())) {
                    ref_ok = false;
                    ref_index = static_cast<long>(want.size()) - 1;
                    break;
                }
            }
        }
    } else {
        ok = parser.parse_batch(bytes, body.size(), true, batch, &err);
        std::string_view rest = body;
        while (ref_ok && !rest.empty()) {
            size_t nl = rest.find('\n');
            std::string_view line = rest.substr(0, nl);
            rest = nl == rest.npos ? std::string_view{} : rest.substr(nl + 1);
            if (line.find_first_not_of(" \t\r") == line.npos) continue;
            dom::element doc;
            want.emplace_back();
            if (!ref_parse(ref, line, &doc) || !ref_item(doc, kTargetAny, max, &want.back())) {
                ref_ok = false;
                ref_index = static_cast<long>(want.size()) - 1;
            }
        }
    }
    CHECK(ok == ref_ok);  // never accepts what the reference rejects, nor the reverse
    if (!ok) {
        check_error(err);
        CHECK(before.same(batch));  // nothing of a rejected body is kept
        if (kind == kBatchArray || kind == kBatchNdjson) CHECK(err.index == ref_index);
        return;
    }
    check_items(batch, first, want);
}

void check_uid_list(ApiRequestParser& parser, std::string_view body) {
    static dom::parser ref;
    std::vector<std::string_view> uids = {"stale"};
    ApiError err;
    bool ok = parser.parse_uid_list(reinterpret_cast<const uint8_t*>(body.data()), body.size(), uids, &err);
    dom::element doc, list;
    bool ref_ok = ref_parse(ref, body, &doc) && doc.type() == dom::element_type::OBJECT &&
                  field(doc.get_object().value_unsafe(), "uids", &list) && list.type() == dom::element_type::ARRAY;
    std::vector<std::string> want;
    if (ref_ok) {
        dom::array arr = list.get_array().value_unsafe();
        for (dom::element u : arr) {
            if (u.type() != dom::element_type::STRING) {
                ref_ok = false;
                break;
            }
            want.emplace_back(u.get_string().value_unsafe());
        }
    }
    CHECK(ok == ref_ok);
    if (!ok) return check_error(err);
    CHECK(uids.size() == want.size() && std::equal(uids.begin(), uids.end(), want.begin()));  // request order
}

void check_member(ApiRequestParser& parser, std::string_view body, size_t max) {
    static dom::parser ref;
    std::string_view uid;
    ApiError err;
    bool ok = parser.parse_member(reinterpret_cast<const uint8_t*>(body.data()), body.size(), &uid, &err);
    dom::element doc, v;
    bool ref_ok = ref_parse(ref, body, &doc) && doc.type() == dom::element_type::OBJECT &&
                  field(doc.get_object().value_unsafe(), "uid", &v) && v.type() == dom::element_type::STRING &&
                  ref_uid_ok(v.get_string().value_unsafe(), max);
    CHECK(ok == ref_ok);
    if (!ok) return check_error(err);
    CHECK(uid == v.get_string().value_unsafe());
}

void check_kick(ApiRequestParser& parser, std::string_view body) {
    static dom::parser ref;
    KickRequest kick;
    ApiError err;
    bool ok = parser.parse_kick(reinterpret_cast<const uint8_t*>(body.data()), body.size(), &kick, &err);
    if (body.empty()) {
        CHECK(ok && kick.code == 1000 && kick.reason.empty());
        return;
    }
    dom::element doc, code, reason;
    int64_t want_code = 1000;
    std::string_view want_reason;
    bool ref_ok = ref_parse(ref, body, &doc) && doc.type() == dom::element_type::OBJECT;
    if (ref_ok && field(doc.get_object().value_unsafe(), "code", &code)) {
        // An integer that fits int64: 1000, or 3000-4999 (RFC 6455 7.4.2, registered and private).
        ref_ok = code.type() == dom::element_type::INT64;
        if (ref_ok) want_code = code.get_int64().value_unsafe();
        ref_ok = ref_ok && (want_code == 1000 || (want_code >= 3000 && want_code <= 4999));
    }
    if (ref_ok && field(doc.get_object().value_unsafe(), "reason", &reason)) {
        ref_ok = reason.type() == dom::element_type::STRING;
        if (ref_ok) want_reason = reason.get_string().value_unsafe();
        ref_ok = ref_ok && want_reason.size() <= 123;  // a close frame's payload is 125 bytes
    }
    CHECK(ok == ref_ok);
    if (!ok) return check_error(err);
    CHECK(kick.code == want_code && kick.reason == want_reason);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    Kind kind = static_cast<Kind>(data[0] % kKinds);
    size_t max = 1 + data[1] % 32;
    // One parser per max length, reused across inputs (its buffers grow and are reused).
    static std::vector<ApiRequestParser> parsers;
    if (parsers.empty())
        for (size_t m = 1; m <= 32; ++m) parsers.emplace_back(m);
    ApiRequestParser& parser = parsers[max - 1];
    // A batch that already holds an item: a failed parse must leave it as it was.
    static PushBatch batch;
    if (batch.items.size() > 64) batch.clear();
    if (batch.items.empty()) {
        ApiError err;
        const char seed[] = R"({"uids":["b","a","b"],"message":"held"})";
        CHECK(parsers[31].parse_push(reinterpret_cast<const uint8_t*>(seed), sizeof seed - 1, kTargetUidOrUids,
                                     batch, &err));
    }
    // An exact-size heap copy: ASan catches any read past the end.
    std::vector<char> buf(data + 2, data + size);
    std::string_view body(buf.data(), buf.size());
    switch (kind) {
        case kPush:
        case kPushFromPath:
        case kBatchArray:
        case kBatchNdjson: check_pushes(parser, batch, kind, body, max); break;
        case kUidList: check_uid_list(parser, body); break;
        case kMember: check_member(parser, body, max); break;
        case kKick: check_kick(parser, body); break;
        case kKinds: break;
    }
    return 0;
}
