#include "tools/wsload/shared_run_state.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace wsload {

static_assert(sizeof(BroadcastSlot) == 24);
static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared atomics must not use locks");

SharedRunState* SharedRunState::create(uint64_t max_broadcasts, uint32_t senders) {
    size_t head = (sizeof(SharedRunState) + 63) & ~size_t(63);
    size_t slots = max_broadcasts * sizeof(BroadcastSlot);
    size_t bytes = head + slots + size_t(senders) * sizeof(uint64_t);
    // Anonymous mappings are zero-filled and touched lazily: an unused slot costs nothing.
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("wsload: mmap shared state");
        exit(2);
    }
    auto* base = static_cast<char*>(mem);
    auto* s = new (base) SharedRunState{};
    s->slots = reinterpret_cast<BroadcastSlot*>(base + head);
    s->delivered_by_sender = reinterpret_cast<std::atomic<uint64_t>*>(base + head + slots);
    s->max_broadcasts = max_broadcasts;
    s->senders = senders;
    return s;
}

}  // namespace wsload
