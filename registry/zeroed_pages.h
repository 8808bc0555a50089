// Zeroed arrays for UidTable's slot arrays. Returns null on failure (like calloc).
//
// Why not calloc/free: a 2^21-slot array is 32 MiB. Big arrays come straight from mmap, so the
// zero fill is lazy (a page is zeroed by the kernel on first touch, spread over the inserts that
// touch it) and the pages behind the migration cursor can be handed back a piece at a time with
// madvise(MADV_DONTNEED). Freeing a fully populated 16 MiB array in one munmap takes about a
// millisecond, which is the stall the incremental growth exists to avoid.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace wspush::registry {

inline constexpr size_t kMmapThreshold = size_t(1) << 16;  // calloc's memset costs < 5 us below
inline constexpr size_t kPageRelease = size_t(1) << 15;    // madvise granularity behind cursor

inline void* zeroed_pages_alloc(size_t bytes) {
    if (bytes < kMmapThreshold) return std::calloc(1, bytes);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

inline void zeroed_pages_free(void* p, size_t bytes) {
    if (!p) return;
    if (bytes < kMmapThreshold)
        std::free(p);
    else
        munmap(p, bytes);
}

// Unmaps [p + from, p + to) of an mmap'd array (from and to multiples of the page size, or to
// its end): a retired array goes away in slices, each a short munmap.
inline void zeroed_pages_unmap(void* p, size_t from, size_t to) {
    if (to > from) munmap(static_cast<char*>(p) + from, to - from);
}

// Gives back the whole pages inside [p + from, p + to) (byte offsets) of an mmap'd array; they
// read as zero afterwards. Returns the bytes given back (0 for calloc'd arrays). Partial pages
// at either end are kept.
inline size_t zeroed_pages_release(void* p, size_t bytes, size_t from, size_t to) {
    constexpr size_t kPage = 4096;
    from = (from + kPage - 1) / kPage * kPage;
    to = to / kPage * kPage;
    if (bytes < kMmapThreshold || to <= from) return 0;
    madvise(static_cast<char*>(p) + from, to - from, MADV_DONTNEED);
    return to - from;
}

}  // namespace wspush::registry
