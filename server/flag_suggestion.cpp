#include "server/flag_suggestion.h"

#include <algorithm>

namespace wspush::server {

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::string closest_flag(std::string_view typed, const std::vector<std::string>& known) {
    if (typed.empty()) return "";
    std::string best;
    size_t best_distance = typed.size() <= 4 ? 1 : 2;
    bool tie = false;
    for (const std::string& k : known) {
        size_t dist = edit_distance(typed, k);
        if (dist < best_distance || (dist == best_distance && best.empty())) {
            best = k;
            best_distance = dist;
            tie = false;
        } else if (dist == best_distance && k != best) {
            tie = true;
        }
    }
    // Every letter replaced ("x" -> "h") is not a typo of that flag.
    if (!best.empty() && !tie && best_distance < typed.size()) return best;
    std::string prefixed;
    for (const std::string& k : known) {
        if (k.size() > typed.size() && k.compare(0, typed.size(), typed) == 0) {
            if (!prefixed.empty()) return "";  // the start of several: no guess
            prefixed = k;
        }
    }
    return prefixed;
}

}  // namespace wspush::server
