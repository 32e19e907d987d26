#include <perdure/detail/json_payload.hpp>

#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

namespace perdure::detail {

namespace {

// Accepts every value and keeps the parser's message, so a refusal says where the text went wrong.
struct syntax_check : nlohmann::json::json_sax_t {
  std::string error;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) override {
    error = e.what();
    return false;
  }
};

}  // namespace

size_t json_nesting_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

void check_json_payload(std::string_view what, std::string_view text) {
  if (text.empty()) return;
  // nlohmann's lexer takes a NUL byte for the end of the input, so it would accept `1` followed by
  // a NUL and anything at all. JSON has no raw NUL byte anywhere (in a string it is \u0000).
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    throw payload_error(std::string(what) + " is not valid JSON: it holds a NUL byte at offset " +
                        std::to_string(nul));
  if (const size_t depth = json_nesting_depth(text); depth > max_json_depth)
    throw payload_error(std::string(what) + " nests " + std::to_string(depth) +
                        " levels deep; the limit is " + std::to_string(max_json_depth));
  syntax_check check;
  if (!nlohmann::json::sax_parse(text, &check, nlohmann::json::input_format_t::json, true))
    throw payload_error(std::string(what) + " is not valid JSON: " + check.error);
}

void check_json_payload(std::string_view what, std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes)
    throw payload_error(std::string(what) + " is " + std::to_string(text.size()) + " bytes; the limit is " +
                        std::to_string(max_bytes));
  check_json_payload(what, text);
}

}  // namespace perdure::detail
