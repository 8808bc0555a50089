// What a scenario sends and how it checks what arrives, on top of a WorkerLoop that owns the
// sockets. The loop calls, once per turn: on_message() for each data message on a logged-in
// connection, then publish() (batched counters to shared memory), then pump() (send what is
// due), then flushes every connection written to.
//
// pump() returns how long the loop may wait in ns: 0 = more to send now, > 0 = the next
// message is due then (or another process is polled), -1 = nothing to do (idle timeout).
// The loop waits with epoll_pwait2, so a paced sender is not rounded to milliseconds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace wsload {

class WorkerLoop;
struct ClientConnection;
struct LoadOptions;

class TrafficModel {
public:
    virtual ~TrafficModel() = default;
    virtual void start(uint64_t run_start_ns) = 0;
    virtual int64_t pump(uint64_t now_ns) = 0;
    virtual void on_message(ClientConnection& conn, const uint8_t* data, size_t len,
                            uint64_t now_ns) = 0;
    virtual void publish() = 0;
    virtual bool done_sending() const = 0;
    // Output ring capacity for a connection: senders need room for a burst.
    virtual uint32_t ring_capacity(uint32_t global_index) const = 0;
};

// nullptr for the connect scenario (no traffic).
std::unique_ptr<TrafficModel> make_traffic_model(const LoadOptions& opts, WorkerLoop& loop);

}  // namespace wsload
