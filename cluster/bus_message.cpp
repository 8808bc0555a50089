#include "cluster/bus_message.h"

#include <cstring>

namespace wspush::cluster {
namespace {

constexpr std::string_view kMagic = "WSP1";

class Reader {
public:
    Reader(const uint8_t* p, size_t n) : p_(reinterpret_cast<const char*>(p)), end_(p_ + n) {}
    bool u8(uint8_t* v) {
        if (end_ - p_ < 1) return false;
        *v = static_cast<uint8_t>(*p_++);
        return true;
    }
    bool fixed(void* v, size_t n) {
        if (static_cast<size_t>(end_ - p_) < n) return false;
        memcpy(v, p_, n);  // little-endian hosts only (x86-64, arm64)
        p_ += n;
        return true;
    }
    bool str(std::string_view* s) {
        uint32_t n;
        if (!fixed(&n, 4) || static_cast<size_t>(end_ - p_) < n) return false;
        *s = {p_, n};
        p_ += n;
        return true;
    }
    // A list of count entries of the given shape; checks every entry.
    bool list(BusList::Shape shape, BusList* l) {
        uint32_t count;
        if (!fixed(&count, 4)) return false;
        const char* start = p_;
        for (uint32_t i = 0; i < count; ++i) {
            std::string_view s;
            uint64_t v;
            bool ok = false;
            switch (shape) {
                case BusList::Shape::Strings: ok = str(&s); break;
                case BusList::Shape::StringU64: ok = str(&s) && fixed(&v, 8); break;
                case BusList::Shape::StringPairs: ok = str(&s) && str(&s); break;
                case BusList::Shape::U64s: ok = fixed(&v, 8); break;
            }
            if (!ok) return false;
        }
        *l = BusList{{start, static_cast<size_t>(p_ - start)}, count, shape};
        return true;
    }
    bool done() const { return p_ == end_; }

private:
    const char* p_;
    const char* end_;
};

bool valid_op(uint8_t op) { return op == 1 || op == 2; }

}  // namespace

bool parse_bus_message(const uint8_t* data, size_t len, BusMessage* m) {
    if (len < kMagic.size() + 1 || memcmp(data, kMagic.data(), kMagic.size()) != 0) return false;
    Reader r(data + kMagic.size(), len - kMagic.size());
    uint8_t t;
    if (!r.u8(&t) || !r.str(&m->origin) || m->origin.empty()) return false;
    m->type = static_cast<BusType>(t);
    bool ok;
    switch (m->type) {
        case BusType::ToUid:
        case BusType::ToGroup:
            ok = r.u8(&m->op) && valid_op(m->op) && r.str(&m->name) && r.str(&m->payload);
            break;
        case BusType::ToUids:
            ok = r.u8(&m->op) && valid_op(m->op) && r.list(BusList::Shape::Strings, &m->list) && r.str(&m->payload);
            break;
        case BusType::ToAll: ok = r.u8(&m->op) && valid_op(m->op) && r.str(&m->payload); break;
        case BusType::Kick: ok = r.str(&m->name) && r.fixed(&m->code, 2) && r.str(&m->name2); break;
        case BusType::Heartbeat: ok = r.list(BusList::Shape::U64s, &m->list); break;
        case BusType::Presence: ok = r.list(BusList::Shape::StringU64, &m->list); break;
        case BusType::Snapshot: ok = r.u8(&m->flags) && r.list(BusList::Shape::StringU64, &m->list); break;
        case BusType::Hello:
        case BusType::Probe: ok = true; break;
        case BusType::GroupJoin:
        case BusType::GroupLeave: ok = r.str(&m->name) && r.str(&m->name2); break;
        case BusType::GroupDelete: ok = r.str(&m->name); break;
        case BusType::GroupState: ok = r.u8(&m->flags) && r.list(BusList::Shape::StringPairs, &m->list); break;
        default: return false;
    }
    return ok && r.done();
}

bool BusListReader::next_str(std::string_view* s) {
    uint32_t n;
    if (end_ - p_ < 4) return false;
    memcpy(&n, p_, 4);
    p_ += 4;
    *s = {p_, n};  // validated by parse_bus_message
    p_ += n;
    return true;
}

bool BusListReader::next_u64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    memcpy(v, p_, 8);
    p_ += 8;
    return true;
}

void BusWriter::begin(BusType t, std::string_view origin) {
    buf_.assign(kMagic);
    u8(static_cast<uint8_t>(t));
    str(origin);
}
void BusWriter::u16(uint16_t v) { buf_.append(reinterpret_cast<const char*>(&v), 2); }
void BusWriter::u32(uint32_t v) { buf_.append(reinterpret_cast<const char*>(&v), 4); }
void BusWriter::u64(uint64_t v) { buf_.append(reinterpret_cast<const char*>(&v), 8); }
void BusWriter::str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    buf_.append(s);
}
void BusWriter::str_joined(std::string_view head, char sep, std::string_view tail) {
    if (head.empty()) return str(tail);
    u32(static_cast<uint32_t>(head.size() + 1 + tail.size()));
    buf_.append(head);
    buf_.push_back(sep);
    buf_.append(tail);
}
size_t BusWriter::start_list() {
    size_t at = buf_.size();
    u32(0);
    return at;
}
void BusWriter::end_list(size_t at, uint32_t count) { memcpy(buf_.data() + at, &count, 4); }

}  // namespace wspush::cluster
