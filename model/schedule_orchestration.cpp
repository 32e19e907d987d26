// The schedule orchestration (perdure.schedule): one instance per schedule, sleeping on durable
// timers and starting one sub-orchestration per tick. Everything it decides comes from its input,
// the events it receives and ctx.current_time(), so a replay decides the same.
//
// One execution handles up to steps_per_execution ticks and commands, then continues as new with
// its state (the history stays short) at a moment when it waits on no run: a run's end is reported
// to the execution that started it, so an execution that waits on one does not hand over.
#include "schedule_state.hpp"
#include "schedule_ticker.hpp"

#include <perdure/codec.hpp>
#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>

#include <date/date.h>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace perdure {

namespace {

using detail::schedule_state;

constexpr int steps_per_execution = 100;  // ticks and commands before continue-as-new
// While catching up after an outage, one episode starts at most this many runs, then yields (a
// timer due at once), so one episode's actions stay bounded whatever the window.
constexpr int ticks_per_episode = 100;
// Ticks older than the catch-up window are counted one by one up to this many per outage; past it
// the schedule jumps to the window without counting further.
constexpr uint64_t max_missed_counted = 10'000;

struct terminate_request {
  std::string instance_id;
  std::string reason;
  NLOHMANN_DEFINE_TYPE_INTRUSIVE(terminate_request, instance_id, reason)
};

std::string iso_seconds(time_point t) { return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(t)); }

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + " s"; }

schedule_run run_for_tick(const schedule_state& s, time_point tick) {
  return schedule_run{s.spec.id + "@" + iso_seconds(tick), tick, false, {}};
}

// The run of a trigger: numbered, so two triggers in the same second are two runs.
schedule_run run_for_trigger(schedule_state& s, time_point now) {
  ++s.triggers;
  return schedule_run{s.spec.id + "@" + iso_seconds(now) + "-trigger" + std::to_string(s.triggers), now, true, {}};
}

// The run the overlap policy waits for: its task, and its id in the state.
struct waited_run {
  std::optional<task<void>> run;
  void reset(schedule_state& s) {
    run.reset();
    s.waiting_on.clear();
  }
};

void start_run(orchestration_context& ctx, schedule_state& s, waited_run& waited, schedule_run run, bool wait_on_it) {
  task<void> started = ctx.call_sub_orchestration<void>(s.spec.orchestration, json_text{s.spec.input}, run.instance_id);
  if (wait_on_it) {
    waited.run = std::move(started);
    s.waiting_on = run.instance_id;
  }  // otherwise its end is recorded when it comes, and nothing waits for it
  s.recent_runs.push_back(std::move(run));
  if (s.recent_runs.size() > detail::schedule_recent_runs) s.recent_runs.erase(s.recent_runs.begin());
}

// A tick or a trigger: start its run, as the overlap policy says.
task<void> on_tick(orchestration_context& ctx, schedule_state& s, waited_run& waited, schedule_run run) {
  if (!waited.run) {
    start_run(ctx, s, waited, std::move(run), s.spec.overlap != overlap_policy::allow_all);
    co_return;
  }
  switch (s.spec.overlap) {
    case overlap_policy::allow_all:
      start_run(ctx, s, waited, std::move(run), false);
      co_return;
    case overlap_policy::skip:
      ++s.skipped;
      ctx.log(log_level::info, "skipped " + run.instance_id + ": " + s.waiting_on + " still runs");
      co_return;
    case overlap_policy::buffer_one:
      if (s.buffered) {
        ++s.skipped;
        ctx.log(log_level::info, "skipped " + run.instance_id + ": " + s.buffered->instance_id + " is already buffered");
      } else {
        s.buffered = std::move(run);
      }
      co_return;
    case overlap_policy::cancel_previous: {
      bool terminated = true;
      // Named, not temporaries of the co_await expression: GCC 12 destroys some of those twice.
      const terminate_request request{s.waiting_on, "schedule '" + s.spec.id + "' started " + run.instance_id};
      const retry_policy retry{5, std::chrono::seconds(1), 2.0, std::chrono::seconds(30), {}, {}};
      task<void> terminating = ctx.call_activity(schedule_terminate_activity, request, retry);
      try {
        co_await terminating;
      } catch (const task_failed& e) {
        terminated = false;
        ++s.skipped;
        ctx.log(log_level::error, "skipped " + run.instance_id + ": could not terminate " + s.waiting_on + ": " + e.what());
      }
      if (!terminated) co_return;
      co_await waited.run->when_done();  // its end (terminated, or its own) is not the schedule's failure
      waited.reset(s);
      start_run(ctx, s, waited, std::move(run), true);
      co_return;
    }
  }
}

// Ticks older than the catch-up window when the schedule got to run again: skipped, counted.
void skip_missed(orchestration_context& ctx, schedule_state& s, const detail::schedule_ticker& ticks, time_point first) {
  const time_point oldest = ctx.current_time() - s.spec.catch_up_window;
  uint64_t count = 0;
  std::optional<time_point> t = first;
  while (t && *t < oldest && count < max_missed_counted) {
    ++count;
    s.after = *t;
    t = ticks.next_after(*t);
  }
  if (t && *t < oldest) s.after = oldest - std::chrono::nanoseconds(1);
  s.missed += count;
  ctx.log(log_level::warning, std::to_string(count) + (t && *t < oldest ? "+" : "") + " ticks from " +
                                  iso_seconds(first) + " were older than the catch-up window (" +
                                  seconds_text(s.spec.catch_up_window) + "): skipped");
}

