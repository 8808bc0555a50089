// tag_group.h's scalar fallback (what a build without SSE2 compiles), built here on any target so
// that arena_reuse_test.cpp checks it against the SSE2 path and a byte-by-byte reference. It is
// included inside its own namespace so that its TagGroup is not the one every other file uses
// (two definitions of one class would break the one-definition rule).
#include <cstdint>
#include <cstring>

#pragma push_macro("__SSE2__")
#undef __SSE2__
namespace scalar_fallback {
#include "registry/tag_group.h"
}
#pragma pop_macro("__SSE2__")

namespace wspush::registry {

uint32_t scalar_tag_match(const uint8_t* group, uint8_t tag) {
    return scalar_fallback::wspush::registry::TagGroup(group).match(tag);
}
uint32_t scalar_tag_empty(const uint8_t* group) { return scalar_fallback::wspush::registry::TagGroup(group).empty(); }

}  // namespace wspush::registry
