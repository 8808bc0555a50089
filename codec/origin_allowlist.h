// OriginAllowlist: which browser origins may open a WebSocket (--allowed-origins). A page on
// another site can make the victim's browser open a WebSocket to us with the victim's cookies
// and network position (cross-site WebSocket hijacking); browsers always send the page's
// Origin with the handshake, so refusing unknown origins stops that. Non-browser clients send
// any Origin they like or none: the list is no authentication, and a handshake without Origin
// is not a browser's and is let through.
//
// Entries are serialized origins (RFC 6454 6.2) "scheme://host[:port]", compared
// case-insensitively, or a wildcard "scheme://*.domain[:port]" that matches any subdomain of
// domain at any depth (not domain itself). "null" (opaque origins: sandboxed frames, files)
// matches only when listed. An empty list allows everything.
// Cost: O(entries x origin length) per handshake; lists are a few entries.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace wspush::codec {

class OriginAllowlist {
public:
    // Parses a comma-separated list. False with *error naming the bad entry; then unchanged.
    bool parse(std::string_view list, std::string* error);
    bool empty() const { return entries_.empty(); }
    size_t size() const { return entries_.size(); }
    bool allows(std::string_view origin) const;

private:
    struct Entry {
        std::string scheme;  // "https", lower case
        std::string host;    // "app.example.com[:port]", or for a wildcard ".example.com[:port]"
        bool wildcard;
    };
    std::vector<Entry> entries_;
};

}  // namespace wspush::codec
