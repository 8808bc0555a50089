// UTF-8 validation, scalar path and the incremental stream. The SIMD validators live in
// utf8_simd.cpp; this file picks one and handles what SIMD cannot: a code point split
// between feeds.
#include "codec/utf8.h"

#include <cstring>

#include "codec/utf8_simd.h"

namespace wspush::codec {
namespace {

// The allowed range of the next continuation byte depends on the lead byte (RFC 3629 4):
// E0 A0..BF (no overlong), ED 80..9F (no surrogates), F0 90..BF (no overlong),
// F4 80..8F (<= U+10FFFF); otherwise 80..BF.
enum Range : uint8_t { kAny = 0, kE0, kED, kF0, kF4 };
constexpr uint8_t kRangeLo[] = {0x80, 0xA0, 0x80, 0x90, 0x80};
constexpr uint8_t kRangeHi[] = {0xBF, 0xBF, 0x9F, 0xBF, 0x8F};

// Scans data[0..len) from the state (pending, range). Returns false at the first byte that
// cannot continue valid UTF-8. O(len), 8 ASCII bytes per step between sequences.
bool scan(const uint8_t* data, size_t len, uint8_t& pending, uint8_t& range) {
    size_t i = 0;
    while (i < len) {
        if (pending) {
            uint8_t c = data[i++];
            if (c < kRangeLo[range] || c > kRangeHi[range]) return false;
            range = kAny;
            --pending;
            continue;
        }
        uint64_t word;
        if (i + 8 <= len && (memcpy(&word, data + i, 8), (word & 0x8080808080808080ULL) == 0)) {
            i += 8;
            continue;
        }
        uint8_t c = data[i++];
        if (c < 0x80) continue;
        if (c >= 0xC2 && c <= 0xDF) {
            pending = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            pending = 2;
            range = c == 0xE0 ? kE0 : c == 0xED ? kED : kAny;
        } else if (c >= 0xF0 && c <= 0xF4) {
            pending = 3;
            range = c == 0xF0 ? kF0 : c == 0xF4 ? kF4 : kAny;
        } else {
            return false;  // continuation without lead, C0/C1 (overlong), F5..FF
        }
    }
    return true;
}

// Length of data[0..len) without a trailing sequence that is cut off (its lead byte is in
// the last 3 bytes and promises more bytes than remain). Those bytes go to the scalar scan.
size_t complete_prefix(const uint8_t* data, size_t len) {
    for (size_t back = 1; back <= 3 && back <= len; ++back) {
        uint8_t c = data[len - back];
        if ((c & 0xC0) == 0x80) continue;  // continuation: keep looking for its lead
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

// Below this a SIMD call costs more than it saves.
constexpr size_t kSimdThreshold = 64;

}  // namespace

bool utf8_valid_with(SimdLevel level, const uint8_t* data, size_t len) {
    if (level > best_simd_level()) level = best_simd_level();
    if (level != SimdLevel::Scalar) {
        if (auto fn = utf8_simd_validator(level)) return fn(data, len);
    }
    uint8_t pending = 0, range = 0;
    return scan(data, len, pending, range) && pending == 0;
}

bool utf8_valid(const uint8_t* data, size_t len) {
    if (len < kSimdThreshold) {
        uint8_t pending = 0, range = 0;
        return scan(data, len, pending, range) && pending == 0;
    }
    static const Utf8Validator best = utf8_simd_validator(best_simd_level());
    if (best) return best(data, len);
    return utf8_valid_with(SimdLevel::Scalar, data, len);
}

bool Utf8Stream::feed(const uint8_t* data, size_t len) {
    if (failed_) return false;
    size_t i = 0;
    // Finish a code point begun in an earlier feed (at most 3 bytes).
    while (pending_ && i < len) {
        uint8_t c = data[i++];
        if (c < kRangeLo[lead_] || c > kRangeHi[lead_]) return !(failed_ = true);
        lead_ = kAny;
        --pending_;
    }
    if (len - i >= kSimdThreshold) {
        // The long middle in one SIMD call; it starts and ends on character boundaries.
        size_t whole = complete_prefix(data + i, len - i);
        if (!utf8_valid(data + i, whole)) return !(failed_ = true);
        i += whole;
    }
    if (!scan(data + i, len - i, pending_, lead_)) failed_ = true;
    return !failed_;
}

}  // namespace wspush::codec
