// BusMessage: what nodes say to each other over Redis pub/sub. Binary-safe (uids and payloads
// are arbitrary bytes), little-endian, length-prefixed; no text parsing on the hot path.
//
//   "WSP1" | type (1 byte) | origin node id (str) | fields of the type
//   str = u32 length + bytes;  u8/u16/u64 fixed width;  list = u32 count + entries
//
//   type            fields                                  channel
//   U to uid        op u8, uid str, payload str             node channel of each holder
//   M to uids       op u8, list of uid str, payload str     node channel (the node's uids only)
//   A to all        op u8, payload str                      all channel
//   G to group      op u8, group str, payload str           node channel of nodes with members
//   K kick          uid str, code u16, reason str           node channel of each holder
//   H heartbeat     list of u64 (stats, see NodeStats)      control channel (own links), every period
//   P presence      list of (uid str, count u64)            all channel: uid has count conns on origin
//   S snapshot      flags u8 (1 = first), list (uid, count) all channel / asker's node channel
//   h hello         -                                       all channel / a node channel
//   J group join    group str, uid str                      all channel
//   j group leave   group str, uid str                      all channel
//   D group delete  group str                               all channel
//   Y group state   list of (group str, uid str)            like S
//   p probe         -                                       own node channel; all channel when on
//                                                           another shard (data links' liveness)
//
// Contract: parse_bus_message returns true only for a whole, well-formed message (every length
// inside the buffer, no trailing bytes, known type), filling views into the buffer; false
// otherwise (the caller counts and drops it). Lists are checked whole before any is used.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wspush::cluster {

enum class BusType : uint8_t {
    ToUid = 'U', ToUids = 'M', ToAll = 'A', ToGroup = 'G', Kick = 'K', Heartbeat = 'H', Presence = 'P',
    Snapshot = 'S', Hello = 'h', GroupJoin = 'J', GroupLeave = 'j', GroupDelete = 'D', GroupState = 'Y',
    Probe = 'p',
};

// The entries of a list field, already validated: next() walks them.
struct BusList {
    std::string_view bytes;  // the entries, without the count
    uint32_t count = 0;
    enum class Shape : uint8_t { Strings, StringU64, StringPairs, U64s } shape = Shape::Strings;
};

struct BusMessage {
    BusType type{};
    std::string_view origin;
    uint8_t op = 0;            // codec::Opcode value (1 text, 2 binary)
    std::string_view name;     // uid or group
    std::string_view name2;    // uid of a group join/leave; kick reason
    std::string_view payload;
    uint16_t code = 0;         // kick close code
    uint8_t flags = 0;         // snapshot
    BusList list;
};

bool parse_bus_message(const uint8_t* data, size_t len, BusMessage* out);

// Reads list entries in order; each returns false after the last.
class BusListReader {
public:
    explicit BusListReader(const BusList& l) : p_(l.bytes.data()), end_(p_ + l.bytes.size()) {}
    bool next_str(std::string_view* s);
    bool next_u64(uint64_t* v);

private:
    const char* p_;
    const char* end_;
};

// Builds one message in a reused buffer: begin(), fields, then bytes(). No allocation once
// the buffer has grown to the largest message.
class BusWriter {
public:
    void begin(BusType t, std::string_view origin);
    void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
    void u16(uint16_t v);
    void u32(uint32_t v);
    void u64(uint64_t v);
    void str(std::string_view s);
    // One length-prefixed string made of head + sep + tail (a marked message: "<sender>:<data>"),
    // written without building it first. sep is left out when head is empty.
    void str_joined(std::string_view head, char sep, std::string_view tail);
    // A list whose count is patched in later: start_list() returns its offset.
    size_t start_list();
    void end_list(size_t at, uint32_t count);
    size_t size() const { return buf_.size(); }
    std::string_view bytes() const { return buf_; }

private:
    std::string buf_;
};

}  // namespace wspush::cluster
