// libFuzzer target for cluster/bus_message (what nodes read off the Redis bus: anyone who can
// PUBLISH on the cluster's channels can send these bytes).
// Invariants (abort on violation): a message the parser accepts is rebuilt byte for byte by
// BusWriter from the parsed fields (so parsing is exact: no field skipped, no trailing bytes),
// and its list reader yields exactly `count` entries inside the buffer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cluster/bus_message.h"

using namespace wspush::cluster;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

void write_list(BusWriter& w, const BusList& l) {
    size_t at = w.start_list();
    BusListReader r(l);
    std::string_view s;
    uint64_t v;
    uint32_t n = 0;
    for (; n < l.count; ++n) {
        switch (l.shape) {
            case BusList::Shape::Strings: CHECK(r.next_str(&s)); w.str(s); break;
            case BusList::Shape::StringU64: CHECK(r.next_str(&s) && r.next_u64(&v)); w.str(s); w.u64(v); break;
            case BusList::Shape::StringPairs: CHECK(r.next_str(&s)); w.str(s); CHECK(r.next_str(&s)); w.str(s); break;
            case BusList::Shape::U64s: CHECK(r.next_u64(&v)); w.u64(v); break;
        }
    }
    CHECK(!r.next_str(&s) && !r.next_u64(&v));  // nothing after the last entry
    w.end_list(at, n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    BusMessage m;
    if (!parse_bus_message(data, size, &m)) return 0;
    BusWriter w;
    w.begin(m.type, m.origin);
    switch (m.type) {
        case BusType::ToUid:
        case BusType::ToGroup: w.u8(m.op); w.str(m.name); w.str(m.payload); break;
        case BusType::ToUids: w.u8(m.op); write_list(w, m.list); w.str(m.payload); break;
        case BusType::ToAll: w.u8(m.op); w.str(m.payload); break;
        case BusType::Kick: w.str(m.name); w.u16(m.code); w.str(m.name2); break;
        case BusType::Heartbeat:
        case BusType::Presence: write_list(w, m.list); break;
        case BusType::Snapshot:
        case BusType::GroupState: w.u8(m.flags); write_list(w, m.list); break;
        case BusType::Hello:
        case BusType::Probe: break;
        case BusType::GroupJoin:
        case BusType::GroupLeave: w.str(m.name); w.str(m.name2); break;
        case BusType::GroupDelete: w.str(m.name); break;
    }
    CHECK(w.size() == size);
    CHECK(memcmp(w.bytes().data(), data, size) == 0);
    return 0;
}
