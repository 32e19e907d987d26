// Percent-encoding of URL parts, for the URIs the management API returns and the CLI requests.
#pragma once

#include <string>
#include <string_view>

namespace perdure {

/// Encodes every byte but RFC 3986's unreserved characters, so the result is safe as one path
/// segment or one query value.
std::string percent_encode(std::string_view text);

}  // namespace perdure
