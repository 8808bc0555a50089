// Input: reading sockets, HTTP requests (upgrades, pages, API calls) and WebSocket frames.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "codec/chunked_body.h"
#include "codec/close_code.h"
#include "codec/frame_encoder.h"
#include "codec/http_body_framing.h"
#include "codec/http_status.h"
#include "engine/log.h"
#include "engine/server.h"

namespace wspush::engine {

// Adapts the frame parser's callbacks to one connection.
class ConnectionFrameSink final : public codec::FrameSink {
public:
    ConnectionFrameSink(Server& s, Connection& c) : s_(s), c_(c) {}
    bool on_message(codec::Opcode op, uint8_t* data, size_t len, bool) override {
        ++s_.stats_.messages_in;
        s_.handler_.on_message(c_, op, data, len);
        return !c_.has(kFlagCloseRequested) && !c_.has(kFlagReaped);
    }
    bool on_control(codec::Opcode op, uint8_t* data, size_t len) override {
        s_.on_control_frame(c_, op, data, len);
        return !c_.has(kFlagCloseRequested) && !c_.has(kFlagReaped);
    }

private:
    Server& s_;
    Connection& c_;
};

void Server::on_readable(Connection& c, bool hangup) {
    if (is_tls(c)) return on_readable_tls(c, hangup);
    uint8_t* buf = read_buf_.get();
    const size_t cap = cfg_.read_buffer_bytes;
    while (!c.has(kFlagReaped)) {
        ssize_t n = read(c.fd, buf, cap);
        if (n > 0) {
            stats_.bytes_in += static_cast<uint64_t>(n);
            touch(c);
            handle_bytes(c, buf, static_cast<size_t>(n));
            // A short read drained the socket: with edge triggering, bytes arriving later raise
            // a new event, so the EAGAIN read is a syscall we can skip. Not when the event said
            // the peer hung up: its EOF is queued behind these bytes and no new edge will come.
            if (static_cast<size_t>(n) < cap && !hangup) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n == 0) return on_peer_eof(c);
        reap(c);  // a reset or another error: nothing more can be written either
        return;
    }
}

// The peer will send nothing more (FIN). A WebSocket peer gone without a close frame is 1006:
// freed now. Otherwise the answers already queued (an HTTP response, our close frame) are
// still written, since a half-closed peer can read them, and the connection ends right after
// instead of lingering for a FIN it already sent. A request cut short by the FIN can never
// finish: it gets its 400 the same way.
void Server::on_peer_eof(Connection& c) {
    if (c.phase == Phase::Http && c.http) respond_error(c, codec::kHttpBadRequest, "request cut short by end of stream");
    if (c.phase == Phase::Open || c.phase == Phase::Draining || c.out.empty()) return reap(c);
    if (c.phase == Phase::Http) close(c, 0, {}, CloseReason::HttpDone);  // an unfinished request can never finish
    flush(c);  // Closing: write what is queued; all out means FIN and Draining
    if (c.phase == Phase::Draining) reap(c);
    // else the socket is full: the Closing timer ends it (close_linger_ms)
}

void Server::handle_bytes(Connection& c, uint8_t* data, size_t len) {
    switch (c.phase) {
        case Phase::Http: handle_http_bytes(c, data, len); break;
        case Phase::Open: handle_ws_bytes(c, data, len); break;
        case Phase::Closing:
        case Phase::Draining: break;  // after our close: the rest is read and dropped
    }
}

// ---------------------------------------------------------------- WebSocket

uint64_t Server::message_limit(const Connection& c) const {
    return c.has(kFlagAuthenticated) ? cfg_.max_message : std::min(cfg_.max_message, cfg_.max_login_message);
}

void Server::handle_ws_bytes(Connection& c, uint8_t* data, size_t len) {
    codec::FrameLimits limits;
    limits.max_message = message_limit(c);
    ConnectionFrameSink sink(*this, c);
    const size_t held_before = c.parser.buffered_bytes();
    feeding_ = &c, feeding_limits_ = &limits;
    codec::FeedResult r = c.parser.feed(data, len, limits, sink);
    feeding_ = nullptr, feeding_limits_ = nullptr;
    // The spill buffer may have grown, shrunk or gone (the parser bounds one message; this, all).
    const size_t held = c.parser.buffered_bytes();
    inbound_buffered_ = inbound_buffered_ - held_before + held;
    switch (r.close_code) {
        case codec::kCloseNone:
        case codec::kStopped:
            break;
        case codec::kCloseInvalidPayload:
            close(c, r.close_code, "invalid UTF-8", CloseReason::InvalidPayload);
            break;
        case codec::kCloseMessageTooBig:
            // Named for the limit that refused it (message_limit(), or lifted by a login in this
            // read): --max-message may be the smaller one.
            close(c, r.close_code, limits.max_message < cfg_.max_message ? "login message too big" : "message too big",
                  CloseReason::MessageTooBig);
            break;
        default:
            close(c, r.close_code, "protocol error", CloseReason::ProtocolError);
            break;
    }
    // Closed during the feed (its close frame, a refused login, a send that failed): nothing
    // more is fed to its parser, so a partial message it left goes now, not when the
    // connection is freed (close_linger_ms later for a client that withholds its FIN).
    if (c.has(kFlagCloseRequested) || c.has(kFlagReaped)) return drop_partial_message(c);
    // A client nobody has vouched for may take the total only to half the budget: however many
    // connections never log in, the other half stays for clients that have.
    const uint64_t budget = c.has(kFlagAuthenticated) ? cfg_.max_inbound_buffered : cfg_.max_inbound_buffered / 2;
    if (held > held_before && inbound_buffered_ > budget) {
        // The read that took the total past the budget: this connection's partial message goes
        // (close() drops it) and it is told to come back.
        close(c, codec::kCloseTryAgainLater, "server busy", CloseReason::InboundBudget);
    }
}

void Server::drop_partial_message(Connection& c) {
    inbound_buffered_ -= c.parser.buffered_bytes();
    c.parser.reset();
}

void Server::on_control_frame(Connection& c, codec::Opcode op, uint8_t* data, size_t len) {
    if (op == codec::Opcode::Ping) {
        send_message(c, codec::Opcode::Pong, data, len);
    } else if (op == codec::Opcode::Close) {
        // Echo the client's code (RFC 6455 5.5.1); an empty close gets an empty close.
        uint16_t code = len >= 2 ? static_cast<uint16_t>(data[0] << 8 | data[1]) : 0;
        close(c, code, {}, CloseReason::ClientClose);
    }
    // Pong: the read already counted as activity.
}

// ---------------------------------------------------------------- HTTP

// Head, body (max_body), chunk framing (as much again: chunks of a few bytes each are the
// worst honest case; tinier ones are an attack) and trailers: what one request may hold.
uint64_t Server::request_bound(const Connection& c) const {
    return cfg_.max_head + 2 * listeners_[c.listener].spec.max_body + codec::kMaxChunkedTrailers;
}

bool Server::keep_http_input(Connection& c, const uint8_t* data, size_t len) {
    HttpInput* in = c.http;
    const size_t have = in ? in->len : 0;
    if (have + len > request_bound(c)) {
        respond_error(c, codec::kHttpPayloadTooLarge, "request too large");
        return false;
    }
    if (!in || have + len > in->cap) {
        size_t cap = in ? in->cap : 1024;
        while (cap < have + len) cap *= 2;
        auto* grown = static_cast<HttpInput*>(realloc(in, sizeof(HttpInput) + cap));
        if (!grown) throw std::bad_alloc();
        if (!in) new (grown) HttpInput();
        grown->cap = cap;
        c.http = in = grown;
    }
    memcpy(in->bytes() + in->len, data, len);
    in->len += len;
    return true;
}

void Server::drop_http_input(Connection& c) {
    free(c.http);
    c.http = nullptr;
}

void Server::handle_http_bytes(Connection& c, uint8_t* data, size_t len) {
    if (c.timer == TimerList::HttpIdle) timers_.put(c, TimerList::Request, now_ms_);
    if (!c.http) {
        // Fast path: the whole request usually arrives in one read; parse it in place.
        HttpProgress progress;
        size_t used = process_http(c, data, len, progress);
        if (used < len && c.phase == Phase::Http && !c.has(kFlagCloseRequested) &&
            keep_http_input(c, data + used, len - used))
            c.http->progress = progress;
        return;
    }
    if (!keep_http_input(c, data, len)) return;
    // A body still arriving: only the new bytes are looked at until it is complete (then the
    // head is parsed again, once, and the request handled).
    HttpInput& in = *c.http;
    HttpProgress& pg = in.progress;
    if (pg.need != 0 && in.len < pg.need) return;  // Content-Length: not all there yet
    if (pg.body_at != 0) {
        int st = 0;
        const long r = codec::decode_chunked(in.bytes() + pg.body_at, in.len - pg.body_at,
                                             listeners_[c.listener].spec.max_body, nullptr, &st, &pg.chunked);
        if (r == codec::kHttpIncomplete) return;
    }
    // Take the held bytes out of the connection: an upgrade turns c.http into the parser.
    HttpInput* held = c.http;
    c.http = nullptr;
    size_t used = process_http(c, held->bytes(), held->len, held->progress);
    if (c.phase == Phase::Http && !c.has(kFlagCloseRequested) && used < held->len) {
        memmove(held->bytes(), held->bytes() + used, held->len - used);
        held->len -= used;
        c.http = held;
    } else {
        free(held);
    }
}

// A browser page on another site may open a WebSocket to us with the user's cookies; its
// Origin says which site it is (RFC 6455 10.2). No Origin: not a browser, nothing to check.
bool Server::refuse_origin(Connection& c, const codec::HttpRequest& req) {
    if (cfg_.allowed_origins.empty() || !req.has_header("Origin") || cfg_.allowed_origins.allows(req.header("Origin")))
        return false;
    ++stats_.origin_refused;
    respond_error(c, codec::kHttpForbidden, "origin not allowed");
    return true;
}

// Handles every complete request in buf (pipelining); returns the bytes used. Leaves the
// connection in Http phase waiting for more, or Open after an upgrade, or closing. progress
// describes the request at buf[0] on entry (what earlier reads learned of it) and the one at
// the returned offset on return (what the next read can skip).
size_t Server::process_http(Connection& c, uint8_t* buf, size_t len, HttpProgress& progress) {
    size_t off = 0;
    const ListenerSpec& spec = listeners_[c.listener].spec;
    while (off < len && c.phase == Phase::Http && !c.has(kFlagCloseRequested)) {
        if (off != 0) progress = HttpProgress{};  // the next pipelined request: nothing known yet
        // Its head was parsed and vetted by an earlier read that then waited for the body.
        const bool head_seen = progress.need != 0 || progress.body_at != 0;
        codec::HttpRequest req;
        int status = 0;
        const char* head = reinterpret_cast<const char*>(buf + off);
        // An incomplete head is searched for its end only in the bytes that came since.
        long r = codec::parse_http_request(head, len - off, progress.head_scanned, cfg_.max_head, req, &status);
        if (r == codec::kHttpIncomplete) {
            if (len - off > cfg_.max_head) respond_error(c, codec::kHttpHeadersTooLarge, "request head too large");
            progress = HttpProgress{};
            progress.head_scanned = len - off;
            return off;
        }
        progress.head_scanned = 0;
        if (r == codec::kHttpError) {
            respond_error(c, status, status == codec::kHttpHeadersTooLarge ? "request head too large"
                                                                          : "malformed request");
            return len;
        }
        size_t head_len = static_cast<size_t>(r);
        // Where the body ends, before anything else: an ambiguous request is refused whatever
        // it asks for (a smuggled request hides behind an upgrade as well as a POST).
        codec::BodyFraming framing;
        const char* why = nullptr;
        if (int st = codec::body_framing(req, &framing, &why)) {
            respond_error(c, st, why);
            return len;
        }
        if (const char* host = codec::host_field_problem(req)) {  // on every port, upgrades included
            respond_error(c, codec::kHttpBadRequest, host);
            return len;
        }
        if (spec.websocket) {
            codec::Upgrade up = codec::check_upgrade(req);
            if (up.kind == codec::UpgradeKind::WebSocket) {
                if (framing.kind == codec::BodyKind::Chunked || framing.length != 0) {
                    ++stats_.handshake_rejected;
                    respond_error(c, codec::kHttpBadRequest, "an upgrade request has no body");
                    return len;
                }
                if (refuse_origin(c, req) || !upgrade(c, up)) return len;
                off += head_len;
                if (off < len) handle_ws_bytes(c, buf + off, len - off);  // frames sent right behind the request
                return len;
            }
            if (up.kind == codec::UpgradeKind::Reject) {
                ++stats_.handshake_rejected;
                respond_error(c, up.status, up.error);  // a 426 gets Sec-WebSocket-Version from codec
                return len;
            }
        }
        if (framing.kind == codec::BodyKind::None &&
            (req.method == "POST" || req.method == "PUT" || req.method == "PATCH")) {
            respond_error(c, codec::kHttpLengthRequired, "a body needs Content-Length or chunked encoding");
            return len;
        }
        if (framing.kind == codec::BodyKind::Length && framing.length > spec.max_body) {
            respond_error(c, codec::kHttpPayloadTooLarge, "body too large");
            return len;
        }
        if (!head_seen) {
            c.clear(kFlagKeepAlive);  // a request the handler refuses here ends the connection
            if (!handler_.on_http_head(c, req)) {
                if (!c.has(kFlagCloseRequested)) close(c, 0, {}, CloseReason::HttpDone);
                return len;
            }
        }
        // A plain request, maybe with a body.
        uint8_t* body = buf + off + head_len;
        size_t avail = len - off - head_len;
        size_t body_len = 0, body_wire = 0;
        if (framing.kind == codec::BodyKind::Chunked) {
            int st = 0;
            long used = codec::decode_chunked(body, avail, spec.max_body, &body_len, &st, &progress.chunked);
            if (used == codec::kHttpIncomplete) {
                progress.body_at = head_len;
                return send_continue(c, req), off;
            }
            if (used == codec::kHttpError) {
                respond_error(c, st, st == codec::kHttpPayloadTooLarge   ? "body too large"
                                     : st == codec::kHttpHeadersTooLarge ? "trailers too large"
                                                                         : "malformed chunked body");
                return len;
            }
            body_wire = static_cast<size_t>(used);
        } else if (framing.kind == codec::BodyKind::Length) {
            const size_t n = static_cast<size_t>(framing.length);
            if (avail < n) {  // wait for the rest of the body: nothing to do before it is all here
                progress.need = head_len + n;
                return send_continue(c, req), off;
            }
            body_len = body_wire = n;
        }
        std::string_view conn = req.header("Connection");
        bool keep = req.minor_version >= 1 ? !codec::header_has_token(conn, "close")
                                           : codec::header_has_token(conn, "keep-alive");
        if (keep) c.set(kFlagKeepAlive);
        else c.clear(kFlagKeepAlive);
        c.clear(kFlagContinueSent);
        ++stats_.http_requests;
        handler_.on_http(c, req, body, body_len);
        off += head_len + body_wire;
    }
    if (c.phase == Phase::Http && !c.has(kFlagCloseRequested) && off == len)
        timers_.put(c, TimerList::HttpIdle, now_ms_);
    return off;
}

// RFC 9110 10.1.1: a client that sent "Expect: 100-continue" waits (curl: 1 s) for this
// interim answer before it sends the body. Sent once per request, only while the body is
// still missing.
void Server::send_continue(Connection& c, const codec::HttpRequest& req) {
    if (c.has(kFlagContinueSent) || !codec::ascii_iequals(req.header("Expect"), "100-continue")) return;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    queue_copy(c, kContinue.data(), kContinue.size());
    c.set(kFlagContinueSent);
}

bool Server::upgrade(Connection& c, const codec::Upgrade& up) {
    // --max-conns was checked when the connection was accepted: it already holds its place.
    if (stopping_) {
        respond_error(c, codec::kHttpServiceUnavailable, "shutting down", "Retry-After: 1\r\n");
        return false;
    }
    const char* reason = "refused";
    if (int status = handler_.on_upgrade(c, up, &reason)) {  // the handler counts its refusals
        // RFC 9110 15.5.2: a 401 names the scheme that would have worked.
        respond_error(c, status, reason, status == 401 ? "WWW-Authenticate: Bearer\r\n" : "");
        return false;
    }
    char buf[512];
    size_t n = codec::write_upgrade_response(buf, sizeof buf, up);
    // A fresh socket takes 130 bytes at once: write the 101 now rather than queue a frame for
    // the end-of-iteration flush (same one syscall, no allocation). Queue only what is left,
    // or everything when earlier responses are still queued (order). TLS: queued, and sealed
    // in a record with whatever follows it at the flush.
    size_t sent = 0;
    if (c.out.empty() && !is_tls(c)) {
        ssize_t w = ::send(c.fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            sent = static_cast<size_t>(w);
            stats_.bytes_out += sent;
        }
    }
    if (sent < n) queue_copy(c, buf + sent, n - sent);
    c.phase = Phase::Open;
    c.become_websocket();
    ++open_ws_;
    ++stats_.handshakes;
    timers_.put(c, TimerList::Login, now_ms_);
    handler_.on_open(c, up);
    if (c.has(kFlagAuthenticated) && c.timer == TimerList::Login) timers_.put(c, TimerList::Active, now_ms_);
    return true;
}

void Server::respond(Connection& c, int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers) {
    queue_response(c, status, content_type, body, extra_headers, CloseReason::HttpDone);
}

void Server::queue_response(Connection& c, int status, std::string_view content_type, std::string_view body,
                            std::string_view extra_headers, CloseReason why) {
    bool keep = c.has(kFlagKeepAlive) && !stopping_;
    size_t cap = body.size() + extra_headers.size() + 256;
    SharedFrame* f = SharedFrame::create(cap);
    size_t n = codec::write_http_response(reinterpret_cast<char*>(f->data()), cap, status, content_type, body,
                                          extra_headers, keep);
    f->set_size(static_cast<uint32_t>(n));
    queue_owned(c, f);
    if (!keep) close(c, 0, {}, why);
}

void Server::respond_error(Connection& c, int status, std::string_view message, std::string_view extra_headers,
                           CloseReason why) {
    c.clear(kFlagKeepAlive);  // after a bad request the stream position is unknown: close
    switch (status) {
        case codec::kHttpBadRequest: case codec::kHttpLengthRequired: case codec::kHttpPayloadTooLarge:
        case codec::kHttpHeadersTooLarge: case codec::kHttpNotImplemented: case codec::kHttpVersionNotSupported:
            ++stats_.bad_requests;
            break;
        default: break;
    }
    std::string body = "{\"error\":\"";
    for (char ch : message) {
        if (ch == '"' || ch == '\\') body += '\\';
        body += ch;
    }
    body += "\",\"status\":" + std::to_string(status) + "}\n";
    queue_response(c, status, "application/json", body, extra_headers, why);
}

}  // namespace wspush::engine
