// Server::watch_fd / unwatch_fd / wake_within: the hook through which cluster/ drives its
// Redis sockets from the engine's loop.
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include "engine/server.h"

using namespace wspush::engine;

namespace {

struct NoService final : ServerHandler {
    void on_open(Connection&, const wspush::codec::Upgrade&) override {}
    void on_message(Connection&, wspush::codec::Opcode, uint8_t*, size_t) override {}
    void on_close(Connection&) override {}
    void on_http(Connection&, const wspush::codec::HttpRequest&, uint8_t*, size_t) override {}
    bool on_tick(uint32_t) override {
        if (tick) tick();
        return false;
    }
    std::function<void()> tick;
};

struct PipeWatcher final : FdWatcher {
    Server* server = nullptr;
    int fd = -1;
    int events = 0;
    void on_fd_event(uint32_t ev) override {
        ++events;
        EXPECT_TRUE(ev & EPOLLIN);
        char buf[16];
        (void)!read(fd, buf, sizeof buf);
        server->unwatch_fd(fd);  // allowed from the callback
        server->stop();
    }
};

}  // namespace

TEST(FdWatch, ReadableFdReachesItsWatcherAndUnwatchStopsIt) {
    NoService svc;
    ServerConfig cfg;
    cfg.shutdown_timeout_ms = 10;
    Server server(cfg, svc);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    PipeWatcher w;
    w.server = &server;
    w.fd = p[0];
    ASSERT_TRUE(server.watch_fd(p[0], EPOLLIN, &w));
    ASSERT_TRUE(server.watch_fd(p[0], EPOLLIN, &w));  // again: a modification, not an error
    ASSERT_EQ(write(p[1], "x", 1), 1);
    server.run();
    EXPECT_EQ(w.events, 1);
    close(p[0]);
    close(p[1]);
}

TEST(FdWatch, WakeWithinShortensTheLoopsSleep) {
    NoService svc;
    ServerConfig cfg;
    cfg.shutdown_timeout_ms = 10;
    Server server(cfg, svc);
    int ticks = 0;
    uint32_t first = 0;
    svc.tick = [&] {
        if (ticks++ == 0) first = server.now_ms();
        if (ticks == 5) server.stop();
        server.wake_within(5);  // without it each idle iteration sleeps up to a second
    };
    server.run();
    EXPECT_GE(ticks, 5);
    EXPECT_LT(server.now_ms() - first, 800u);
}
