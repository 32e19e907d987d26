// Schedule specs: their policies' names, validation and tick times.
#include "schedule_ticker.hpp"

#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>

#include <array>
#include <utility>

namespace perdure {

namespace {

constexpr std::array<std::pair<overlap_policy, const char*>, 4> policy_names{{
    {overlap_policy::skip, "skip"},
    {overlap_policy::buffer_one, "bufferOne"},
    {overlap_policy::allow_all, "allowAll"},
    {overlap_policy::cancel_previous, "cancelPrevious"},
}};

constexpr std::array<std::pair<overlap_policy, const char*>, 3> policy_snake_names{{
    {overlap_policy::buffer_one, "buffer_one"},
    {overlap_policy::allow_all, "allow_all"},
    {overlap_policy::cancel_previous, "cancel_previous"},
}};

[[noreturn]] void refuse(const schedule_spec& spec, const std::string& why) {
  throw invalid_argument_error("schedule '" + spec.id + "': " + why);
}

}  // namespace

const char* to_string(overlap_policy policy) noexcept {
  for (const auto& [p, name] : policy_names)
    if (p == policy) return name;
  return "unknown";
}

std::optional<overlap_policy> parse_overlap_policy(std::string_view name) noexcept {
  for (const auto& [p, text] : policy_names)
    if (name == text) return p;
  for (const auto& [p, text] : policy_snake_names)
    if (name == text) return p;
  return std::nullopt;
}

std::string schedule_instance_id(std::string_view schedule_id) { return "schedule:" + std::string(schedule_id); }

void validate(const schedule_spec& spec) {
  if (spec.id.empty()) throw invalid_argument_error("the schedule id is empty");
  if (spec.id.find('@') != std::string::npos)
    refuse(spec, "the id may not contain '@' (it separates the schedule from the tick in its runs' ids)");
  if (spec.cron.empty() == (spec.interval.count() == 0))
    refuse(spec, "give either a cron expression or an interval, not " +
                     std::string(spec.cron.empty() ? "neither" : "both"));
  if (spec.cron.empty() && spec.interval < std::chrono::seconds(1)) refuse(spec, "the interval must be at least 1 s");
  if (!spec.cron.empty()) {
    (void)cron::expression::parse(spec.cron);
    cron::require_known_time_zone(spec.time_zone);
  }
  if (spec.orchestration.empty()) refuse(spec, "no orchestration to start");
  if (spec.orchestration == schedule_orchestration_name) refuse(spec, "a schedule cannot start schedules");
  if (!spec.input.empty()) {
    try {
      detail::check_json_payload("the input", spec.input);
    } catch (const payload_error& e) {
      refuse(spec, e.what());
    }
  }
  if (spec.catch_up_window < std::chrono::seconds(1)) refuse(spec, "the catch-up window must be at least 1 s");
  if (spec.start_at && spec.end_at && *spec.end_at <= *spec.start_at) refuse(spec, "the end time is not after the start time");
}

std::vector<time_point> next_fire_times(const schedule_spec& spec, time_point after, size_t count) {
  validate(spec);
  const detail::schedule_ticker ticks(spec);
  std::vector<time_point> out;
  for (auto t = ticks.next_after(after); t && out.size() < count; t = ticks.next_after(*t)) out.push_back(*t);
  return out;
}

namespace detail {

schedule_ticker::schedule_ticker(const schedule_spec& spec) : time_zone_(spec.time_zone), interval_(spec.interval) {
  if (!spec.cron.empty()) cron_ = cron::expression::parse(spec.cron);
  if (spec.start_at) first_ = std::chrono::ceil<std::chrono::seconds>(*spec.start_at);
  if (spec.end_at) last_ = std::chrono::floor<std::chrono::seconds>(*spec.end_at);
}

std::optional<time_point> schedule_ticker::next_after(time_point after) const {
  // The first tick is at or after the start time.
  if (first_ && after < *first_) after = *first_ - std::chrono::nanoseconds(1);
  std::optional<time_point> next;
  if (cron_) {
    next = cron_->next_after(after, time_zone_);
  } else {
    // Every interval from the start time, or from the Unix epoch (an hourly interval ticks on the hour).
    const time_point anchor = first_.value_or(time_point{});
    if (after < anchor) {
      next = anchor;
    } else {
      const auto periods = (after - anchor) / interval_;
      next = anchor + (periods + 1) * interval_;
    }
  }
  if (next && last_ && *next > *last_) return std::nullopt;
  return next;
}

}  // namespace detail

}  // namespace perdure
