// HTTP/1.1 request-head parser, in the manner of picohttpparser: stateless, no allocation,
// every string_view points into the caller's buffer.
//
// Return contract (the same for every function here that parses):
//   > 0               bytes consumed: the whole head including the blank line
//   kHttpIncomplete   (-2) need more bytes; call again with the longer buffer
//   kHttpError        (-1) malformed; *status says what to answer (400, 431, 505)
//
// Incremental use: the caller keeps the unconsumed bytes and calls again when more arrive,
// passing the previous length as `last_len` so the search for the end of the head resumes
// where it stopped (feeding one byte at a time stays O(n), not O(n^2)).
// Bytes after the head (a request body, or WebSocket frames sent right behind the upgrade
// request) are not touched: they start at buf + return value.
#pragma once
#include <cstddef>
#include <string_view>

namespace wspush::codec {

constexpr long kHttpIncomplete = -2;
constexpr long kHttpError = -1;
constexpr size_t kMaxHttpHeaders = 64;           // more than this: 431
constexpr size_t kDefaultMaxHttpHead = 8 * 1024; // callers pass their own limit

struct HttpHeader {
    std::string_view name;   // as sent (compare case-insensitively)
    std::string_view value;  // leading and trailing spaces/tabs removed
};

struct HttpRequest {
    std::string_view method;  // "GET"
    std::string_view target;  // "/chat?room=1"
    std::string_view path;    // "/chat"
    std::string_view query;   // "room=1" (without '?'), empty when absent
    int minor_version = 1;    // HTTP/1.x
    size_t num_headers = 0;
    HttpHeader headers[kMaxHttpHeaders];

    // First header with this name (case-insensitive); empty view when absent.
    std::string_view header(std::string_view name) const;
    // Whether a header with this name is present (even with an empty value).
    bool has_header(std::string_view name) const;
};

// Parses the request line and headers of buf[0..len). Heads longer than max_head bytes,
// or with more than kMaxHttpHeaders headers, give kHttpError with *status = 431.
// A request line that is not "METHOD SP target SP HTTP/1.x" gives 400 (505 for HTTP/2+).
// CRLF and bare LF line endings are both accepted (RFC 9112 2.2).
long parse_http_request(const char* buf, size_t len, size_t last_len, size_t max_head,
                        HttpRequest& req, int* status);

// Case-insensitive ASCII comparison.
bool ascii_iequals(std::string_view a, std::string_view b);

// RFC 9112 3.2: what is wrong with the request's Host fields, or nullptr. A server answers 400
// to an HTTP/1.1 request without Host and to any request with more than one (a proxy in front
// and this server could each read a different one). HTTP/1.0 needs none.
const char* host_field_problem(const HttpRequest& req);

// Whether a comma-separated token list ("keep-alive, Upgrade") holds `token`, case-insensitively.
bool header_has_token(std::string_view list, std::string_view token);

// Calls f(item) for each element of an RFC 9110 5.6.1 list ("a, b,,c"): split at commas,
// spaces and tabs trimmed, empty elements skipped. f returns false to stop; the walk then
// returns false. O(list length), no allocation.
template <class F>
bool for_each_list_item(std::string_view list, F&& f) {
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        std::string_view item = list.substr(pos, comma - pos);
        pos = comma + 1;
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty() && !f(item)) return false;
    }
    return true;
}

}  // namespace wspush::codec
