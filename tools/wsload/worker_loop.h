// One worker process's event loop: one epoll instance, the connections this worker owns
// (global index i with i % procs == worker), connect + handshake + login, ping/close
// handling, and a TrafficModel that sends and verifies. Every read goes through one shared
// 256 KB receive buffer; every write is queued in the connection's OutputRing and flushed once
// per turn with writev.
//
// run() returns when the coordinator sets Phase::Stop; the report then holds this worker's
// counters and histograms.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "codec/frame_parser.h"
#include "tools/wsload/client_connection.h"
#include "tools/wsload/load_options.h"
#include "tools/wsload/shared_run_state.h"
#include "tools/wsload/traffic_model.h"
#include "tools/wsload/worker_report.h"

typedef struct ssl_session_st SSL_SESSION;
typedef struct ssl_ctx_st SSL_CTX;

namespace wsload {

uint64_t monotonic_ns();

class WorkerLoop final : private wspush::codec::FrameSink {
public:
    WorkerLoop(const LoadOptions& opts, SharedRunState& shared, uint32_t worker);
    ~WorkerLoop() override;

    void run(WorkerReport& report);

    // For traffic models.
    const LoadOptions& options() const { return opts_; }
    SharedRunState& shared() { return shared_; }
    WorkerReport& report() { return *report_; }
    uint32_t worker() const { return worker_; }
    bool owns(uint32_t global) const { return global % opts_.procs == worker_; }
    uint32_t local_of(uint32_t global) const { return global / opts_.procs; }
    uint32_t local_count() const { return static_cast<uint32_t>(conns_.size()); }
    ClientConnection& local(uint32_t i) { return conns_[i]; }
    // Masks and queues one frame; false (and a send stall counted) when the ring is full.
    bool queue_frame(ClientConnection& c, wspush::codec::Opcode op, const uint8_t* payload,
                     size_t len);

private:
    bool on_message(wspush::codec::Opcode op, uint8_t* data, size_t len, bool) override;
    bool on_control(wspush::codec::Opcode op, uint8_t* data, size_t len) override;

    void open_more_connections();
    void start_connect(ClientConnection& c);
    void on_event(ClientConnection& c, uint32_t events);
    void on_connected(ClientConnection& c);
    void continue_tls_handshake(ClientConnection& c);
    void send_upgrade_request(ClientConnection& c);
    ssize_t flush_out(ClientConnection& c);
    void on_readable(ClientConnection& c);
    bool consume_handshake(ClientConnection& c, uint8_t*& data, size_t& len);
    void feed_frames(ClientConnection& c, uint8_t* data, size_t len);
    bool queue_raw(ClientConnection& c, const void* data, size_t len);
    void flush_dirty();
    void watch(ClientConnection& c, bool want_write);
    void fail_connection(ClientConnection& c, uint64_t& counter);
    void close_fd(ClientConnection& c);

    const LoadOptions& opts_;
    SharedRunState& shared_;
    uint32_t worker_;
    int epfd_ = -1;
    WorkerReport* report_ = nullptr;
    std::unique_ptr<TrafficModel> traffic_;
    std::vector<ClientConnection> conns_;
    std::vector<uint32_t> dirty_;           // local indices written to this turn (reserved)
    std::unique_ptr<uint8_t[]> recv_buf_;   // one per loop, shared by every connection
    std::unique_ptr<uint8_t[]> frame_buf_;  // one encoded client frame
    size_t frame_cap_ = 0;
    uint32_t next_to_open_ = 0;             // local index
    uint32_t pending_ = 0;                  // connects started, not yet logged in or failed
    uint32_t pending_limit_ = 0;
    uint64_t now_ns_ = 0;
    uint64_t mask_state_;                   // xorshift state for mask keys
    ClientConnection* current_ = nullptr;   // the connection being fed to the parser
    wspush::codec::FrameLimits limits_;
    SSL_CTX* tls_ctx_ = nullptr;            // --tls: one client context per worker
    SSL_SESSION* tls_session_ = nullptr;    // --tls-resume: the session every new connection resumes
};

}  // namespace wsload
