#include "codec/origin_allowlist.h"

#include <gtest/gtest.h>

using namespace wspush::codec;

namespace {

OriginAllowlist list(const char* text) {
    OriginAllowlist l;
    std::string error;
    EXPECT_TRUE(l.parse(text, &error)) << error;
    return l;
}

}  // namespace

TEST(OriginAllowlist, AnEmptyListAllowsEverything) {
    OriginAllowlist l = list("");
    EXPECT_TRUE(l.empty());
    EXPECT_TRUE(l.allows("https://anything.example"));
    EXPECT_TRUE(l.allows("null"));
}

TEST(OriginAllowlist, ExactOriginsMatchCaseInsensitively) {
    OriginAllowlist l = list("https://app.example.com, http://localhost:8080");
    EXPECT_TRUE(l.allows("https://app.example.com"));
    EXPECT_TRUE(l.allows("HTTPS://APP.Example.COM"));
    EXPECT_TRUE(l.allows("http://localhost:8080"));
    EXPECT_FALSE(l.allows("http://localhost:8081"));
    EXPECT_FALSE(l.allows("http://app.example.com"));          // another scheme
    EXPECT_FALSE(l.allows("https://app.example.com:443"));     // another serialization is another origin
    EXPECT_FALSE(l.allows("https://app.example.com.evil.com"));
    EXPECT_FALSE(l.allows("https://evil.com/https://app.example.com"));
    EXPECT_FALSE(l.allows("null"));
    EXPECT_FALSE(l.allows(""));
}

TEST(OriginAllowlist, AWildcardMatchesSubdomainsAtAnyDepthButNotTheDomain) {
    OriginAllowlist l = list("https://*.example.com");
    EXPECT_TRUE(l.allows("https://a.example.com"));
    EXPECT_TRUE(l.allows("https://a.b.example.com"));
    EXPECT_FALSE(l.allows("https://example.com"));
    EXPECT_FALSE(l.allows("https://.example.com"));
    EXPECT_FALSE(l.allows("https://evilexample.com"));
    EXPECT_FALSE(l.allows("http://a.example.com"));
    EXPECT_FALSE(l.allows("https://a.example.com:8443"));
    EXPECT_FALSE(l.allows("https://a.example.com.evil.com"));
    EXPECT_FALSE(l.allows("https://evil.com:1@a.example.com"));
    EXPECT_FALSE(l.allows("https://evil.com#.example.com"));
}

TEST(OriginAllowlist, AWildcardWithAPortNeedsThatPort) {
    OriginAllowlist l = list("https://*.example.com:8443");
    EXPECT_TRUE(l.allows("https://a.example.com:8443"));
    EXPECT_FALSE(l.allows("https://a.example.com"));
    EXPECT_FALSE(l.allows("https://a.example.com:84430"));
}

TEST(OriginAllowlist, NullMatchesOnlyWhenListed) {
    EXPECT_TRUE(list("null").allows("null"));
    EXPECT_FALSE(list("https://a.example").allows("null"));
}

TEST(OriginAllowlist, RefusesEntriesThatAreNotOrigins) {
    for (const char* bad : {"app.example.com", "https://", "https://a.example.com/path", "https://a.*.com",
                            "https://*.", "https://*", "*://a.example.com", "https://a b.com"}) {
        OriginAllowlist l;
        std::string error;
        EXPECT_FALSE(l.parse(bad, &error)) << bad;
        EXPECT_FALSE(error.empty());
        EXPECT_TRUE(l.empty()) << "a failed parse leaves the list as it was";
    }
}
