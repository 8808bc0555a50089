#include "engine/fd_limit.h"

#include <sys/resource.h>

namespace wspush::engine {

FdLimit raise_fd_limit() {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    FdLimit out{static_cast<size_t>(rl.rlim_cur), static_cast<size_t>(rl.rlim_cur),
                static_cast<size_t>(rl.rlim_max)};
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) out.soft = static_cast<size_t>(rl.rlim_max);
    }
    return out;
}

}  // namespace wspush::engine
