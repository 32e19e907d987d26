// Percent-encoding of URL parts, for the URIs the management API returns and the CLI requests, and
// the check that text taken from a URL is UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace perdure {

/// Encodes every byte but RFC 3986's unreserved characters, so the result is safe as one path
/// segment or one query value.
std::string percent_encode(std::string_view text);

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view text);

}  // namespace perdure
