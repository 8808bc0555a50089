// UTF-8 validation against a plain decoding reference: exhaustive short sequences, random
// text with injected corruption, every SIMD level, and Utf8Stream with random splits.
#include "codec/utf8.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/codec/simd_levels.h"

namespace wspush::codec {
namespace {

using testing::available_levels;

// Decodes code points the obvious way and checks the RFC 3629 ranges.
bool reference_valid(const uint8_t* s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
        else return false;
        if (i + k >= n) return false;
        for (size_t j = 1; j <= k; ++j) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        uint32_t min = k == 1 ? 0x80 : k == 2 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += k + 1;
    }
    return true;
}

bool reference_valid(const std::vector<uint8_t>& v) { return reference_valid(v.data(), v.size()); }

// Can s[0..n) be continued into valid UTF-8? Tries the completions that matter: the second
// byte of a cut sequence from 0x80, 0x90, 0xA0 (one in each lead's allowed range), the rest 0x80.
bool reference_valid_prefix(const std::vector<uint8_t>& s) {
    if (reference_valid(s)) return true;
    for (size_t missing = 1; missing <= 3; ++missing)
        for (uint8_t second : {0x80, 0x90, 0xA0}) {
            std::vector<uint8_t> t = s;
            t.push_back(second);
            for (size_t k = 1; k < missing; ++k) t.push_back(0x80);
            if (reference_valid(t)) return true;
        }
    return false;
}

// Continuation range plus the boundary values around it.
std::vector<uint8_t> interesting_bytes() {
    std::vector<uint8_t> v = {0x00, 0x41, 0x7F, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
    for (int b = 0x80; b <= 0xBF; ++b) v.push_back(uint8_t(b));
    return v;
}

// Checks one sequence alone and embedded in ASCII at a shifting offset, so that it also
// straddles 16/32/64-byte vector boundaries. Returns the number of mismatches.
size_t check_sequence(SimdLevel level, const std::vector<uint8_t>& seq, size_t counter) {
    size_t bad = utf8_valid_with(level, seq.data(), seq.size()) != reference_valid(seq);
    std::vector<uint8_t> buf(140, 'a');
    size_t at = 10 + counter % 120;
    std::copy(seq.begin(), seq.end(), buf.begin() + at);
    bad += utf8_valid_with(level, buf.data(), buf.size()) != reference_valid(buf);
    return bad;
}

TEST(Utf8, KnownValidAndInvalidStrings) {
    for (SimdLevel level : available_levels()) {
        auto ok = [&](const char* s) { return utf8_valid_with(level, reinterpret_cast<const uint8_t*>(s), strlen(s)); };
        EXPECT_TRUE(ok("hello, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80"));
        EXPECT_TRUE(ok("\xf4\x8f\xbf\xbf"));      // U+10FFFF
        EXPECT_FALSE(ok("\xf4\x90\x80\x80"));     // U+110000
        EXPECT_FALSE(ok("\xed\xa0\x80"));         // U+D800 surrogate
        EXPECT_FALSE(ok("\xc0\xaf"));             // overlong '/'
        EXPECT_FALSE(ok("\xe0\x80\xaf"));         // overlong 3-byte
        EXPECT_FALSE(ok("\xf0\x80\x80\xaf"));     // overlong 4-byte
        EXPECT_FALSE(ok("\xe2\x82"));             // cut off
        EXPECT_FALSE(ok("\x80"));                 // lone continuation
    }
}

TEST(Utf8, EveryOneAndTwoByteSequenceMatchesReference) {
    for (SimdLevel level : available_levels()) {
        SCOPED_TRACE(simd_level_name(level));
        size_t bad = 0, n = 0;
        for (int a = 0; a < 256; ++a) {
            bad += check_sequence(level, {uint8_t(a)}, n++);
            for (int b = 0; b < 256; ++b) bad += check_sequence(level, {uint8_t(a), uint8_t(b)}, n++);
        }
        EXPECT_EQ(bad, 0u);
    }
}

TEST(Utf8, ThreeByteSequencesMatchReference) {
    auto tail = interesting_bytes();
    for (SimdLevel level : available_levels()) {
        SCOPED_TRACE(simd_level_name(level));
        size_t bad = 0, n = 0;
        for (int a = 0; a < 256; ++a)
            for (uint8_t b : tail)
                for (uint8_t c : tail) bad += check_sequence(level, {uint8_t(a), b, c}, n++);
        EXPECT_EQ(bad, 0u);
    }
}

TEST(Utf8, FourByteSequencesMatchReference) {
    auto second = interesting_bytes();
    const std::vector<uint8_t> edge = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xF0};
    for (SimdLevel level : available_levels()) {
        SCOPED_TRACE(simd_level_name(level));
        size_t bad = 0, n = 0;
        for (int a = 0; a < 256; ++a)
            for (uint8_t b : second)
                for (uint8_t c : edge)
                    for (uint8_t d : edge) bad += check_sequence(level, {uint8_t(a), b, c, d}, n++);
        EXPECT_EQ(bad, 0u);
    }
}

// Random valid text: ASCII, 2-, 3- and 4-byte code points.
std::vector<uint8_t> random_text(std::mt19937& rng, size_t code_points) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < code_points; ++i) {
        uint32_t kind = rng() % 8, cp;
        if (kind < 4) cp = rng() % 0x80;
        else if (kind < 5) cp = 0x80 + rng() % (0x800 - 0x80);
        else if (kind < 7) { do cp = 0x800 + rng() % (0x10000 - 0x800); while (cp >= 0xD800 && cp <= 0xDFFF); }
        else cp = 0x10000 + rng() % (0x110000 - 0x10000);
        if (cp < 0x80) out.push_back(uint8_t(cp));
        else if (cp < 0x800) { out.push_back(uint8_t(0xC0 | cp >> 6)); out.push_back(uint8_t(0x80 | (cp & 0x3F))); }
        else if (cp < 0x10000) {
            out.push_back(uint8_t(0xE0 | cp >> 12)); out.push_back(uint8_t(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(uint8_t(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(uint8_t(0xF0 | cp >> 18)); out.push_back(uint8_t(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(uint8_t(0x80 | ((cp >> 6) & 0x3F))); out.push_back(uint8_t(0x80 | (cp & 0x3F)));
        }
    }
    return out;
}

void corrupt(std::mt19937& rng, std::vector<uint8_t>& v) {
    if (v.empty()) return;
    size_t edits = rng() % 3;
    for (size_t e = 0; e < edits; ++e) {
        size_t at = rng() % v.size();
        switch (rng() % 4) {
        case 0: v[at] = uint8_t(rng()); break;
        case 1: v[at] ^= 0x40; break;                    // lead <-> continuation flips
        case 2: v.erase(v.begin() + long(at)); break;    // cut a sequence
        default: v.insert(v.begin() + long(at), 0x80 | uint8_t(rng() % 0x40)); break;
        }
        if (v.empty()) return;
    }
}

TEST(Utf8, RandomTextWithCorruptionMatchesReference) {
    std::mt19937 rng(7);
    for (SimdLevel level : available_levels()) {
        SCOPED_TRACE(simd_level_name(level));
        size_t bad = 0, valid = 0;
        for (int iter = 0; iter < 4000; ++iter) {
            auto v = random_text(rng, rng() % 400);
            corrupt(rng, v);
            bool want = reference_valid(v);
            valid += want;
            bad += utf8_valid_with(level, v.data(), v.size()) != want;
        }
        EXPECT_EQ(bad, 0u);
        EXPECT_GT(valid, 500u);  // the corpus holds both answers
        EXPECT_LT(valid, 3500u);
    }
}

TEST(Utf8, LongAsciiWithOneBadByteAnywhereIsInvalid) {
    for (SimdLevel level : available_levels()) {
        std::vector<uint8_t> v(300, 'x');
        for (size_t at = 0; at < v.size(); ++at) {
            v[at] = 0xC3;  // a lead byte followed by ASCII (or the end)
            EXPECT_FALSE(utf8_valid_with(level, v.data(), v.size())) << simd_level_name(level) << " " << at;
            v[at] = 'x';
        }
        EXPECT_TRUE(utf8_valid_with(level, v.data(), v.size()));
    }
}

TEST(Utf8Stream, RandomSplitsAgreeWithReferenceAndFailAtTheFirstBadPiece) {
    std::mt19937 rng(11);
    for (int iter = 0; iter < 3000; ++iter) {
        auto v = random_text(rng, rng() % 300);
        corrupt(rng, v);
        Utf8Stream stream;
        size_t pos = 0;
        bool ok = true;
        while (pos < v.size()) {
            size_t n = (rng() % 4 == 0) ? 1 : rng() % (v.size() - pos + 1);
            n = std::min(n, v.size() - pos);
            ok = stream.feed(v.data() + pos, n);
            pos += n;
            std::vector<uint8_t> prefix(v.begin(), v.begin() + long(pos));
            // Fail fast: the verdict after each piece is exactly "can this prefix still
            // become valid UTF-8".
            ASSERT_EQ(ok, reference_valid_prefix(prefix)) << "iter " << iter << " pos " << pos;
            if (!ok) break;
        }
        if (ok) EXPECT_EQ(stream.complete(), reference_valid(v)) << "iter " << iter;
        else EXPECT_TRUE(stream.failed());
    }
}

TEST(Utf8Stream, CodePointSplitAcrossThreeFeeds) {
    const uint8_t euro_emoji[] = {0xF0, 0x9F, 0x98, 0x80};
    Utf8Stream s;
    EXPECT_TRUE(s.feed(euro_emoji, 1));
    EXPECT_FALSE(s.complete());
    EXPECT_TRUE(s.feed(euro_emoji + 1, 2));
    EXPECT_TRUE(s.feed(euro_emoji + 3, 1));
    EXPECT_TRUE(s.complete());
}

TEST(Utf8Stream, StaysFailedUntilReset) {
    const uint8_t bad[] = {0xFF};
    const uint8_t good[] = {'a'};
    Utf8Stream s;
    EXPECT_FALSE(s.feed(bad, 1));
    EXPECT_FALSE(s.feed(good, 1));
    EXPECT_TRUE(s.failed());
    s.reset();
    EXPECT_TRUE(s.feed(good, 1));
    EXPECT_TRUE(s.complete());
}

}  // namespace
}  // namespace wspush::codec
