// HTTP status codes wspush answers with, each with the RFC that defines it.
#pragma once

namespace wspush::codec {

enum HttpStatus : int {
    kHttpSwitchingProtocols = 101,  // RFC 9110 15.2.2, RFC 6455 4.2.2
    kHttpOk = 200,                  // RFC 9110 15.3.1
    kHttpNoContent = 204,           // RFC 9110 15.3.5
    kHttpBadRequest = 400,          // RFC 9110 15.5.1, RFC 6455 4.2.1
    kHttpUnauthorized = 401,        // RFC 9110 15.5.2
    kHttpForbidden = 403,           // RFC 9110 15.5.4
    kHttpNotFound = 404,            // RFC 9110 15.5.5
    kHttpMethodNotAllowed = 405,    // RFC 9110 15.5.6
    kHttpRequestTimeout = 408,      // RFC 9110 15.5.9
    kHttpLengthRequired = 411,      // RFC 9110 15.5.12
    kHttpPayloadTooLarge = 413,     // RFC 9110 15.5.14
    kHttpUpgradeRequired = 426,     // RFC 9110 15.5.22, RFC 6455 4.4 (with Sec-WebSocket-Version)
    kHttpTooManyRequests = 429,     // RFC 6585 section 4 (--max-conns-per-ip reached)
    kHttpHeadersTooLarge = 431,     // RFC 6585 section 5
    kHttpInternalError = 500,       // RFC 9110 15.6.1
    kHttpNotImplemented = 501,      // RFC 9110 15.6.2 (unknown Transfer-Encoding)
    kHttpServiceUnavailable = 503,  // RFC 9110 15.6.4 (connection limit reached)
    kHttpVersionNotSupported = 505, // RFC 9110 15.6.6
};

// "OK", "Bad Request", ...; "Unknown" for a code not listed above.
const char* http_reason(int status);

}  // namespace wspush::codec
