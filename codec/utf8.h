// UTF-8 validation (RFC 3629): overlong forms, surrogates (U+D800..DFFF) and code points
// above U+10FFFF are invalid. A SIMD path in the manner of Keiser and Lemire, "Validating
// UTF-8 in less than one instruction per byte" (2021), with ASCII runs at memory speed, and a
// scalar path with the same results.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/unmask.h"  // SimdLevel

namespace wspush::codec {

// One-shot: is the whole buffer valid UTF-8 (no sequence cut off at the end)?
bool utf8_valid(const uint8_t* data, size_t len);
// The same with a chosen implementation (Scalar, or the SIMD levels the CPU has).
bool utf8_valid_with(SimdLevel level, const uint8_t* data, size_t len);

// Incremental validation across fragments: a code point may be split between feeds.
// feed() returns false as soon as the bytes seen so far cannot begin valid UTF-8; then the
// stream stays failed until reset(). complete() tells whether the bytes so far end on a
// character boundary (check it when the message ends). Four bytes of state.
class Utf8Stream {
public:
    bool feed(const uint8_t* data, size_t len);
    bool complete() const { return pending_ == 0 && !failed_; }
    bool failed() const { return failed_; }
    void reset() { pending_ = 0; failed_ = false; need_ = 0; lead_ = 0; }

private:
    uint8_t pending_ = 0;  // continuation bytes still expected
    uint8_t need_ = 0;     // implementation-defined (bytes of the current sequence seen)
    uint8_t lead_ = 0;     // implementation-defined (constraint on the next byte)
    bool failed_ = false;
};

}  // namespace wspush::codec
