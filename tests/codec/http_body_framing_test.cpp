#include "codec/http_body_framing.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/http_status.h"

using namespace wspush::codec;

namespace {

struct Framed {
    int status;
    BodyFraming framing;
    std::string why;
};

Framed frame(const std::string& head_fields, const char* version = "1.1") {
    static std::string buf;  // the request's views point into it
    buf = std::string("POST /x HTTP/") + version + "\r\nHost: h\r\n" + head_fields + "\r\n";
    HttpRequest req;
    int st = 0;
    EXPECT_GT(parse_http_request(buf.data(), buf.size(), 0, 8192, req, &st), 0) << head_fields;
    Framed f{};
    const char* why = nullptr;
    f.status = body_framing(req, &f.framing, &why);
    if (why) f.why = why;
    return f;
}

}  // namespace

TEST(BodyFraming, NoLengthNoEncodingIsNoBody) {
    auto f = frame("");
    EXPECT_EQ(f.status, 0);
    EXPECT_EQ(f.framing.kind, BodyKind::None);
}

TEST(BodyFraming, OneContentLength) {
    auto f = frame("Content-Length: 42\r\n");
    EXPECT_EQ(f.status, 0);
    EXPECT_EQ(f.framing.kind, BodyKind::Length);
    EXPECT_EQ(f.framing.length, 42u);
}

TEST(BodyFraming, ChunkedAloneInAnyCase) {
    for (const char* te : {"chunked", "Chunked", "CHUNKED", " chunked ", ", chunked"}) {
        auto f = frame(std::string("Transfer-Encoding: ") + te + "\r\n");
        EXPECT_EQ(f.status, 0) << te;
        EXPECT_EQ(f.framing.kind, BodyKind::Chunked) << te;
    }
}

TEST(BodyFraming, RejectsTwoContentLengthsEvenEqualOnes) {
    EXPECT_EQ(frame("Content-Length: 5\r\nContent-Length: 6\r\n").status, kHttpBadRequest);
    EXPECT_EQ(frame("Content-Length: 5\r\ncontent-length: 5\r\n").status, kHttpBadRequest);
}

TEST(BodyFraming, RejectsAContentLengthThatIsNotDigits) {
    for (const char* v : {"", "5, 5", "+5", "-1", "0x10", "5 5", "5a", "99999999999999999999"}) {
        EXPECT_EQ(frame(std::string("Content-Length: ") + v + "\r\n").status, kHttpBadRequest) << v;
    }
}

TEST(BodyFraming, RejectsContentLengthWithTransferEncodingInEitherOrder) {
    EXPECT_EQ(frame("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n").status, kHttpBadRequest);
    EXPECT_EQ(frame("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n").status, kHttpBadRequest);
}

TEST(BodyFraming, RejectsTransferEncodingInHttp10) {
    auto f = frame("Transfer-Encoding: chunked\r\n", "1.0");
    EXPECT_EQ(f.status, kHttpBadRequest);
    EXPECT_EQ(f.why, "Transfer-Encoding in an HTTP/1.0 request");
}

TEST(BodyFraming, RejectsCodingsThatDoNotEndWithChunked) {
    for (const char* te : {"identity", "gzip", "chunked, gzip", "", ","}) {
        EXPECT_EQ(frame(std::string("Transfer-Encoding: ") + te + "\r\n").status, kHttpBadRequest) << te;
    }
}

TEST(BodyFraming, RejectsChunkedTwiceInOneListOrTwoFields) {
    EXPECT_EQ(frame("Transfer-Encoding: chunked, chunked\r\n").status, kHttpBadRequest);
    EXPECT_EQ(frame("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n").status, kHttpBadRequest);
}

TEST(BodyFraming, ACodingWeDoNotDecodeBeforeChunkedIs501) {
    EXPECT_EQ(frame("Transfer-Encoding: gzip, chunked\r\n").status, kHttpNotImplemented);
    EXPECT_EQ(frame("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n").status, kHttpNotImplemented);
}
