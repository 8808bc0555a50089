// ApiRequestParser: JSON request bodies of the push API -> validated plain structs.
// simdjson (DOM) was chosen by measurement (bench/json_choice_bench.cpp, this 2-core Xeon,
// g++ 12 -O2): a 104-byte push body parses and is read in ~120 ns (nlohmann-json: ~1600 ns);
// a batch of 100 pushes in ~6 us (nlohmann-json: ~125 us). On-Demand was ~25% faster still but
// reads fields in document order only, which makes "validate everything first" awkward.
//
// Return contract (every parse_* function): true with the output filled, or false with *err
// set to a 400 and a message naming the field (and the item index in a batch), and a
// PushBatch exactly as it was before the call. Nothing is applied by parsing, so a handler
// that parses first never acts on half a request. A push's "uids" must be non-empty and come
// out deduplicated (sorted by bytes): one delivery per uid however often it is listed.
// A body whose path names the target (broadcast, group push) may not carry uid/uids/group.
//
// Costs: the body is copied once into a padded buffer (simdjson reads up to 64 bytes past the
// end); strings of a push are copied into PushBatch::arena so that NDJSON lines, each parsed
// separately, stay valid together. Both buffers are reused: no allocation once warm.
#pragma once
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wspush::api {

struct ApiError {
    int status = 400;
    const char* message = "";
    const char* field = nullptr;  // the offending JSON field, if one
    long index = -1;              // the offending item of a batch, if one
};

enum class PushTarget : uint8_t { Uid, Uids, Group, All };

// Which target fields a body may (and must, one of) carry.
enum PushTargetsAllowed : uint8_t {
    kTargetFromPath = 0,   // /v1/broadcast, /v1/groups/{g}/push: the path names the target
    kTargetUidOrUids = 1,  // /v1/push
    kTargetAny = 2,        // a batch item: uid, uids or group
};

struct ByteRef {
    uint32_t off = 0;
    uint32_t len = 0;
};

struct PushItem {
    PushTarget target = PushTarget::All;
    bool binary = false;
    ByteRef name;            // uid or group
    uint32_t uids_begin = 0; // Uids: uid_refs[uids_begin, uids_begin + uids_count)
    uint32_t uids_count = 0;
    ByteRef message;         // decoded bytes (base64 already undone for binary)
};

// One request's pushes. Views into `arena` are taken only after parsing is complete.
struct PushBatch {
    std::string arena;
    std::vector<ByteRef> uid_refs;
    std::vector<PushItem> items;

    void clear() {
        arena.clear();
        uid_refs.clear();
        items.clear();
    }
    std::string_view view(ByteRef r) const { return std::string_view(arena).substr(r.off, r.len); }
};

struct KickRequest {
    uint16_t code = 1000;
    std::string_view reason;  // valid until the next parse
};

class ApiRequestParser {
public:
    // Uids and group names longer than this are refused (the tables would refuse them too).
    explicit ApiRequestParser(size_t max_name_len) : max_name_len_(max_name_len) {}

    // One push object ({"uid"|"uids"|"group", "message", "binary"}) appended to out; a "uids"
    // item's uid_refs are distinct.
    bool parse_push(const uint8_t* body, size_t len, PushTargetsAllowed targets, PushBatch& out, ApiError* err);
    // A JSON array of push objects, or (ndjson) one push object per line; blank lines skipped.
    bool parse_batch(const uint8_t* body, size_t len, bool ndjson, PushBatch& out, ApiError* err);
    // {"uids": ["a", ...]} (presence). Views valid until the next parse.
    bool parse_uid_list(const uint8_t* body, size_t len, std::vector<std::string_view>& uids, ApiError* err);
    // {"uid": "a"} (group membership). View valid until the next parse.
    bool parse_member(const uint8_t* body, size_t len, std::string_view* uid, ApiError* err);
    // {"code": 4000, "reason": "..."}, both optional; an empty body is {}.
    bool parse_kick(const uint8_t* body, size_t len, KickRequest* kick, ApiError* err);

    // Whether s is a uid clients could have logged in with: 1..max bytes, no ':'.
    bool valid_uid(std::string_view s) const;
    bool valid_group(std::string_view s) const { return !s.empty() && s.size() <= max_name_len_; }
    size_t max_name_len() const { return max_name_len_; }

private:
    bool parse_document(const uint8_t* body, size_t len, simdjson::dom::element* doc, ApiError* err);
    bool read_batch(const uint8_t* body, size_t len, bool ndjson, PushBatch& out, ApiError* err);
    bool parse_item(simdjson::dom::element e, PushTargetsAllowed targets, PushBatch& out, ApiError* err);
    bool read_target(simdjson::dom::object obj, PushTargetsAllowed targets, PushItem& item, PushBatch& out,
                     ApiError* err);
    bool read_uid_array(simdjson::dom::element arr, PushBatch& out, PushItem& item, ApiError* err);

    size_t max_name_len_;
    simdjson::dom::parser parser_;
    std::unique_ptr<char[]> padded_;
    size_t padded_cap_ = 0;
};

}  // namespace wspush::api
