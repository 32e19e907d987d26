// Schedules (durable cron): start an orchestration at every tick of a cron expression or a fixed
// interval.
//
// Operation: a schedule is an orchestration instance, "schedule:<id>", of the built-in
// orchestration perdure.schedule that every host registers. It sleeps on durable timers; at each
// tick it starts the schedule's orchestration as its sub-orchestration, with the instance id
// "<id>@<tick time, UTC, ISO 8601>" (a run started by trigger() is "<id>@<time>-trigger<n>").
// Starting a run is an action of the schedule's own episode, committed with it and delivered
// exactly once, so no kill or restart can start a tick's run twice. Management commands (pause,
// resume, trigger, update) are external events to that instance; delete terminates and purges it.
//
// Durability: create() returns once the schedule is committed; a command once its event is. The
// schedule applies a command in its next episode (normally within milliseconds): describe() shows
// the spec the schedule runs with, so it may show the old one for that moment.
//
// Ticks missed while the hub was down are started when it is back if they are at most
// catch_up_window old (each with its own id, through the overlap policy), and skipped otherwise.
// Ticks that come while the schedule is paused are skipped. Runs are not stopped by pausing or
// deleting their schedule.
#pragma once

#include <perdure/client.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/registry.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perdure {

/// What a tick does while the previous run the schedule started is still running.
enum class overlap_policy : uint8_t {
  skip,            // the tick starts nothing (the default, as Temporal's)
  buffer_one,      // the tick's run starts when the running one ends; one such tick at most, later ones are skipped
  allow_all,       // the tick starts its run anyway
  cancel_previous  // the running one is terminated; the tick's run starts once it has ended
};

/// "skip", "bufferOne", "allowAll", "cancelPrevious": the names the HTTP API and the CLI use.
const char* to_string(overlap_policy policy) noexcept;
/// Parses those names (also "buffer_one", "allow_all", "cancel_previous"); nullopt otherwise.
std::optional<overlap_policy> parse_overlap_policy(std::string_view name) noexcept;

struct schedule_spec {
  std::string id;  // the instance id rules apply to "schedule:<id>", and no '@'
  // Exactly one of the two:
  std::string cron;                  // 5 or 6 fields (docs/schedules.md); its local times are in time_zone
  std::chrono::seconds interval{0};  // every interval, counted from start_at (or the Unix epoch)
  std::string time_zone = "UTC";     // an IANA name (Europe/Berlin), from the system's tz database
  std::string orchestration;         // what each tick starts
  std::string input;                 // its input, JSON text; empty = none
  overlap_policy overlap = overlap_policy::skip;
  std::chrono::seconds catch_up_window{60};  // at least 1 s
  bool paused = false;
  std::optional<time_point> start_at;  // no tick before it (second precision)
  std::optional<time_point> end_at;    // no tick after it; the schedule completes after its last tick's run
  friend bool operator==(const schedule_spec&, const schedule_spec&) = default;
};

/// The reserved names every host registers.
inline constexpr const char* schedule_orchestration_name = "perdure.schedule";
inline constexpr const char* schedule_terminate_activity = "perdure.schedule.terminate";
/// "schedule:<id>"
std::string schedule_instance_id(std::string_view schedule_id);

/// Throws invalid_argument_error saying what is wrong: the id, a cron expression (its field and
/// why), an unknown time zone, no or two kinds of tick, a window or interval under 1 s, an end
/// before the start, a schedule that would never fire.
void validate(const schedule_spec& spec);

/// The first `count` tick times strictly after `after` (fewer if the schedule ends), whether or not
/// it is paused. Throws invalid_argument_error for an invalid spec.
std::vector<time_point> next_fire_times(const schedule_spec& spec, time_point after, size_t count);

/// Registers the schedule orchestration and its activity. `terminate` ends a run for the
/// cancel_previous policy (a host passes its client's terminate; it should treat an instance that
/// has already ended as done). perdure::host calls this itself; call it for an
/// orchestration_tester.
void add_schedule_functions(registry& functions,
                            std::function<void(const std::string& instance_id, const std::string& reason)> terminate);

/// One run a schedule started.
struct schedule_run {
  std::string instance_id;
  time_point scheduled_at{};  // its tick, or the time trigger() was applied
  bool triggered = false;     // started by trigger(), not by a tick
  std::optional<runtime_status> status;  // as describe() found it; nullopt if it no longer exists (purged)
  friend bool operator==(const schedule_run&, const schedule_run&) = default;
};

struct schedule_description {
  schedule_spec spec;
  runtime_status status = runtime_status::running;  // of the schedule itself: Completed after its end
  std::vector<time_point> next_fire_times;           // empty while paused or ended
  std::vector<schedule_run> recent_runs;             // oldest first, the last 10
  std::string waiting_on;                            // the run the overlap policy waits for; empty if none
  std::optional<schedule_run> buffered;              // buffer_one: the tick that starts when it ends
  uint64_t skipped = 0;                              // ticks the overlap policy skipped
  uint64_t missed = 0;                               // ticks skipped as older than the catch-up window (up to 10,000 counted per outage)
};

/// Manages schedules through any client (a host's, or perdure::connect's).
class schedule_client {
 public:
  explicit schedule_client(client& hub) noexcept : hub_(hub) {}

  /// Throws invalid_argument_error (see validate), instance_already_exists when a schedule with that
  /// id is running.
  void create(const schedule_spec& spec);
  /// Every schedule the hub holds, running or ended, in order of creation; runs' statuses are not
  /// read (describe one for them).
  std::vector<schedule_description> list();
  /// nullopt if there is no such schedule. `next` fire times are computed from now.
  std::optional<schedule_description> describe(std::string_view id, size_t next = 5);
  /// Commands; instance_not_found when there is no such schedule, instance_finished when it ended.
  void pause(std::string_view id);
  void resume(std::string_view id);
  void trigger(std::string_view id);
  /// Replaces the spec (same id). Ticks already handled stay handled: the new spec ticks from now.
  void update(const schedule_spec& spec);
  /// Terminates the schedule and purges it; false if there was none. Its runs are left alone.
  bool remove(std::string_view id);

 private:
  void command(std::string_view id, const std::string& json);
  client& hub_;
};

}  // namespace perdure
