#include <perdure/detail/random_id.hpp>
#include <perdure/trace_context.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace perdure {

namespace {

bool lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

uint8_t hex_byte(std::string_view two) {
  auto digit = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  return static_cast<uint8_t>(digit(two[0]) * 16 + digit(two[1]));
}

}  // namespace

std::string trace_context::traceparent() const { return fmt::format("00-{}-{}-{:02x}", trace_id, span_id, flags); }

std::optional<std::string> traceparent_problem(std::string_view text) {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  constexpr size_t length = 55;
  if (text.size() < length) return "a traceparent has 55 characters (00-<32 hex>-<16 hex>-<2 hex>)";
  const auto version = text.substr(0, 2);
  if (!lower_hex(version) || version == "ff") return "the traceparent's version is not two lowercase hex digits other than ff";
  if (version == "00" && text.size() != length) return "a version 00 traceparent has exactly 55 characters";
  if (version != "00" && text.size() > length && text[length] != '-')
    return "a traceparent of a later version continues after its flags with '-'";
  if (text[2] != '-' || text[35] != '-' || text[52] != '-') return "the traceparent's fields are not separated by '-'";
  const auto trace_id = text.substr(3, 32);
  const auto span_id = text.substr(36, 16);
  const auto flags = text.substr(53, 2);
  if (!lower_hex(trace_id) || !lower_hex(span_id) || !lower_hex(flags))
    return "the traceparent's fields are not lowercase hex digits";
  if (all_zero(trace_id)) return "the traceparent's trace id is all zeros";
  if (all_zero(span_id)) return "the traceparent's parent id is all zeros";
  return std::nullopt;
}

std::optional<trace_context> parse_traceparent(std::string_view text, std::string_view tracestate) {
  if (traceparent_problem(text)) return std::nullopt;
  return trace_context{std::string{text.substr(3, 32)}, std::string{text.substr(36, 16)}, hex_byte(text.substr(53, 2)),
                       std::string{tracestate}};
}

namespace detail {
std::string new_trace_id() { return random_id(); }
std::string new_span_id() { return random_id().substr(0, 16); }
}  // namespace detail

}  // namespace perdure
