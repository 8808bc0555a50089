#include "server/push_service.h"

#include <malloc.h>

#include <cstring>

#include "codec/close_code.h"
#include "codec/frame_encoder.h"
#include "engine/log.h"
#include "server/demo_page.h"

namespace wspush::server {

using codec::Opcode;
using engine::CloseReason;

namespace {
constexpr std::string_view kLoginReply = "login success, your uid is ";
constexpr std::string_view kBroadcastTarget = "all";
}  // namespace

PushService::PushService(const Config& cfg) : cfg_(cfg), sessions_(cfg.max_uid_len) {}
PushService::~PushService() = default;

void PushService::attach(engine::Server& server) {
    server_ = &server;
    router_ = std::make_unique<LocalRouter>(server, sessions_);
}

void PushService::set_api(size_t listener_index, std::unique_ptr<HttpEndpoint> api) {
    api_listener_ = listener_index;
    api_ = std::move(api);
}

void PushService::on_open(engine::Connection&, const codec::Upgrade&) {}

void PushService::on_close(engine::Connection& c) {
    if (sessions_.logged_in(c))
        LOG_DEBUG("logout uid=\"%s\" fd=%d", engine::log_escape(sessions_.uid_of(c)).c_str(), c.fd);
    sessions_.logout(c);
}

void PushService::on_message(engine::Connection& c, Opcode op, uint8_t* data, size_t len) {
    if (!sessions_.logged_in(c)) login(c, op, data, len);
    else route(c, op, data, len);
}

void PushService::refuse_login(engine::Connection& c, const std::string& why) {
    ++stats_.login_failures;
    LOG_DEBUG("login refused fd=%d: %s", c.fd, why.c_str());
    std::string text = "error: " + why;
    server_->send_message(c, Opcode::Text, text.data(), text.size());
    server_->close(c, codec::kClosePolicyViolation, "login refused", CloseReason::Policy);
}

void PushService::login(engine::Connection& c, Opcode op, const uint8_t* data, size_t len) {
    std::string_view uid(reinterpret_cast<const char*>(data), len);
    if (op != Opcode::Text) return refuse_login(c, "log in first: send your uid as a text message");
    if (uid.empty()) return refuse_login(c, "empty uid");
    if (uid.find(':') != std::string_view::npos) return refuse_login(c, "uid must not contain ':'");
    if (uid.size() > cfg_.max_uid_len || !sessions_.login(c, uid))
        return refuse_login(c, "uid longer than " + std::to_string(cfg_.max_uid_len) + " bytes");
    ++stats_.logins;
    LOG_DEBUG("login uid=\"%s\" fd=%d", engine::log_escape(uid).c_str(), c.fd);
    server_->authenticate(c);
    // The reply is built in one buffer: "login success, your uid is " + uid.
    engine::FrameRef reply(engine::SharedFrame::create(codec::frame_size(kLoginReply.size() + len)));
    size_t h = codec::encode_header(reply->data(), Opcode::Text, kLoginReply.size() + len);
    memcpy(reply->data() + h, kLoginReply.data(), kLoginReply.size());
    memcpy(reply->data() + h + kLoginReply.size(), data, len);
    server_->send(c, reply.get());
}

void PushService::route(engine::Connection& c, Opcode op, const uint8_t* data, size_t len) {
    const void* colon = memchr(data, ':', len);
    if (!colon) {
        ++stats_.bad_format;
        static constexpr std::string_view kError = "error: message must be <uid>:<message> or all:<message>";
        server_->send_message(c, Opcode::Text, kError.data(), kError.size());
        return;
    }
    size_t tlen = static_cast<size_t>(static_cast<const uint8_t*>(colon) - data);
    if (tlen == 0) {  // ":hello": no uid can be empty, so it could only be dropped; say why instead
        ++stats_.bad_format;
        static constexpr std::string_view kError = "error: no uid before ':' (send <uid>:<message> or all:<message>)";
        server_->send_message(c, Opcode::Text, kError.data(), kError.size());
        return;
    }
    std::string_view target(reinterpret_cast<const char*>(data), tlen);
    Outgoing m{op, data + tlen + 1, len - tlen - 1};
    size_t n;
    if (target == kBroadcastTarget) {
        ++stats_.to_all;
        n = router_->to_all(m);
    } else {
        ++stats_.to_uid;
        n = router_->to_uid(target, m);
    }
    stats_.routed(stats_.client, m.len, n);
}

bool PushService::on_http_head(engine::Connection& c, const codec::HttpRequest& req) {
    return c.listener == api_listener_ && api_ ? api_->admit(c, req) : true;
}

void PushService::on_http(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) {
    if (c.listener == api_listener_ && api_) return api_->handle(c, req, body, len);
    if (req.path == "/" || req.path == "/index.html") {
        if (req.method != "GET")
            return server_->respond(c, 405, "application/json", "{\"error\":\"method not allowed\"}\n", "Allow: GET\r\n");
        return server_->respond(c, 200, "text/html; charset=utf-8", demo_page_html());
    }
    if (req.path == "/healthz") return server_->respond(c, 200, "application/json", "{\"status\":\"ok\"}\n");
    // Browsers ask for it on every page; the demo page brings its own icon inline.
    if (req.path == "/favicon.ico") return server_->respond(c, 204, "", "");
    server_->respond(c, 404, "application/json", "{\"error\":\"not found\"}\n");
}

bool PushService::on_tick(uint32_t now_ms) {
    // A uid-table resize moves 8 slots per login/logout, and unmaps the emptied old array a
    // slice per login/logout; when logins stop mid-resize the old array would stay allocated.
    // Finish it in bounded steps (256 slots or one slice, about a microsecond each), one per
    // loop iteration, with the loop polling while any is left. Nothing pending: a few loads.
    bool busy = sessions_.uids().advance_resize();
    if (cfg_.stats_interval > 0) {
        if (next_stats_ms_ == 0) next_stats_ms_ = now_ms + static_cast<uint32_t>(cfg_.stats_interval * 1000);
        if (static_cast<int32_t>(now_ms - next_stats_ms_) >= 0) {
            next_stats_ms_ = now_ms + static_cast<uint32_t>(cfg_.stats_interval * 1000);
            LOG_INFO("%s", stats_line().c_str());
        }
    }
    return busy;
}

std::string PushService::stats_line() const {
    const engine::EngineStats& e = server_->stats();
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "stats conns=%zu ws=%zu online=%zu uids=%zu logins=%llu login_failures=%llu "
                     "msgs_in=%llu to_uid=%llu to_all=%llu deliveries=%llu dropped_offline=%llu "
                     "bad_format=%llu bytes_in=%llu bytes_out=%llu writevs=%llu refused_fd=%llu over_max_conns=%llu "
                     "over_max_conns_per_ip=%llu origin_refused=%llu http_idle_evicted=%llu bad_requests=%llu",
                     server_->connections(), server_->open_websockets(), sessions_.online().size(),
                     sessions_.uids().uid_count(),
                     (unsigned long long)stats_.logins, (unsigned long long)stats_.login_failures,
                     (unsigned long long)e.messages_in, (unsigned long long)stats_.to_uid,
                     (unsigned long long)stats_.to_all, (unsigned long long)stats_.deliveries(),
                     (unsigned long long)stats_.dropped_offline, (unsigned long long)stats_.bad_format,
                     (unsigned long long)e.bytes_in, (unsigned long long)e.bytes_out,
                     (unsigned long long)e.writev_calls, (unsigned long long)e.accept_refused_fd,
                     (unsigned long long)e.over_max_conns, (unsigned long long)e.over_max_conns_per_ip,
                     (unsigned long long)e.origin_refused, (unsigned long long)e.http_idle_evicted,
                     (unsigned long long)e.bad_requests);
    std::string line(buf, static_cast<size_t>(n));
    struct mallinfo2 mi = mallinfo2();  // O(arena bins): fine once per stats interval
    line += " heap_in_use=" + std::to_string(mi.uordblks) + " heap_free=" + std::to_string(mi.fordblks);
    if (const engine::TlsStats* t = server_->tls_stats()) {
        snprintf(buf, sizeof buf,
                 " tls_handshakes=%llu tls_resumed=%llu tls_failed=%llu tls_plain_http=%llu tls_aborted=%llu "
                 "tls_reloads=%llu tls_reload_failures=%llu",
                 (unsigned long long)t->handshakes, (unsigned long long)t->resumed,
                 (unsigned long long)t->handshake_failures, (unsigned long long)t->plain_http,
                 (unsigned long long)t->handshake_aborted, (unsigned long long)t->reloads,
                 (unsigned long long)t->reload_failures);
        line += buf;
    }
    line += " closes:";
    for (int r = 0; r < static_cast<int>(CloseReason::kCount); ++r) {
        if (e.closes[r] == 0) continue;
        line += ' ';
        line += engine::close_reason_name(static_cast<CloseReason>(r));
        line += '=';
        line += std::to_string(e.closes[r]);
    }
    return line;
}

}  // namespace wspush::server