enum class wake { command, timer, run_ended };

task<wake> next_wake(task<json_text>& command, std::optional<task<void>>& timer, std::optional<task<void>>& run) {
  if (timer && run) {
    const size_t first = co_await when_any(command, *timer, *run);
    co_return first == 0 ? wake::command : first == 1 ? wake::timer : wake::run_ended;
  }
  if (timer) co_return co_await when_any(command, *timer) == 0 ? wake::command : wake::timer;
  if (run) co_return co_await when_any(command, *run) == 0 ? wake::command : wake::run_ended;
  co_await when_any(command);
  co_return wake::command;
}

task<void> apply_command(orchestration_context& ctx, schedule_state& s, detail::schedule_ticker& ticks,
                         waited_run& waited, const json_text& text) {
  detail::schedule_command command;
  try {
    command = detail::decode_schedule_command(text.text);
    if (command.spec) {
      validate(*command.spec);
      if (command.spec->id != s.spec.id)
        throw invalid_argument_error("an update names schedule '" + command.spec->id + "'");
    }
  } catch (const error& e) {
    ctx.log(log_level::error, std::string("ignored a command: ") + e.what());
    co_return;
  }
  const time_point now = ctx.current_time();
  switch (command.kind) {
    case detail::schedule_command_kind::pause:
      s.spec.paused = true;
      break;
    case detail::schedule_command_kind::resume:
      if (!s.spec.paused) break;
      s.spec.paused = false;
      s.after = std::max(*s.after, now);  // the ticks of the pause are not caught up
      break;
    case detail::schedule_command_kind::trigger:
      co_await on_tick(ctx, s, waited, run_for_trigger(s, now));
      break;
    case detail::schedule_command_kind::update:
      s.spec = std::move(*command.spec);
      ticks = detail::schedule_ticker(s.spec);
      s.after = std::max(*s.after, now);  // the new spec ticks from now on
      break;
  }
}

task<void> run_schedule(orchestration_context& ctx, json_text input) {
  schedule_state s = detail::decode_schedule_state(input.text);
  if (!s.after) s.after = ctx.current_time();
  detail::schedule_ticker ticks(s.spec);
  waited_run waited;  // an execution starts waiting on nothing (see the file comment)
  s.waiting_on.clear();
  task<json_text> command = ctx.wait_for_event<json_text>(detail::schedule_command_event);
  std::optional<task<void>> timer;
  std::optional<time_point> timer_at;
  int steps = 0;
  int burst = 0;
  for (;;) {
    ctx.set_custom_status(json_text{detail::encode_schedule_state(s)});
    const time_point now = ctx.current_time();
    const std::optional<time_point> next = s.spec.paused ? std::nullopt : ticks.next_after(*s.after);
    if (next && *next <= now) {
      if (now - *next > s.spec.catch_up_window) {
        skip_missed(ctx, s, ticks, *next);
        continue;
      }
      s.after = *next;
      co_await on_tick(ctx, s, waited, run_for_tick(s, *next));
      ++steps;
      if (++burst == ticks_per_episode) {
        burst = 0;
        co_await ctx.create_timer(now);
      }
      continue;
    }
    burst = 0;
    if (!next && !s.spec.paused && !waited.run) co_return;  // no tick comes again: the schedule is over
    if (steps >= steps_per_execution && !waited.run) {
      ctx.continue_as_new(json_text{detail::encode_schedule_state(s)}, true);
      co_return;
    }
    if (next != timer_at) {
      // A timer for a tick that is no longer next (paused, updated) fires unheeded.
      timer.reset();
      if (next) timer = ctx.create_timer(*next);
      timer_at = next;
    }
    switch (co_await next_wake(command, timer, waited.run)) {
      case wake::timer:
        timer.reset();
        timer_at.reset();
        break;
      case wake::run_ended:
        waited.reset(s);
        if (s.buffered) {
          schedule_run run = std::move(*s.buffered);
          s.buffered.reset();
          start_run(ctx, s, waited, std::move(run), true);
        }
        ++steps;
        break;
      case wake::command: {
        const json_text text = co_await command;
        command = ctx.wait_for_event<json_text>(detail::schedule_command_event);
        co_await apply_command(ctx, s, ticks, waited, text);
        ++steps;
        break;
      }
    }
  }
}

}  // namespace

void add_schedule_functions(registry& functions,
                            std::function<void(const std::string& instance_id, const std::string& reason)> terminate) {
  functions.add_orchestration(schedule_orchestration_name, run_schedule);
  functions.add_activity(schedule_terminate_activity,
                         [terminate = std::move(terminate)](activity_context&, const terminate_request& request) {
                           terminate(request.instance_id, request.reason);
                         });
}

}  // namespace perdure
