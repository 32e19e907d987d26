// Typed payloads: how a C++ value becomes the JSON text stored in histories, and back.
//
// perdure::codec<T> has `static std::string encode(const T&)` and
// `static T decode(std::string_view)`; both throw perdure::payload_error saying what failed. The
// default goes through nlohmann::json, so user structs work with to_json/from_json or
// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE. Specialize codec<T> for other formats.
//
// Conventions: an empty string means "no payload" (valid JSON is never empty). Decoding an empty
// payload as a value is a payload_error; `void` inputs and outputs are empty payloads.
#pragma once

#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace perdure {

/// JSON text passed through untouched (no parse on encode, validated on decode).
struct json_text {
  std::string text;
  friend bool operator==(const json_text&, const json_text&) = default;
};

template <class T>
struct codec {
  static std::string encode(const T& value) {
    try {
      return nlohmann::json(value).dump();
    } catch (const nlohmann::json::exception& e) {
      throw payload_error(std::string("cannot encode payload: ") + e.what());
    }
  }
  static T decode(std::string_view text) {
    if (text.empty()) throw payload_error("no payload (empty)");
    try {
      return nlohmann::json::parse(text).get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw payload_error(e.what());
    }
  }
};

template <>
struct codec<json_text> {
  static std::string encode(const json_text& value) { return value.text; }
  static json_text decode(std::string_view text) {
    if (!text.empty() && !nlohmann::json::accept(text)) throw payload_error("not valid JSON");
    return json_text{std::string(text)};
  }
};

/// Encodes an input or output; void encodes as no payload.
template <class T>
std::string encode_payload(const T& value) {
  return codec<T>::encode(value);
}

}  // namespace perdure
