// Reason phrases for the statuses in http_status.h (RFC 9110 section 15).
#include "codec/http_status.h"

namespace wspush::codec {

const char* http_reason(int status) {
    switch (status) {
    case kHttpSwitchingProtocols: return "Switching Protocols";
    case kHttpOk: return "OK";
    case kHttpNoContent: return "No Content";
    case kHttpBadRequest: return "Bad Request";
    case kHttpUnauthorized: return "Unauthorized";
    case kHttpForbidden: return "Forbidden";
    case kHttpNotFound: return "Not Found";
    case kHttpMethodNotAllowed: return "Method Not Allowed";
    case kHttpRequestTimeout: return "Request Timeout";
    case kHttpLengthRequired: return "Length Required";
    case kHttpPayloadTooLarge: return "Content Too Large";
    case kHttpUpgradeRequired: return "Upgrade Required";
    case kHttpTooManyRequests: return "Too Many Requests";
    case kHttpHeadersTooLarge: return "Request Header Fields Too Large";
    case kHttpInternalError: return "Internal Server Error";
    case kHttpNotImplemented: return "Not Implemented";
    case kHttpServiceUnavailable: return "Service Unavailable";
    case kHttpVersionNotSupported: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

}  // namespace wspush::codec
