// Outgoing bytes of one client connection: a fixed-capacity ring, flushed with one writev()
// of at most two segments (the wrap-around), once per event-loop turn. Frames queued during a
// turn leave in one syscall: this is where wsload batches.
//
//   storage_: [......begin######end.......]        one segment
//             [####end.............begin####]       two segments (wrapped)
//
// Return contract: append() false = no room (nothing written; the caller waits for the
// socket to drain); flush() = bytes written, 0 on EAGAIN, -1 on a socket error (errno set).
// The storage is allocated on first append and freed by release(): receivers only ever queue
// a login, a pong or a close, so an idle receiver holds no buffer.
#pragma once
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace wsload {

class OutputRing {
public:
    OutputRing() = default;
    OutputRing(const OutputRing&) = delete;
    OutputRing& operator=(const OutputRing&) = delete;
    ~OutputRing() { free(storage_); }

    uint32_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    uint32_t room(uint32_t capacity_wanted) const {
        return (storage_ ? capacity_ : capacity_wanted) - size_;
    }

    bool append(const uint8_t* data, uint32_t len, uint32_t capacity_wanted) {
        if (!storage_) {
            storage_ = static_cast<uint8_t*>(malloc(capacity_wanted));
            if (!storage_) return false;
            capacity_ = capacity_wanted;
            begin_ = 0;
        }
        if (len > capacity_ - size_) return false;
        uint32_t tail = (begin_ + size_) % capacity_;
        uint32_t first = len < capacity_ - tail ? len : capacity_ - tail;
        memcpy(storage_ + tail, data, first);
        memcpy(storage_, data + first, len - first);
        size_ += len;
        return true;
    }

    ssize_t flush(int fd) {
        if (size_ == 0) return 0;
        iovec iov[2];
        uint32_t first = size_ < capacity_ - begin_ ? size_ : capacity_ - begin_;
        iov[0] = {storage_ + begin_, first};
        iov[1] = {storage_, size_ - first};
        ssize_t n = writev(fd, iov, size_ > first ? 2 : 1);
        if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
        begin_ = static_cast<uint32_t>((begin_ + n) % capacity_);
        size_ -= static_cast<uint32_t>(n);
        if (size_ == 0) begin_ = 0;
        return n;
    }

    // The same through TLS records of up to 16 KiB. A blocked write returns what went before it;
    // the ring still holds the blocked record's bytes at its head, as OpenSSL's retry requires.
    template <class WriteFn>  // ssize_t(const uint8_t*, size_t): > 0 taken, 0 blocked, -1 error
    ssize_t flush_with(WriteFn write_record) {
        ssize_t total = 0;
        while (size_ > 0) {
            uint32_t first = size_ < capacity_ - begin_ ? size_ : capacity_ - begin_;
            if (first > 16384) first = 16384;
            ssize_t n = write_record(storage_ + begin_, first);
            if (n < 0) return -1;
            if (n == 0) break;
            begin_ = static_cast<uint32_t>((begin_ + n) % capacity_);
            size_ -= static_cast<uint32_t>(n);
            total += n;
        }
        if (size_ == 0) begin_ = 0;
        return total;
    }

    void release() {  // drop an empty ring's storage
        if (size_ == 0) {
            free(storage_);
            storage_ = nullptr;
            capacity_ = 0;
        }
    }

private:
    uint8_t* storage_ = nullptr;
    uint32_t capacity_ = 0;
    uint32_t begin_ = 0;
    uint32_t size_ = 0;
};

}  // namespace wsload
