#include "codec/chunked_body.h"

#include <gtest/gtest.h>

#include <string>

using namespace wspush::codec;

namespace {

struct Decoded {
    long rc;
    std::string body;
    int status;
};

Decoded decode(std::string wire, size_t max_body = 1 << 20) {
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
