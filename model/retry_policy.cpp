#include <perdure/retry_policy.hpp>

#include <cmath>

namespace perdure {

std::optional<std::chrono::nanoseconds> retry_policy::next_delay(
    int attempts_made, const failure_details& failure, std::chrono::nanoseconds elapsed) const {
  if (attempts_made >= max_attempts || failure.non_retriable) return std::nullopt;
  if (retry_if && !retry_if(failure)) return std::nullopt;
  double scaled = static_cast<double>(first_interval.count()) *
                  std::pow(backoff_coefficient, static_cast<double>(attempts_made - 1));
  double cap = max_interval.count() > 0 ? static_cast<double>(max_interval.count()) : 9.0e18;
  auto delay = std::chrono::nanoseconds(static_cast<int64_t>(std::min(scaled, cap)));
  if (max_total_time.count() > 0 && elapsed + delay > max_total_time) return std::nullopt;
  return delay;
}

}  // namespace perdure
