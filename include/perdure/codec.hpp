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

#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace perdure {

/// JSON text passed through untouched (no parse on encode; decode checks the payload rule of
/// perdure/detail/json_payload.hpp, nesting depth included).
struct json_text {
  std::string text;
  friend bool operator==(const json_text&, const json_text&) = default;
};

namespace detail {

template <class T>
inline constexpr bool is_std_vector = false;
template <class T, class A>
inline constexpr bool is_std_vector<std::vector<T, A>> = true;
template <class T>
inline constexpr bool is_std_optional = false;
template <class T>
inline constexpr bool is_std_optional<std::optional<T>> = true;

// nlohmann converts a JSON number to an arithmetic type with a plain static_cast: a number out of
// the type's range (an integer literal too big for 64 bits parses as a double) is undefined
// behaviour and, in practice, a garbage value handed to user code. These conversions check.
template <class Integer>
Integer checked_integer(const nlohmann::json& j) {
  const auto out_of_range = [&] {
    return payload_error("the number " + j.dump() + " does not fit the integer type asked for (" +
                         std::to_string(std::numeric_limits<Integer>::min()) + " to " +
                         std::to_string(std::numeric_limits<Integer>::max()) + ")");
  };
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (!std::in_range<Integer>(v)) throw out_of_range();
    return static_cast<Integer>(v);
  }
  if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    if (!std::in_range<Integer>(v)) throw out_of_range();
    return static_cast<Integer>(v);
  }
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (v != std::trunc(v)) throw payload_error("expected an integer, got " + j.dump());
    // [-2^digits or 0, 2^digits) is exactly the range, and both ends are exact doubles.
    const double limit = std::ldexp(1.0, std::numeric_limits<Integer>::digits);
    const double lowest = std::is_signed_v<Integer> ? -limit : 0.0;
    if (!(v >= lowest && v < limit)) throw out_of_range();
    return static_cast<Integer>(v);
  }
  throw payload_error(std::string("expected an integer, got ") + j.type_name());
}

}  // namespace detail

/// A JSON value as T, numbers range-checked (a payload_error names the number and the range) for
/// arithmetic types and vectors and optionals of them; other types go through their from_json.
/// PERDURE_DEFINE_TYPE reads every field through it.
template <class T>
T checked_get(const nlohmann::json& j) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return detail::checked_integer<T>(j);
  } else if constexpr (std::is_same_v<T, float>) {
    const double v = j.get<double>();
    if (std::isfinite(v) && std::abs(v) > std::numeric_limits<float>::max())
      throw payload_error("the number " + j.dump() + " does not fit a float");
    return static_cast<float>(v);
  } else if constexpr (detail::is_std_vector<T>) {
    if (!j.is_array()) throw payload_error(std::string("expected an array, got ") + j.type_name());
    T out;
    out.reserve(j.size());
    for (const auto& element : j) out.push_back(checked_get<typename T::value_type>(element));
    return out;
  } else if constexpr (detail::is_std_optional<T>) {
    if (j.is_null()) return std::nullopt;
    return checked_get<typename T::value_type>(j);
  } else {
    return j.get<T>();  // user types: their from_json decides (see docs/programming-model.md)
  }
}

namespace detail {

// A struct's field as JSON; an empty optional is null (nlohmann 3.11 has no std::optional support).
template <class T>
nlohmann::json field_json(const T& value) {
  if constexpr (is_std_optional<T>) {
    return value ? field_json(*value) : nlohmann::json(nullptr);
  } else {
    return nlohmann::json(value);
  }
}

// A struct's field from JSON, numbers checked; an optional field may be absent or null.
template <class T>
T read_field(const nlohmann::json& j, const char* name) {
  if constexpr (is_std_optional<T>) {
    const auto it = j.find(name);
    if (it == j.end()) return std::nullopt;
    return checked_get<T>(*it);
  } else {
    return checked_get<T>(j.at(name));
  }
}

}  // namespace detail

// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE with range-checked numbers: its from_json is a static_cast
// per field, so `{"quantity": 1e30}` posted to a start would hand an int field a garbage value
// (undefined behaviour); this one refuses it with a payload_error. std::optional fields are null
// when empty and may be absent. Same JSON shape otherwise, same use: at namespace scope, after the
// struct.
#define PERDURE_DEFINE_TYPE(Type, ...)                                                              \
  inline void to_json(nlohmann::json& nlohmann_json_j, const Type& nlohmann_json_t) {              \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(PERDURE_JSON_FIELD_TO, __VA_ARGS__))                   \
  }                                                                                                 \
  inline void from_json(const nlohmann::json& nlohmann_json_j, Type& nlohmann_json_t) {            \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(PERDURE_JSON_FIELD_FROM, __VA_ARGS__))                 \
  }
#define PERDURE_JSON_FIELD_TO(field) \
  nlohmann_json_j[#field] = ::perdure::detail::field_json(nlohmann_json_t.field);
#define PERDURE_JSON_FIELD_FROM(field)                                                             \
  nlohmann_json_t.field = ::perdure::detail::read_field<std::remove_cvref_t<decltype(nlohmann_json_t.field)>>( \
      nlohmann_json_j, #field);

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
      return checked_get<T>(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& e) {
      throw payload_error(e.what());
    }
  }
};

template <>
struct codec<json_text> {
  static std::string encode(const json_text& value) { return value.text; }
  static json_text decode(std::string_view text) {
    detail::check_json_payload("the JSON text", text);
    return json_text{std::string(text)};
  }
};

/// Encodes an input or output; void encodes as no payload.
template <class T>
std::string encode_payload(const T& value) {
  return codec<T>::encode(value);
}

}  // namespace perdure
