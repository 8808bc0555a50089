#include "engine/listen_socket.h"

#include <gtest/gtest.h>
#include <unistd.h>

using namespace wspush::engine;

namespace {
std::string resolved(const std::string& host, uint16_t port) {
    ListenAddress a;
    std::string error;
    if (!resolve_listen_address(host, port, &a, &error)) return "error: " + error;
    return format_address(a);
}
}  // namespace

TEST(SplitHostPort, SplitsIpv4AndName) {
    std::string host, error;
    uint16_t port = 0;
    ASSERT_TRUE(split_host_port("127.0.0.1:1235", &host, &port, &error));
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, 1235);
    ASSERT_TRUE(split_host_port("localhost:0", &host, &port, &error));
    EXPECT_EQ(host, "localhost");
    EXPECT_EQ(port, 0);
}

TEST(SplitHostPort, BracketedIpv6LosesItsBrackets) {
    std::string host, error;
    uint16_t port = 0;
    ASSERT_TRUE(split_host_port("[::1]:1235", &host, &port, &error));
    EXPECT_EQ(host, "::1");
    EXPECT_EQ(port, 1235);
}

TEST(SplitHostPort, RefusesBareIpv6AsAmbiguous) {
    std::string host, error;
    uint16_t port = 0;
    EXPECT_FALSE(split_host_port("::1:1235", &host, &port, &error));
    EXPECT_EQ(error, "'::1:1235' is ambiguous: write an IPv6 address in brackets, as in [::1]:1235");
}

TEST(SplitHostPort, RefusesStrayBrackets) {
    std::string host, error;
    uint16_t port = 0;
    EXPECT_FALSE(split_host_port("[::0[]:5", &host, &port, &error));  // found by fuzz_cli_args
    EXPECT_EQ(error, "'[::0[]:5': brackets go around a whole IPv6 address, as in [::1]:1235");
    EXPECT_FALSE(split_host_port("local]host:5", &host, &port, &error));
}

TEST(SplitHostPort, PortOutOfRangeNamesTheRange) {
    std::string host, error;
    uint16_t port = 0;
    EXPECT_FALSE(split_host_port("localhost:65536", &host, &port, &error));
    EXPECT_EQ(error, "'localhost:65536': '65536' is not a port number; valid: 0-65535 (0: any free port)");
}

TEST(SplitHostPort, RefusesMissingHostOrPort) {
    std::string host, error;
    uint16_t port = 0;
    EXPECT_FALSE(split_host_port("1235", &host, &port, &error));
    EXPECT_FALSE(split_host_port(":1235", &host, &port, &error));
    EXPECT_FALSE(split_host_port("[]:1235", &host, &port, &error));
    EXPECT_FALSE(split_host_port("localhost:", &host, &port, &error));
}

TEST(ParsePort, AcceptsOnlyPlainDecimal0To65535) {
    uint16_t port = 0;
    EXPECT_TRUE(parse_port("65535", &port));
    EXPECT_EQ(port, 65535);
    EXPECT_TRUE(parse_port("0", &port));
    for (const char* bad : {"", "-1", "+1", " 1", "1x", "0x10", "65536", "123456"}) EXPECT_FALSE(parse_port(bad, &port)) << bad;
}

TEST(ResolveListenAddress, LiteralsAndLocalhost) {
    EXPECT_EQ(resolved("0.0.0.0", 1234), "0.0.0.0:1234");
    EXPECT_EQ(resolved("::", 1234), "[::]:1234");
    EXPECT_EQ(resolved("[::1]", 80), "[::1]:80");
    EXPECT_EQ(resolved("localhost", 1), "127.0.0.1:1");  // IPv4 preferred
}

TEST(ResolveListenAddress, UnknownNameIsAnError) {
    EXPECT_EQ(resolved("no-such-host.invalid", 1).rfind("error: cannot resolve 'no-such-host.invalid': ", 0), 0u);
    EXPECT_EQ(resolved("", 1).rfind("error: listen address is empty", 0), 0u);
}

TEST(ListenAddress, LoopbackCoversIpv4RangeIpv6AndMapped) {
    for (const char* host : {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost"}) {
        ListenAddress a;
        std::string error;
        ASSERT_TRUE(resolve_listen_address(host, 1, &a, &error)) << host;
        EXPECT_TRUE(is_loopback(a)) << host;
    }
    for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1"}) {
        ListenAddress a;
        std::string error;
        ASSERT_TRUE(resolve_listen_address(host, 1, &a, &error)) << host;
        EXPECT_FALSE(is_loopback(a)) << host;
    }
}

TEST(ListenAddress, WildcardBecomesLoopbackForAUrl) {
    ListenAddress a;
    std::string error;
    ASSERT_TRUE(resolve_listen_address("0.0.0.0", 1234, &a, &error));
    EXPECT_EQ(format_address(reachable_locally(a)), "127.0.0.1:1234");
    ASSERT_TRUE(resolve_listen_address("::", 1234, &a, &error));
    EXPECT_EQ(format_address(reachable_locally(a)), "[::1]:1234");
    ASSERT_TRUE(resolve_listen_address("10.1.2.3", 1234, &a, &error));
    EXPECT_EQ(format_address(reachable_locally(a)), "10.1.2.3:1234");
}

TEST(OpenListenSocket, BindErrorNamesTheResolvedAddress) {
    std::string error;
    uint16_t port = 0;
    int fd = open_listen_socket("127.0.0.1", 0, false, 16, &port, &error);
    ASSERT_GE(fd, 0) << error;
    uint16_t again = 0;
    EXPECT_EQ(open_listen_socket("localhost", port, false, 16, &again, &error), -1);
    EXPECT_EQ(error, "bind 127.0.0.1:" + std::to_string(port) + ": Address already in use");
    close(fd);
}
