// IovCursor: a position in an iovec array, moved forward by byte counts (what a partial write
// took). Used by both TLS write paths to walk the queue's gathered frames.
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace wspush::engine {

struct IovCursor {
    const struct iovec* iov;
    int n;
    int i = 0;
    size_t off = 0;  // into iov[i]

    bool at_end() const { return i >= n; }
    size_t left_in_this() const { return iov[i].iov_len - off; }
    const uint8_t* here() const { return static_cast<const uint8_t*>(iov[i].iov_base) + off; }
    void advance(size_t bytes) {
        while (i < n) {
            size_t left = iov[i].iov_len - off;
            if (bytes < left) {
                off += bytes;
                return;
            }
            bytes -= left;
            ++i;
            off = 0;
            if (bytes == 0) break;
        }
        while (i < n && iov[i].iov_len == 0) ++i;  // empty frames are never a record's start
    }
};

}  // namespace wspush::engine
