// JsonWriter: appends JSON text to a caller's std::string (reused across requests, so a
// response costs no allocation once the string has grown). Strings are escaped per RFC 8259
// section 7: '"', '\\' and control characters; other bytes are copied as they are.
#pragma once
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace wspush::api {

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& raw(std::string_view s) {
        out_.append(s);
        return *this;
    }
    JsonWriter& str(std::string_view s) {
        static constexpr char kHex[] = "0123456789abcdef";
        out_ += '"';
        for (char ch : s) {
            auto u = static_cast<unsigned char>(ch);
            if (ch == '"' || ch == '\\') {
                out_ += '\\';
                out_ += ch;
            } else if (u < 0x20) {
                out_.append("\\u00");
                out_ += kHex[u >> 4];
                out_ += kHex[u & 15];
            } else {
                out_ += ch;
            }
        }
        out_ += '"';
        return *this;
    }
    JsonWriter& num(uint64_t v) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, r.ptr);
        return *this;
    }
    JsonWriter& boolean(bool b) { return raw(b ? "true" : "false"); }
    // "key":  (the key is a literal of ours: no escaping)
    JsonWriter& key(std::string_view k) {
        out_ += '"';
        out_.append(k);
        out_.append("\":");
        return *this;
    }

private:
    std::string& out_;
};

}  // namespace wspush::api
