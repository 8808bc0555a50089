// HTTP/1.1 request-head parser (RFC 9112 sections 2-5). Two passes over the head, both O(n):
// find the blank line (resumable from last_len), then parse lines between known bounds, so
// the line parser never has to handle "ran out of bytes" and stays short.
#include "codec/http_request.h"

#include <cstring>

#include "codec/http_status.h"

namespace wspush::codec {
namespace {

// RFC 9110 5.6.2 tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA.
constexpr bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
    }
}

// field-vchar / obs-text / SP / HTAB (RFC 9110 5.5): anything but other controls and DEL.
constexpr bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

// request-target bytes: visible ASCII or obs-text; no spaces, no controls.
constexpr bool is_target_char(unsigned char c) { return c > 0x20 && c != 0x7F; }

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

// End of the head (index just past the blank line) in buf[0..len), or 0 if not there yet.
// A blank line is "\n\n" or "\n\r\n". Starts 3 bytes before `from` so a terminator split by
// the previous call is still seen.
size_t find_head_end(const char* buf, size_t len, size_t from) {
    size_t i = from > 3 ? from - 3 : 0;
    while (i < len) {
        const void* nl = memchr(buf + i, '\n', len - i);
        if (!nl) return 0;
        i = static_cast<const char*>(nl) - buf + 1;
        if (i < len && buf[i] == '\n') return i + 1;
        if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') return i + 2;
    }
    return 0;
}

// Consumes a line ending at p: "\r\n" or "\n". Returns the new position or nullptr.
const char* eat_eol(const char* p, const char* end) {
    if (p < end && *p == '\r') ++p;
    if (p < end && *p == '\n') return p + 1;
    return nullptr;
}

// "METHOD SP target SP HTTP/1.x" EOL. Returns the position after the line or nullptr.
const char* parse_request_line(const char* p, const char* end, HttpRequest& req, int* status) {
    const char* start = p;
    while (p < end && is_tchar(static_cast<unsigned char>(*p))) ++p;
    if (p == start || p == end || *p != ' ') return nullptr;
    req.method = {start, size_t(p - start)};
    start = ++p;
    while (p < end && is_target_char(static_cast<unsigned char>(*p))) ++p;
    if (p == start || p == end || *p != ' ') return nullptr;
    req.target = {start, size_t(p - start)};
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string_view::npos ? std::string_view{} : req.target.substr(q + 1);
    ++p;
    if (end - p < 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.') return nullptr;
    if (p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9') return nullptr;
    if (p[5] != '1') {
        if (p[5] >= '2') *status = kHttpVersionNotSupported;
        return nullptr;
    }
    req.minor_version = p[7] - '0';
    return eat_eol(p + 8, end);
}

// "name: OWS value OWS" EOL. Returns the position after the line or nullptr (400).
const char* parse_header_line(const char* p, const char* end, HttpHeader& h) {
    const char* start = p;
    while (p < end && is_tchar(static_cast<unsigned char>(*p))) ++p;
    // An empty name also catches obsolete line folding (a line starting with SP/HTAB).
    if (p == start || p == end || *p != ':') return nullptr;
    h.name = {start, size_t(p - start)};
    ++p;
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    start = p;
    while (p < end && is_value_char(static_cast<unsigned char>(*p))) ++p;
    const char* vend = p;
    while (vend > start && (vend[-1] == ' ' || vend[-1] == '\t')) --vend;
    h.value = {start, size_t(vend - start)};
    return eat_eol(p, end);  // a control char (or bare CR) in the value fails here
}

}  // namespace

long parse_http_request(const char* buf, size_t len, size_t last_len, size_t max_head,
                        HttpRequest& req, int* status) {
    *status = kHttpBadRequest;
    size_t head_len = find_head_end(buf, len, last_len);
    if (head_len == 0) {
        if (len > max_head) {
            *status = kHttpHeadersTooLarge;
            return kHttpError;
        }
        return kHttpIncomplete;
    }
    if (head_len > max_head) {
        *status = kHttpHeadersTooLarge;
        return kHttpError;
    }
    const char* end = buf + head_len;
    req.num_headers = 0;
    const char* p = parse_request_line(buf, end, req, status);
    if (!p) return kHttpError;
    for (;;) {
        if (const char* after = eat_eol(p, end)) {
            if (after != end) return kHttpError;  // cannot happen: head_len is the first blank line
            return long(head_len);
        }
        if (req.num_headers == kMaxHttpHeaders) {
            *status = kHttpHeadersTooLarge;
            return kHttpError;
        }
        p = parse_header_line(p, end, req.headers[req.num_headers]);
        if (!p) return kHttpError;
        ++req.num_headers;
    }
}

bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool header_has_token(std::string_view list, std::string_view token) {
    return !for_each_list_item(list, [&](std::string_view item) { return !ascii_iequals(item, token); });
}

std::string_view HttpRequest::header(std::string_view name) const {
    for (size_t i = 0; i < num_headers; ++i)
        if (ascii_iequals(headers[i].name, name)) return headers[i].value;
    return {};
}

const char* host_field_problem(const HttpRequest& req) {
    size_t hosts = 0;
    for (size_t i = 0; i < req.num_headers; ++i) hosts += ascii_iequals(req.headers[i].name, "Host");
    if (hosts > 1) return "more than one Host header";
    if (hosts == 0 && req.minor_version >= 1) return "HTTP/1.1 requires a Host header";
    return nullptr;
}

bool HttpRequest::has_header(std::string_view name) const {
    for (size_t i = 0; i < num_headers; ++i)
        if (ascii_iequals(headers[i].name, name)) return true;
    return false;
}

}  // namespace wspush::codec
