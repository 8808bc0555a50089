// The open-file limit: a process holds one fd per connection, so this is the connection
// ceiling. raise_fd_limit() lifts the soft limit to the hard limit and returns it.
#pragma once
#include <cstddef>

namespace wspush::engine {

struct FdLimit {
    size_t soft_before;
    size_t soft;  // in force now
    size_t hard;
};

FdLimit raise_fd_limit();

// Fds the engine needs besides connections: epoll, signalfd, listeners, the EMFILE reserve,
// stdio, and headroom for logs and API clients.
constexpr size_t kFdOverhead = 32;

}  // namespace wspush::engine
