#include "auth/base64url.h"

#include <gtest/gtest.h>

#include <string>

using namespace wspush::auth;

namespace {

std::string decode(std::string_view in, bool* ok) {
    std::string out(base64url_decoded_size(in.size()) + 1, '\0');
    long n = base64url_decode(in, reinterpret_cast<uint8_t*>(out.data()));
    *ok = n >= 0;
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
}

}  // namespace

TEST(Base64Url, DecodesRfc4648Vectors) {
    bool ok;
    EXPECT_EQ(decode("", &ok), "");
    EXPECT_TRUE(ok);
    EXPECT_EQ(decode("Zg", &ok), "f");
    EXPECT_EQ(decode("Zm8", &ok), "fo");
    EXPECT_EQ(decode("Zm9v", &ok), "foo");
    EXPECT_EQ(decode("Zm9vYmFy", &ok), "foobar");
    EXPECT_TRUE(ok);
}

TEST(Base64Url, UsesTheUrlAlphabet) {
    bool ok;
    EXPECT_EQ(decode("-_-_", &ok), "\xfb\xff\xbf");
    EXPECT_TRUE(ok);
    decode("+/+/", &ok);
    EXPECT_FALSE(ok);
}

TEST(Base64Url, RefusesPaddingWhitespaceAndImpossibleLengths) {
    bool ok;
    decode("Zg==", &ok);
    EXPECT_FALSE(ok);
    decode("Zm9v\n", &ok);
    EXPECT_FALSE(ok);
    decode("Zm9vY", &ok);  // 5 characters: 6 stray bits
    EXPECT_FALSE(ok);
}

TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
    bool ok;
    decode("Zh", &ok);  // 'h' sets bits below the one byte "Zg" encodes
    EXPECT_FALSE(ok);
    decode("Zm9", &ok);
    EXPECT_FALSE(ok);
}

TEST(Base64Url, EncodeRoundTripsEveryLength) {
    std::string bytes;
    for (int i = 0; i < 40; ++i) {
        std::string text;
        base64url_encode(bytes.data(), bytes.size(), text);
        EXPECT_EQ(text.find('='), std::string::npos);
        bool ok;
        EXPECT_EQ(decode(text, &ok), bytes);
        EXPECT_TRUE(ok);
        bytes += static_cast<char>(i * 37 + 200);
    }
}
