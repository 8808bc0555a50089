// Connection: everything the engine keeps per client socket. Kept small and allocation-free
// while idle: it lives in a SlotMap chunk, its handle (ConnId) goes into epoll's user data,
// and the read buffer belongs to the loop, not to the connection.
//
//   bytes  field
//   8      id (slot + generation)
//   4      fd
//   4      phase, timer list, flags
//   8      timer list links (slot indices)
//   4      last_rx (loop milliseconds)
//   2+2    close code to send, listener index
//   48     frame parser (partial frame / fragmented message state)
//   24     write queue
//   16     http input (partial request head / body, null while none is pending)
//  ~120    total, guarded by static_assert in server.cpp
#pragma once
#include <cstdint>

#include "codec/frame_parser.h"
#include "engine/write_queue.h"
#include "registry/conn_id.h"

namespace wspush::engine {

using registry::ConnId;

enum class Phase : uint8_t {
    Http,       // reading HTTP requests (a WebSocket upgrade, a page, an API call)
    Open,       // WebSocket open
    Closing,    // close frame (or final HTTP response) queued; flushing, then FIN
    Draining,   // FIN sent; reading and discarding until the peer closes or the linger ends
};

// Which timeout list a connection is on (one at a time). Each list has one fixed timeout,
// so appending keeps it sorted by deadline: every timer operation is O(1).
enum class TimerList : uint8_t { None, Request, Login, Active, Pinged, Closing, HttpIdle, kCount };

enum ConnFlag : uint8_t {
    kFlagAuthenticated = 1 << 0,  // the service accepted it (logged in): off the login list
    kFlagDirty = 1 << 1,          // on the loop's flush list
    kFlagWantWrite = 1 << 2,      // EPOLLOUT armed: the socket buffer was full
    kFlagKeepAlive = 1 << 3,      // HTTP: keep the connection after the response
    kFlagReaped = 1 << 4,         // on the reap list; gone at the end of this iteration
    kFlagCloseRequested = 1 << 5, // close() called; further sends are dropped
    kFlagWebSocket = 1 << 6,      // upgraded: the handler saw on_open and will see on_close
};

struct HttpInput {
    char* data = nullptr;  // bytes of an incomplete request, malloc'd only while one is pending
    uint32_t len = 0;
    uint32_t cap = 0;
    uint32_t scanned = 0;  // how far the head terminator search got (parse_http_request last_len)
    uint32_t head_len = 0; // > 0 once the head is parsed and the body is awaited
};

struct Connection {
    ConnId id;
    int fd = -1;
    Phase phase = Phase::Http;
    TimerList timer = TimerList::None;
    uint8_t flags = 0;
    uint8_t listener = 0;  // index of the listener that accepted it
    uint32_t timer_prev = UINT32_MAX;
    uint32_t timer_next = UINT32_MAX;
    uint32_t timer_since = 0;  // loop ms when put on its current list
    uint32_t last_rx = 0;      // loop ms of the last byte received
    codec::FrameParser parser;
    WriteQueue out;
    HttpInput http;

    bool has(ConnFlag f) const { return flags & f; }
    void set(ConnFlag f) { flags |= f; }
    void clear(ConnFlag f) { flags &= static_cast<uint8_t>(~f); }
};

}  // namespace wspush::engine
