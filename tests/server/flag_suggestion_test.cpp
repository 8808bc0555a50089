#include "server/flag_suggestion.h"

#include <gtest/gtest.h>

using wspush::server::closest_flag;

namespace {
const std::vector<std::string> kFlags = {"host", "port", "max-conns", "max-message", "max-backlog", "max-uid-len",
                                         "login-timeout", "idle-timeout", "log-level", "api-listen", "api-key",
                                         "api-key-file", "version", "help"};
}

TEST(ClosestFlag, SwappedLettersSuggestTheFlag) { EXPECT_EQ(closest_flag("prot", kFlags), "port"); }
TEST(ClosestFlag, OneMissingLetterSuggestsTheFlag) { EXPECT_EQ(closest_flag("api-liste", kFlags), "api-listen"); }
TEST(ClosestFlag, TwoEditsOnALongNameSuggestTheFlag) { EXPECT_EQ(closest_flag("login-timout", kFlags), "login-timeout"); }
TEST(ClosestFlag, UniquePrefixSuggestsTheFlag) { EXPECT_EQ(closest_flag("max-mess", kFlags), "max-message"); }
TEST(ClosestFlag, PrefixOfSeveralSuggestsNothing) { EXPECT_EQ(closest_flag("max", kFlags), ""); }
TEST(ClosestFlag, UnrelatedWordSuggestsNothing) { EXPECT_EQ(closest_flag("frobnicate", kFlags), ""); }
TEST(ClosestFlag, ShortNameAllowsOneEditOnly) { EXPECT_EQ(closest_flag("pxrx", kFlags), ""); }
TEST(ClosestFlag, EqualDistancesToTwoFlagsSuggestNothing) {
    EXPECT_EQ(closest_flag("api-ke", {"api-key", "api-kex"}), "");
}
TEST(ClosestFlag, OneLetterSharingNothingSuggestsNothing) { EXPECT_EQ(closest_flag("x", {"h", "help"}), ""); }
