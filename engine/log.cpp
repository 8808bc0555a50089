#include "engine/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace wspush::engine {

namespace {
LogLevel g_level = LogLevel::Info;
const char* const kNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

bool parse_log_level(std::string_view name, LogLevel* out) {
    for (int i = 0; i < 4; ++i) {
        if (name == kNames[i]) {
            *out = static_cast<LogLevel>(i);
            return true;
        }
    }
    return false;
}

std::string log_escape(std::string_view text, size_t max) {
    std::string out;
    size_t n = std::min(text.size(), max);
    out.reserve(n + 8);
    for (size_t i = 0; i < n; ++i) {
        unsigned char ch = static_cast<unsigned char>(text[i]);
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
            char buf[5];
            snprintf(buf, sizeof buf, "\\x%02x", ch);
            out += buf;
        } else {
            out += static_cast<char>(ch);
        }
    }
    if (text.size() > max) out += "...";
    return out;
}

void log_at(LogLevel level, const char* fmt, ...) {
    char line[1024];
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(tv.tv_usec / 1000), kNames[static_cast<int>(level)]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    size_t len = n + (m < 0 ? 0 : std::min<size_t>(m, sizeof line - n - 2));
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}

}  // namespace wspush::engine
