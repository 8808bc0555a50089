// Connection: everything the engine keeps per client socket. Kept small and allocation-free
// while idle: it lives in a SlotMap chunk, its handle (ConnId) goes into epoll's user data,
// and the read buffer belongs to the loop, not to the connection.
//
//   bytes  field
//   8      id (slot + generation)
//   4      fd
//   4      phase, timer list, flags, listener index
//   8      timer list links (slot indices)
//   4      timer_since (loop ms)
//   4+12   user_index, user (a registry::UidRef): the handler's (the engine never reads them)
//   4      peer_index: the peer address's entry in the per-IP counts (in what was padding)
//   48     HTTP input (a pointer to the pending request, if any) before the upgrade | frame
//          parser after it (a union: one or the other)
//   24     write queue
//  120     total (+8 of SlotMap slot header), guarded by static_assert in server.cpp
#pragma once
#include <cstdint>
#include <cstdlib>
#include <new>

#include "codec/chunked_body.h"
#include "codec/frame_parser.h"
#include "engine/write_queue.h"
#include "registry/conn_id.h"
#include "registry/uid_ref.h"

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
    kFlagContinueSent = 1 << 7,   // HTTP: "100 Continue" sent for the request being read
};

// How far reading the pending request (held bytes from its first) got, so that the next read
// goes on from there instead of starting over: with a request arriving a few bytes per read,
// starting over would cost O(held) per read, quadratic in all.
struct HttpProgress {
    size_t head_scanned = 0;      // head incomplete: bytes already searched for its end
    size_t need = 0;              // Content-Length body incomplete: held bytes needed first
    size_t body_at = 0;           // chunked body incomplete: where it starts (after the head)
    codec::ChunkedScan chunked;   // ... and where its decode stopped
};

// The bytes of one incomplete request and how far reading them got: one malloc'd block, this
// header then the bytes, that exists only while a request is pending. Sizes are 64-bit; the
// engine bounds the total (head, body, chunk framing, trailers) far below that.
struct HttpInput {
    size_t len = 0;
    size_t cap = 0;  // bytes() capacity
    HttpProgress progress;
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
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
    uint32_t timer_since = 0;  // loop ms when put on its current list (on Active: last read)
    // The handler's per-connection state (the push service: uid bytes and length, index in
    // its online list). Here rather than in a side table: one cache line, no second lookup.
    uint32_t user_index = UINT32_MAX;
    registry::UidRef user;             // the uid's entry in the UidTable; empty: not logged in
    uint32_t peer_index = UINT32_MAX;  // PeerCounts entry; UINT32_MAX: not counted
    union {
        HttpInput* http;            // while !has(kFlagWebSocket): a pending request, or null
        codec::FrameParser parser;  // once has(kFlagWebSocket)
    };
    WriteQueue out;

    Connection() : http(nullptr) {}
    ~Connection() {
        if (has(kFlagWebSocket)) parser.~FrameParser();
        else std::free(http);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    // The upgrade: the HTTP input (already consumed) gives way to the frame parser.
    void become_websocket() {
        std::free(http);
        new (&parser) codec::FrameParser();
        set(kFlagWebSocket);
    }

    bool has(ConnFlag f) const { return flags & f; }
    void set(ConnFlag f) { flags |= f; }
    void clear(ConnFlag f) { flags &= static_cast<uint8_t>(~f); }
};

}  // namespace wspush::engine
