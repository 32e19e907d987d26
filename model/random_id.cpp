#include <perdure/detail/random_id.hpp>

#include <fmt/format.h>

#include <random>

namespace perdure::detail {

std::string random_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

}  // namespace perdure::detail
