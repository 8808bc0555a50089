#include "codec/origin_allowlist.h"

#include "codec/http_request.h"

namespace wspush::codec {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
}

bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
           c == '.';
}

// host[:port]: letters, digits, '-', '.', and an IPv6 literal's brackets and colons.
bool is_authority_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == ':' || c == '[' || c == ']';
}

// "scheme://authority" with nothing after the authority. False when it is not that shape.
// wildcard: a list entry, whose authority may start with "*.".
bool split_origin(std::string_view origin, std::string_view* scheme, std::string_view* authority,
                  bool wildcard = false) {
    size_t sep = origin.find("://");
    if (sep == 0 || sep == std::string_view::npos) return false;
    *scheme = origin.substr(0, sep);
    *authority = origin.substr(sep + 3);
    if (authority->empty()) return false;
    for (char c : *scheme)
        if (!is_scheme_char(c)) return false;
    std::string_view checked = *authority;
    if (wildcard && checked.substr(0, 2) == "*.") checked.remove_prefix(2);
    for (char c : checked)
        if (!is_authority_char(c)) return false;
    return true;
}

}  // namespace

bool OriginAllowlist::parse(std::string_view list, std::string* error) {
    std::vector<Entry> entries;
    bool ok = for_each_list_item(list, [&](std::string_view item) {
        if (item == "null") {
            entries.push_back(Entry{"null", "", false});
            return true;
        }
        std::string_view scheme, authority;
        if (!split_origin(item, &scheme, &authority, true)) {
            *error = "'" + std::string(item) + "' is not an origin: scheme://host[:port], e.g. https://app.example.com";
            return false;
        }
        Entry e{lower(scheme), lower(authority), false};
        if (authority.substr(0, 2) == "*.") {
            if (authority.size() < 3 || authority[2] == '.' || authority[2] == ':' || authority[2] == '[') {
                *error = "'" + std::string(item) + "': a wildcard needs a domain after '*.'";
                return false;
            }
            e.host.erase(0, 1);  // ".example.com[:port]"
            e.wildcard = true;
        }
        entries.push_back(std::move(e));
        return true;
    });
    if (!ok) return false;
    entries_ = std::move(entries);
    return true;
}

bool OriginAllowlist::allows(std::string_view origin) const {
    if (entries_.empty()) return true;
    if (origin == "null") {
        for (const Entry& e : entries_)
            if (e.scheme == "null") return true;
        return false;
    }
    std::string_view scheme, authority;
    if (!split_origin(origin, &scheme, &authority)) return false;
    for (const Entry& e : entries_) {
        if (e.scheme == "null" || !ascii_iequals(scheme, e.scheme)) continue;
        if (!e.wildcard) {
            if (ascii_iequals(authority, e.host)) return true;
            continue;
        }
        // "*.example.com" needs at least one label before ".example.com"; the label's
        // characters were checked by split_origin, so no ':' or '/' can hide in it.
        if (authority.size() <= e.host.size()) continue;
        std::string_view prefix = authority.substr(0, authority.size() - e.host.size());
        if (!ascii_iequals(authority.substr(prefix.size()), e.host)) continue;
        if (prefix.find(':') != std::string_view::npos || prefix.find('[') != std::string_view::npos ||
            prefix.front() == '.' || prefix.back() == '.')
            continue;
        return true;
    }
    return false;
}

}  // namespace wspush::codec
