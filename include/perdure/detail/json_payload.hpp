// The one rule for a JSON payload entering Perdure (client input, event data, activity output,
// what an orchestration produces): exactly one JSON value, nested no deeper than max_json_depth.
#pragma once

#include <cstddef>
#include <string_view>

namespace perdure::detail {

// Readers render payloads with nlohmann's serializer, which recurses once per nesting level: an
// unbounded depth overflows a thread's stack. 64 is System.Text.Json's default maximum depth,
// far deeper than any document people write by hand or generate from data types.
inline constexpr size_t max_json_depth = 64;

/// The deepest nesting of [ and { in `text` (0 for a scalar), counted in one pass without
/// recursion; brackets inside strings do not count. Meaningful for any text, valid JSON or not.
size_t json_nesting_depth(std::string_view text);

/// Passes for an empty text (no payload). Otherwise throws perdure::payload_error naming `what`
/// unless `text` is exactly one JSON value (no trailing bytes, no NUL byte anywhere) nested no
/// deeper than max_json_depth.
void check_json_payload(std::string_view what, std::string_view text);

/// The same, after refusing a text longer than `max_bytes` (a node's max_payload_bytes): the check
/// a client applies to what it sends.
void check_json_payload(std::string_view what, std::string_view text, size_t max_bytes);

}  // namespace perdure::detail
