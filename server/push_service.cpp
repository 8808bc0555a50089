#include "server/push_service.h"

#include <malloc.h>
#include <time.h>

#include <algorithm>
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

auth::SendScope parse_scope(std::string_view s) {
    return s == "none" ? auth::SendScope::None : s == "uid" ? auth::SendScope::Uid : auth::SendScope::All;
}

// Unix seconds now (tokens speak wall-clock time). vDSO: no syscall.
int64_t wall_seconds() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

// The value of `name` in a query string "a=1&token=xyz"; *found false when absent. Not
// percent-decoded: a JWT is base64url and '.', all unreserved characters (RFC 3986 2.3).
std::string_view query_param(std::string_view query, std::string_view name, bool* found) {
    *found = false;
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        if (pair.size() >= name.size() && pair.substr(0, name.size()) == name &&
            (pair.size() == name.size() || pair[name.size()] == '=')) {
            *found = true;
            return pair.size() == name.size() ? std::string_view{} : pair.substr(name.size() + 1);
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

}  // namespace

PushService::PushService(const Config& cfg)
    : cfg_(cfg),
      sessions_(cfg.max_uid_len),
      demo_page_(demo_page_html()),
      expiry_([this](registry::ConnId id, uint32_t index) {
          if (engine::Connection* c = server_->get(id)) sessions_.state(*c).wheel_index = index;
      }),
      client_send_(parse_scope(cfg.client_send)) {
    sessions_.keep_state(cfg.auth == "jwt" || client_send_ != auth::SendScope::All || cfg.client_rate > 0);
    if (cfg.client_rate > 0) {
        rate_interval_us_ = std::max<uint64_t>(1, static_cast<uint64_t>(1e6 / cfg.client_rate));
        rate_tolerance_us_ = rate_interval_us_ * (std::max<uint32_t>(cfg.client_burst, 1) - 1);
    }
    // The demo page asks for a token instead of a uid under --auth jwt (its script reads this).
    if (cfg.auth == "jwt") {
        size_t at = demo_page_.find("<body>");
        if (at != std::string::npos) demo_page_.replace(at, 6, "<body data-auth=\"jwt\">");
    }
}
PushService::~PushService() = default;

void PushService::set_token_verifier(std::unique_ptr<auth::TokenVerifier> verifier) { verifier_ = std::move(verifier); }

void PushService::attach(engine::Server& server) {
    server_ = &server;
    router_ = std::make_unique<LocalRouter>(server, sessions_);
}

void PushService::enable_cluster(std::vector<cluster::RedisEndpoint> shards, std::string node_id) {
    cluster_ = std::make_unique<ClusterRouter>(*server_, sessions_, stats_, cfg_, std::move(shards), std::move(node_id));
    server_->wake_within(0);  // connect at the first loop iteration, not a second later
}

void PushService::set_api(size_t listener_index, std::unique_ptr<HttpEndpoint> api) {
    api_listener_ = listener_index;
    api_ = std::move(api);
}

auth::TokenError PushService::verify_token(std::string_view token, auth::TokenClaims* claims) {
    auth::TokenError e = verifier_->verify(token, wall_seconds(), claims);
    if (e != auth::TokenError::Ok) {
        ++stats_.auth_failures[static_cast<size_t>(e)];
        LOG_DEBUG("token refused: %s", auth::token_error_name(e));
    }
    return e;
}

int PushService::on_upgrade(engine::Connection&, const codec::Upgrade& up, const char** reason) {
    pending_login_ = false;
    if (!verifier_) return 0;
    bool found;
    std::string_view token = query_param(up.query, "token", &found);
    if (!found) return 0;  // the token comes as the first message
    auth::TokenError e = verify_token(token, &pending_claims_);
    if (e != auth::TokenError::Ok) {
        ++stats_.login_failures;
        *reason = e == auth::TokenError::Expired ? "token expired" : "invalid token";
        return 401;
    }
    pending_login_ = true;
    return 0;
}

void PushService::on_open(engine::Connection& c, const codec::Upgrade&) {
    if (!pending_login_) return;
    pending_login_ = false;
    // pending_claims_.sub points into the verifier, untouched since on_upgrade.
    start_session(c, pending_claims_.sub, &pending_claims_);
}

void PushService::on_close(engine::Connection& c) {
    if (!sessions_.logged_in(c)) return sessions_.logout(c);
    LOG_DEBUG("logout uid=\"%s\" fd=%d", engine::log_escape(sessions_.uid_of(c)).c_str(), c.fd);
    if (sessions_.keeps_state()) {
        ClientState& st = sessions_.state(c);
        if (st.wheel_index != ExpiryWheel::kNone) expiry_.remove(st.exp_s, st.wheel_index);
    }
    if (!cluster_) return sessions_.logout(c);
    std::string uid(sessions_.uid_of(c));  // the view dies with the logout
    sessions_.logout(c);
    cluster_->local_presence_changed(uid);
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

void PushService::refuse_token(engine::Connection& c, auth::TokenError e) {
    ++stats_.login_failures;
    std::string_view why = e == auth::TokenError::Expired ? "token expired" : "invalid token";
    std::string text = "error: " + std::string(why);
    server_->send_message(c, Opcode::Text, text.data(), text.size());
    server_->close(c, codec::kClosePolicyViolation, why, CloseReason::Policy);
}

void PushService::login(engine::Connection& c, Opcode op, const uint8_t* data, size_t len) {
    std::string_view text(reinterpret_cast<const char*>(data), len);
    if (verifier_) {
        if (op != Opcode::Text) return refuse_login(c, "log in first: send your token as a text message");
        auth::TokenClaims claims;
        auth::TokenError e = verify_token(text, &claims);
        if (e != auth::TokenError::Ok) return refuse_token(c, e);
        return start_session(c, claims.sub, &claims);
    }
    std::string_view uid = text;
    if (op != Opcode::Text) return refuse_login(c, "log in first: send your uid as a text message");
    if (uid.empty()) return refuse_login(c, "empty uid");
    if (uid.find(':') != std::string_view::npos) return refuse_login(c, "uid must not contain ':'");
    if (uid.size() > cfg_.max_uid_len) return refuse_login(c, "uid longer than " + std::to_string(cfg_.max_uid_len) + " bytes");
    start_session(c, uid, nullptr);
}

void PushService::start_session(engine::Connection& c, std::string_view uid, const auth::TokenClaims* claims) {
    if (!sessions_.login(c, uid))
        return refuse_login(c, "uid longer than " + std::to_string(cfg_.max_uid_len) + " bytes");
    ++stats_.logins;
    LOG_DEBUG("login uid=\"%s\" fd=%d", engine::log_escape(uid).c_str(), c.fd);
    server_->authenticate(c);
    if (sessions_.keeps_state()) {
        ClientState& st = sessions_.state(c);
        st.send = client_send_;
        if (claims) {
            if (claims->has_send) st.send = std::min(st.send, claims->send);  // narrows, never widens
            st.exp_s = static_cast<uint32_t>(std::clamp<int64_t>(claims->exp, 1, UINT32_MAX));
            st.wheel_index = expiry_.add(c.id, st.exp_s);
        }
    }
    if (cluster_) cluster_->local_presence_changed(uid);
    // The reply is built in one buffer: "login success, your uid is " + uid.
    const size_t len = uid.size();
    engine::FrameRef reply(engine::SharedFrame::create(codec::frame_size(kLoginReply.size() + len)));
    size_t h = codec::encode_header(reply->data(), Opcode::Text, kLoginReply.size() + len);
    memcpy(reply->data() + h, kLoginReply.data(), kLoginReply.size());
    memcpy(reply->data() + h + kLoginReply.size(), uid.data(), len);
    server_->send(c, reply.get());
}

void PushService::refuse_send(engine::Connection& c, std::string_view error) {
    ++stats_.refused_sends;
    server_->send_message(c, Opcode::Text, error.data(), error.size());
}

// GCRA (the token bucket as one timestamp): each message moves the connection's theoretical
// arrival time one interval on; a message that finds it more than burst-1 intervals ahead of
// now is over the rate. 8 bytes per connection, no timer, a few instructions per message.
bool PushService::over_rate(ClientState& st) {
    uint32_t now32 = server_->now_ms();
    clock_ms_ += static_cast<uint32_t>(now32 - clock_last_);
    clock_last_ = now32;
    uint64_t now = clock_ms_ * 1000;
    uint64_t tat = std::max(st.rate_tat_us, now);
    if (tat - now > rate_tolerance_us_) return true;
    st.rate_tat_us = tat + rate_interval_us_;
    return false;
}

void PushService::route(engine::Connection& c, Opcode op, const uint8_t* data, size_t len) {
    auth::SendScope may_send = auth::SendScope::All;
    if (sessions_.keeps_state()) {
        ClientState& st = sessions_.state(c);
        if (rate_interval_us_ && over_rate(st)) {
            // Closed, not dropped: a client past its rate is broken or hostile, and a silent
            // drop would leave an honest one sending into the void (README "Security").
            ++stats_.rate_limited;
            return server_->close(c, codec::kClosePolicyViolation, "rate limit", CloseReason::Policy);
        }
        may_send = st.send;
    }
    if (may_send == auth::SendScope::None) return refuse_send(c, "error: this connection may not send messages");
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
    if (cfg_.mark_sender) m.sender = sessions_.uid_of(c);
    size_t n;
    const bool all = target == kBroadcastTarget;
    if (all && may_send != auth::SendScope::All) return refuse_send(c, "error: this connection may not send to all");
    if (all) ++stats_.to_all;
    else ++stats_.to_uid;
    if (cluster_) return route_cluster(c, target, m, all);
    n = all ? router_->to_all(m) : router_->to_uid(target, m);
    stats_.routed(stats_.client, m.payload_size(), n);
}

// The sender hears when the cluster could not take its message (never a silent loss).
void PushService::route_cluster(engine::Connection& c, std::string_view target, const Outgoing& m, bool all) {
    size_t n = all ? cluster_->to_all(m) : cluster_->to_uid(target, m);
    const RouteStatus& st = cluster_->status();
    stats_.routed(stats_.client, m.payload_size(), n, st.remote);
    if (!st.unavailable) return;
    ++stats_.cluster_refused;
    std::string text = all ? "error: cluster unavailable: delivered on this node only (" + std::to_string(n) + ")"
                           : "error: cluster unavailable: message to " + std::string(target) +
                                 " not delivered beyond this node (" + std::to_string(n) + " here)";
    server_->send_message(c, Opcode::Text, text.data(), text.size());
}

bool PushService::on_http_head(engine::Connection& c, const codec::HttpRequest& req) {
    return c.listener == api_listener_ && api_ ? api_->admit(c, req) : true;
}

void PushService::on_http(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) {
    if (c.listener == api_listener_ && api_) return api_->handle(c, req, body, len);
    if (req.path == "/" || req.path == "/index.html") {
        if (req.method != "GET")
            return server_->respond(c, 405, "application/json", "{\"error\":\"method not allowed\"}\n", "Allow: GET\r\n");
        return server_->respond(c, 200, "text/html; charset=utf-8", demo_page_);
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
    if (expiry_.size() > 0) expire_tokens();
    if (cluster_) cluster_->tick(now_ms);
    if (cfg_.stats_interval > 0) {
        if (next_stats_ms_ == 0) next_stats_ms_ = now_ms + static_cast<uint32_t>(cfg_.stats_interval * 1000);
        if (static_cast<int32_t>(now_ms - next_stats_ms_) >= 0) {
            next_stats_ms_ = now_ms + static_cast<uint32_t>(cfg_.stats_interval * 1000);
            LOG_INFO("%s", stats_line().c_str());
        }
    }
    return busy;
}

void PushService::expire_tokens() {
    expiry_.expire(static_cast<uint32_t>(wall_seconds()), [this](registry::ConnId id) {
        engine::Connection* c = server_->get(id);
        if (!c) return;
        sessions_.state(*c).wheel_index = ExpiryWheel::kNone;
        ++stats_.token_expired;
        server_->close(*c, codec::kClosePolicyViolation, "token expired", CloseReason::Policy);
    });
}

// Tokens expire on whole seconds: while any is held, wake just after each second begins.
uint32_t PushService::next_tick_in_ms() {
    if (expiry_.size() == 0) return UINT32_MAX;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint32_t>(1000 - ts.tv_nsec / 1'000'000);
}

std::string PushService::stats_line() const {
    const engine::EngineStats& e = server_->stats();
    char buf[2048];  // every counter at 20 digits still fits
    int n = snprintf(buf, sizeof buf,
                     "stats conns=%zu ws=%zu online=%zu uids=%zu logins=%llu login_failures=%llu "
                     "msgs_in=%llu to_uid=%llu to_all=%llu deliveries=%llu dropped_offline=%llu "
                     "bad_format=%llu auth_failures=%llu refused_sends=%llu rate_limited=%llu token_expired=%llu "
                     "bytes_in=%llu bytes_out=%llu writevs=%llu refused_fd=%llu over_max_conns=%llu "
                     "over_max_conns_per_ip=%llu origin_refused=%llu http_idle_evicted=%llu bad_requests=%llu",
                     server_->connections(), server_->open_websockets(), sessions_.online().size(),
                     sessions_.uids().uid_count(),
                     (unsigned long long)stats_.logins, (unsigned long long)stats_.login_failures,
                     (unsigned long long)e.messages_in, (unsigned long long)stats_.to_uid,
                     (unsigned long long)stats_.to_all, (unsigned long long)stats_.deliveries(),
                     (unsigned long long)stats_.dropped_offline, (unsigned long long)stats_.bad_format,
                     (unsigned long long)stats_.auth_failures_total(), (unsigned long long)stats_.refused_sends,
                     (unsigned long long)stats_.rate_limited, (unsigned long long)stats_.token_expired,
                     (unsigned long long)e.bytes_in, (unsigned long long)e.bytes_out,
                     (unsigned long long)e.writev_calls, (unsigned long long)e.accept_refused_fd,
                     (unsigned long long)e.over_max_conns, (unsigned long long)e.over_max_conns_per_ip,
                     (unsigned long long)e.origin_refused, (unsigned long long)e.http_idle_evicted,
                     (unsigned long long)e.bad_requests);
    std::string line(buf, static_cast<size_t>(n));
    struct mallinfo2 mi = mallinfo2();  // O(arena bins): fine once per stats interval
    line += " heap_in_use=" + std::to_string(mi.uordblks) + " heap_free=" + std::to_string(mi.fordblks);
    line += " inbound_buffered=" + std::to_string(server_->inbound_buffered());
    if (const engine::TlsStats* t = server_->tls_stats()) {
        snprintf(buf, sizeof buf,
                 " tls_handshakes=%llu tls_resumed=%llu tls_failed=%llu tls_plain_http=%llu tls_aborted=%llu "
                 "tls_reloads=%llu tls_reload_failures=%llu tls_own_records=%llu tls_key_updates=%llu "
                 "tls_record_failures=%llu tls_ticket_key_rotations=%llu tls_tickets_renewed=%llu "
                 "tls_tickets_refused=%llu",
                 (unsigned long long)t->handshakes, (unsigned long long)t->resumed,
                 (unsigned long long)t->handshake_failures, (unsigned long long)t->plain_http,
                 (unsigned long long)t->handshake_aborted, (unsigned long long)t->reloads,
                 (unsigned long long)t->reload_failures, (unsigned long long)t->own_records,
                 (unsigned long long)t->key_updates, (unsigned long long)t->record_failures,
                 (unsigned long long)t->ticket_key_rotations, (unsigned long long)t->tickets_renewed,
                 (unsigned long long)t->tickets_refused);
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
