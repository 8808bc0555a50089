// One client WebSocket connection held by a worker. Connections live in one vector indexed by
// local index (global index / procs); epoll carries the local index, not a pointer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "codec/frame_parser.h"
#include "tools/wsload/output_ring.h"

typedef struct ssl_st SSL;

namespace wsload {

// TlsHandshaking: --tls only, between the TCP connect and the HTTP upgrade request.
enum class ConnState : uint8_t { Idle, Connecting, TlsHandshaking, Handshaking, LoggingIn, Ready, Closed };

struct ClientConnection {                    // ~ 48 (parser) + 24 (ring) + 40 = ~112 bytes
    wspush::codec::FrameParser parser;       // spill buffer only while a frame is split
    OutputRing out;                          // storage only while bytes are queued (receivers)
    std::unique_ptr<std::string> partial_http;  // a 101 response split across reads (rare)
    SSL* ssl = nullptr;                      // --tls: the connection's TLS state (owned)
    uint64_t started_ns = 0;                 // connect() start, for connect latency
    uint64_t next_broadcast_seq = 0;         // broadcast: the sequence number expected next
    int fd = -1;
    uint32_t global_index = 0;
    ConnState state = ConnState::Idle;
    bool dirty = false;                      // on the loop's flush list this turn
    bool watching_write = false;             // EPOLLOUT registered (ring did not drain)
};

}  // namespace wsload
