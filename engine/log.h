// A tiny leveled logger to stderr: "2026-11-26T16:20:01.123Z info  message". printf-style,
// one write(2) per line so lines from several processes never interleave.
#pragma once
#include <string>
#include <string_view>

namespace wspush::engine {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
// "debug", "info", "warn", "error"; false for anything else.
bool parse_log_level(std::string_view name, LogLevel* out);

// Untrusted text (a uid) made safe for one log line: control bytes, '"' and '\\' as \xNN,
// cut to max bytes with "..." so a client cannot forge or flood lines. Allocates: debug paths.
std::string log_escape(std::string_view text, size_t max = 80);

void log_at(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace wspush::engine

#define WSPUSH_LOG(level, ...)                                                        \
    do {                                                                              \
        if (level >= ::wspush::engine::log_level()) ::wspush::engine::log_at(level, __VA_ARGS__); \
    } while (0)
#define LOG_DEBUG(...) WSPUSH_LOG(::wspush::engine::LogLevel::Debug, __VA_ARGS__)
#define LOG_INFO(...) WSPUSH_LOG(::wspush::engine::LogLevel::Info, __VA_ARGS__)
#define LOG_WARN(...) WSPUSH_LOG(::wspush::engine::LogLevel::Warn, __VA_ARGS__)
#define LOG_ERROR(...) WSPUSH_LOG(::wspush::engine::LogLevel::Error, __VA_ARGS__)
