// base64url without padding (RFC 4648 section 5), as JWS compact serialization uses it
// (RFC 7515 section 2). Strict: only the URL alphabet, no '=', no whitespace, and the unused
// low bits of the last character must be zero, so each byte string has exactly one encoding
// (a token cannot be altered without changing its signed bytes).
//
// Return contract: base64url_decode writes at most base64url_decoded_size(len) bytes to out and
// returns how many, or -1 when the text is not canonical base64url (out is then unspecified).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wspush::auth {

constexpr size_t base64url_decoded_size(size_t len) { return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1); }

long base64url_decode(std::string_view in, uint8_t* out);

// Appends the unpadded base64url encoding of bytes to out.
void base64url_encode(const void* bytes, size_t len, std::string& out);

}  // namespace wspush::auth
