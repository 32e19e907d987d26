// The one JSON payload rule: one value, no NUL byte, bounded nesting.
#include <perdure/codec.hpp>
#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace std::string_literals;
using perdure::detail::check_json_payload;
using perdure::detail::json_nesting_depth;
using perdure::detail::max_json_depth;

namespace {
std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string refusal(std::string_view text) {
  try {
    check_json_payload("the input", text);
  } catch (const perdure::payload_error& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("json_nesting_depth counts brackets outside strings only") {
  CHECK(json_nesting_depth("") == 0);
  CHECK(json_nesting_depth("42") == 0);
  CHECK(json_nesting_depth("[]") == 1);
  CHECK(json_nesting_depth(R"({"a":[1,{"b":[]}],"c":[]})") == 4);
  CHECK(json_nesting_depth(R"(["[[[[", "\"[[[", {}])") == 2);
  CHECK(json_nesting_depth(nested_arrays(100000)) == 100000);
}

TEST_CASE("check_json_payload accepts one JSON value and no payload") {
  CHECK_NOTHROW(check_json_payload("the input", ""));
  CHECK_NOTHROW(check_json_payload("the input", R"( {"a": [1, 2.5, "x\u0000y", null]} )"));
  CHECK_NOTHROW(check_json_payload("the input", nested_arrays(max_json_depth)));
}

TEST_CASE("check_json_payload refuses junk after a NUL byte, naming the payload") {
  const std::string with_nul = "1\0junk"s;
  // The defect: nlohmann's accept stops at the NUL byte and calls this valid.
  CHECK(nlohmann::json::accept(with_nul));
  const std::string why = refusal(with_nul);
  CHECK(why.find("the input") != std::string::npos);
  CHECK(why.find("NUL byte at offset 1") != std::string::npos);
  CHECK(refusal("\"a\0b\""s).find("NUL") != std::string::npos);
}

TEST_CASE("check_json_payload refuses trailing bytes and broken text") {
  CHECK(refusal("1 2").find("the input is not valid JSON") != std::string::npos);
  CHECK(refusal("{\"a\":").find("the input is not valid JSON") != std::string::npos);
  CHECK(refusal("[1,]").find("not valid JSON") != std::string::npos);
}

TEST_CASE("check_json_payload refuses nesting deeper than the limit") {
  CHECK(refusal(nested_arrays(max_json_depth + 1)).find("nests 65 levels deep; the limit is 64") != std::string::npos);
  const std::string hostile(100000, '[');  // 100 KB of '[': refused before any parse
  CHECK(refusal(hostile).find("nests 100000 levels deep") != std::string::npos);
}

TEST_CASE("codec<json_text> decodes only what the payload rule accepts") {
  CHECK(perdure::codec<perdure::json_text>::decode("[1]").text == "[1]");
  CHECK_THROWS_AS(perdure::codec<perdure::json_text>::decode("1\0junk"s), perdure::payload_error);
  CHECK_THROWS_AS(perdure::codec<perdure::json_text>::decode(nested_arrays(1000)), perdure::payload_error);
}

TEST_CASE("check_json_payload with a size limit refuses a longer text before anything else") {
  CHECK_NOTHROW(perdure::detail::check_json_payload("the input", "[1,2]", 5));
  CHECK_THROWS_WITH_AS(perdure::detail::check_json_payload("the input", "[1,2,3]", 5),
                       "the input is 7 bytes; the limit is 5", perdure::payload_error);
  CHECK_THROWS_WITH_AS(perdure::detail::check_json_payload("the input", "1 2", 5), doctest::Contains("not valid JSON"),
                       perdure::payload_error);
}
