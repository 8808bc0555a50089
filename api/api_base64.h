// Base64 (RFC 4648 section 4, the standard alphabet) decoding for binary pushes: the API
// carries binary messages as base64 JSON strings.
//
// Return contract: true and `out` holds the bytes (appended), or false for any character
// outside the alphabet, misplaced '=' or a length that is not a whole number of quanta.
// Padding may be omitted ("QQ" == "QQ=="); whitespace is not accepted.
#pragma once
#include <string>
#include <string_view>

namespace wspush::api {

bool base64_decode(std::string_view in, std::string& out);

}  // namespace wspush::api
