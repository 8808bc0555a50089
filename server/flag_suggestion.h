// "Did you mean --port?" for a mistyped flag. Return contract: the closest known flag, or ""
// when none is close enough to be a likely typo (a suggestion that is wrong is worse than none).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace wspush::server {

// typed and known are flag names without dashes ("prot", {"port", "host", ...}). Close enough:
// at most 2 edits (insert, delete, substitute, or swap two neighbours: "prot" -> "port"), at
// most 1 for names of 4 letters or fewer; or typed is the start of exactly one known name
// ("max-mess" -> "max-message"). O(len^2) per name: start-up only.
std::string closest_flag(std::string_view typed, const std::vector<std::string>& known);

}  // namespace wspush::server
