#include <perdure/detail/random_id.hpp>

#include <cstdint>
#include <random>

namespace perdure::detail {

std::string random_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(32, '0');
  const uint64_t halves[2] = {random(), random()};
  for (int i = 0; i < 32; ++i) id[i] = digits[(halves[i / 16] >> ((i % 16) * 4)) & 0xf];
  return id;
}

}  // namespace perdure::detail
