#include "codec/chunked_body.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using namespace wspush::codec;

namespace {

struct Decoded {
    long rc;
    std::string body;
    int status;
};

Decoded decode(std::string wire, size_t max_body = 1 << 20) {  // the whole wire at once
    size_t body_len = 0;
    int status = 0;
    long rc = decode_chunked(reinterpret_cast<uint8_t*>(wire.data()), wire.size(), max_body, &body_len, &status);
    return {rc, rc >= 0 ? wire.substr(0, body_len) : std::string(), status};
}

}  // namespace

TEST(ChunkedBody, DecodesChunksInPlace) {
    const std::string wire = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    auto d = decode(wire);
    EXPECT_EQ(d.rc, static_cast<long>(wire.size()));
    EXPECT_EQ(d.body, "hello, world");
}

TEST(ChunkedBody, ReportsWhereTheBodyEndsSoPipelinedBytesSurvive) {
    const std::string body = "3\r\nabc\r\n0\r\n\r\n";
    auto d = decode(body + "GET / HTTP/1.1\r\n");
    EXPECT_EQ(d.rc, static_cast<long>(body.size()));
    EXPECT_EQ(d.body, "abc");
}

TEST(ChunkedBody, AcceptsHexSizesExtensionsAndTrailers) {
    auto d = decode("A;name=value\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n");
    EXPECT_GT(d.rc, 0);
    EXPECT_EQ(d.body, "0123456789");
}

TEST(ChunkedBody, EmptyBody) {
    auto d = decode("0\r\n\r\n");
    EXPECT_EQ(d.rc, 5);
    EXPECT_EQ(d.body, "");
}

TEST(ChunkedBody, EveryProperPrefixIsIncomplete) {
    const std::string wire = "5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n";
    for (size_t n = 0; n < wire.size(); ++n) {
        std::string prefix = wire.substr(0, n);
        std::string copy = prefix;
        size_t body_len = 0;
        int status = 0;
        long rc = decode_chunked(reinterpret_cast<uint8_t*>(prefix.data()), prefix.size(), 1 << 20, &body_len, &status);
        EXPECT_EQ(rc, kHttpIncomplete) << "prefix of " << n << " bytes";
        EXPECT_EQ(prefix, copy) << "an incomplete body must be left untouched";
    }
}

