#include <gtest/gtest.h>

#include "engine/log.h"

using wspush::engine::log_escape;

TEST(LogEscape, PrintableTextIsUnchanged) { EXPECT_EQ(log_escape("alice 42 über"), "alice 42 über"); }

TEST(LogEscape, ControlBytesQuotesAndBackslashesBecomeHex) {
    EXPECT_EQ(log_escape(std::string_view("a\nb\r\"c\\\x7f\0", 9)), "a\\x0ab\\x0d\\x22c\\x5c\\x7f\\x00");
}

TEST(LogEscape, LongTextIsCutWithAnEllipsis) {
    EXPECT_EQ(log_escape(std::string(100, 'x'), 8), "xxxxxxxx...");
    EXPECT_EQ(log_escape(std::string(8, 'x'), 8), "xxxxxxxx");
}
