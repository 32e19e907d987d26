// Fuzzes the payload codec (include/perdure/codec.hpp): JSON text from clients, histories and
// activities decoded as the types user code asks for. Decoding may only return a value or throw
// payload_error; a decoded value must encode and decode back to itself.
#include <perdure/codec.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

// A user struct as the docs advise writing one: every field read with numbers range-checked.
struct order {
  std::string id;
  int quantity = 0;
  std::vector<std::string> items;
  std::optional<double> price;
};
PERDURE_DEFINE_TYPE(order, id, quantity, items, price)

template <class T>
void check(std::string_view text) {
  T value;
  try {
    value = perdure::codec<T>::decode(text);
  } catch (const perdure::payload_error&) {
    return;
  }
  std::string encoded;
  try {
    encoded = perdure::codec<T>::encode(value);
  } catch (const perdure::payload_error&) {
    return;  // e.g. a string that is not valid UTF-8 decodes but cannot be encoded again
  }
  if constexpr (!std::is_floating_point_v<T> && !std::is_same_v<T, order>) {
    if (!(perdure::codec<T>::decode(encoded) == value)) std::abort();
  } else {
    perdure::codec<T>::decode(encoded);  // NaN and rounding make equality meaningless; it must still decode
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: check<int>(text); break;
    case 1: check<std::string>(text); break;
    case 2: check<std::vector<int64_t>>(text); break;
    case 3: check<std::map<std::string, std::string>>(text); break;
    case 4: check<double>(text); break;
    case 5: check<order>(text); break;
    case 6: check<nlohmann::json>(text); break;
    case 7: check<perdure::json_text>(text); break;
  }
  return 0;
}