TEST(ChunkedBody, RejectsANonHexSize) {
    auto d = decode("zz\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(d.rc, kHttpError);
    EXPECT_EQ(d.status, 400);
}

TEST(ChunkedBody, RejectsMissingCrlfAfterChunkData) {
    auto d = decode("5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(d.rc, kHttpError);
    EXPECT_EQ(d.status, 400);
}

TEST(ChunkedBody, RejectsABodyOverTheLimitWith413) {
    auto d = decode("10\r\n0123456789abcdef\r\n0\r\n\r\n", 15);
    EXPECT_EQ(d.rc, kHttpError);
    EXPECT_EQ(d.status, 413);
}

TEST(ChunkedBody, RejectsAnAbsurdChunkSizeWith413) {
    auto d = decode("FFFFFFFFFFFFFFFFFFFF\r\n");
    EXPECT_EQ(d.rc, kHttpError);
    EXPECT_EQ(d.status, 413);
}

TEST(ChunkedBody, BoundsTheTrailerSectionInTotalNotPerLine) {
    // Short lines, each harmless alone: the section as a whole passes 8 KiB.
    std::string wire = "0\r\n";
    while (wire.size() < kMaxChunkedTrailers + 100) wire += "X-T: 12345678\r\n";
    auto d = decode(wire);
    EXPECT_EQ(d.rc, kHttpError) << "an endless trailer section is refused before it ends";
    EXPECT_EQ(d.status, 431);
    auto done = decode(wire + "\r\n");
    EXPECT_EQ(done.rc, kHttpError);
    EXPECT_EQ(done.status, 431);
}

TEST(ChunkedBody, AcceptsTrailersJustUnderTheTotalLimit) {
    std::string wire = "0\r\n";
    const std::string line = "X-T: 12345678\r\n";
    while (wire.size() - 3 + line.size() <= kMaxChunkedTrailers) wire += line;
    wire += "\r\n";
    auto d = decode(wire);
    EXPECT_EQ(d.rc, static_cast<long>(wire.size()));
}

TEST(ChunkedBody, CountsTrailerBytesAgainstTheBodyLimit) {
    auto d = decode("3\r\nabc\r\n0\r\nX: 0123456789\r\n\r\n", 10);
    EXPECT_EQ(d.rc, kHttpError);
    EXPECT_EQ(d.status, 413);
    auto zero = decode("0\r\nX: 1\r\n\r\n", 0);
    EXPECT_EQ(zero.rc, kHttpError) << "a listener that takes no body takes no trailers";
    EXPECT_EQ(zero.status, 413);
    EXPECT_EQ(decode("0\r\n\r\n", 0).rc, 5);
}

// Fed one byte more at a time with a ChunkedScan, the decoder gives the same answer as on the
// whole input at once, and resumes: it never re-reads a line it finished.
static Decoded decode_growing(const std::string& wire, size_t max_body, size_t step) {
    ChunkedScan scan;
    std::string buf;
    for (size_t n = 0;;) {
        n = std::min(wire.size(), n + step);
        buf = wire.substr(0, n);
        size_t body_len = 0;
        int status = 0;
        const size_t before = scan.pos;
        long rc = decode_chunked(reinterpret_cast<uint8_t*>(buf.data()), buf.size(), max_body, &body_len, &status, &scan);
        if (rc != kHttpIncomplete || n == wire.size()) return {rc, rc >= 0 ? buf.substr(0, body_len) : "", status};
        EXPECT_GE(scan.pos, before) << "a resumed scan never goes back";
        EXPECT_EQ(buf, wire.substr(0, n)) << "an incomplete body must be left untouched";
    }
}

TEST(ChunkedBody, AGrowingBufferWithAScanDecodesAsTheWholeDoes) {
    const std::string wires[] = {
        "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
        "A;name=value\r\n0123456789\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\nGET / HTTP/1.1\r\n",
        "1\nx\n2\nyz\n0\n\n",                     // bare LF
        "0\r\n\r\n",
        "10\r\n0123456789abcdef\r\n0\r\n\r\n",    // over a 15-byte limit: 413
        "5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n",      // no CRLF after the data: 400
        "3\r\nabc\r\n" + std::string(2000, '1'),  // a chunk-size line over 1024 bytes: 400
        "0\r\nT: " + std::string(9000, 'v'),      // a trailer line over 8192 bytes: 431
        "0\r\n" + std::string(3000, 'a') + "\r\n" + [] { std::string t; for (int i = 0; i < 2000; ++i) t += "T: 1\r\n"; return t; }(),
        "3\r\nabc\r\n0\r\nX: 0123456789\r\n\r\n",       // data + trailers over 15 bytes: 413
    };
    for (const std::string& w : wires) {
        const Decoded whole = decode(w, 15);
        for (size_t step : {1, 2, 3, 7, 64}) {
            const Decoded grown = decode_growing(w, 15, step);
            EXPECT_EQ(grown.rc, whole.rc) << w.substr(0, 40) << " step " << step;
            EXPECT_EQ(grown.body, whole.body) << w.substr(0, 40) << " step " << step;
            if (whole.rc == kHttpError) {
                EXPECT_EQ(grown.status, whole.status) << w.substr(0, 40);
            }
        }
    }
}

TEST(ChunkedBody, AResumedScanStartsAtTheLineItStoppedIn) {
    std::string wire = "5\r\nhello\r\n3\r\nab";
    ChunkedScan scan;
    size_t body_len = 0;
    int status = 0;
    ASSERT_EQ(decode_chunked(reinterpret_cast<uint8_t*>(wire.data()), wire.size(), 100, &body_len, &status, &scan),
              kHttpIncomplete);
    EXPECT_EQ(scan.pos, 10u);  // the "3\r\n" line: "5\r\nhello\r\n" is done
    EXPECT_EQ(scan.total, 5u);
    EXPECT_EQ(scan.trailers_at, 0u);
    // Proof that it does not re-read: spoil the finished part (a from-scratch decode would
    // answer 400 for the non-hex size); the resumed scan cannot notice. (White-box: callers
    // must not change earlier bytes; the body the second pass compacts is then meaningless.)
    wire[0] = 'z';
    wire += "c\r\n0\r\n\r\n";
    long rc = decode_chunked(reinterpret_cast<uint8_t*>(wire.data()), wire.size(), 100, &body_len, &status, &scan);
    EXPECT_EQ(rc, static_cast<long>(wire.size()));
}
