// The schedule orchestration (perdure.schedule) in virtual time: ticks, overlap policies, pause and
// resume, trigger now, the catch-up window, and continue-as-new keeping each tick's run unique.
#include "model/schedule_state.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/schedule.hpp>
#include <perdure/testing.hpp>

#include <doctest/doctest.h>

#include <date/date.h>

#include <set>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point(std::chrono::seconds(1704067200));  // the tester's start: 2024-01-01T00:00:00Z

// A run: waits its input's number of seconds, then completes.
task<void> job(orchestration_context& ctx, int seconds) { co_await ctx.create_timer(std::chrono::seconds(seconds)); }

struct fixture {
  registry functions;
  std::vector<std::string> terminated;  // what cancel_previous asked to terminate
  orchestration_tester tester{functions};

  fixture() {
    add_schedule_functions(functions, [this](const std::string& id, const std::string&) { terminated.push_back(id); });
    functions.add_orchestration("Job", job);
  }

  const test_instance& run(const schedule_spec& spec) {
    detail::schedule_state state;
    state.spec = spec;
    return tester.run_raw(schedule_orchestration_name, detail::encode_schedule_state(state),
                          schedule_instance_id(spec.id));
  }

  void command_at(std::chrono::nanoseconds after, detail::schedule_command command) {
    tester.raise_event(detail::schedule_command_event, json_text{detail::encode_schedule_command(command)}, after,
                       schedule_instance_id("s"));
  }

  // When a run started: its first episode's time.
  time_point started_at(const std::string& id) {
    const test_instance* run = tester.instance(id);
    REQUIRE_MESSAGE(run != nullptr, id);
    return run->events.front().timestamp;
  }
};

schedule_spec every_minute(overlap_policy overlap, int job_seconds, std::chrono::minutes until) {
  schedule_spec spec;
  spec.id = "s";
  spec.interval = 60s;
  spec.orchestration = "Job";
  spec.input = std::to_string(job_seconds);
  spec.overlap = overlap;
  spec.end_at = t0 + until;
  return spec;
}

std::string at(std::chrono::seconds after_t0) {
  return "s@" + date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(t0 + after_t0));
}

// Every run the schedule started, in order, across its executions.
std::vector<std::string> started_runs(const test_instance& schedule) {
  std::vector<std::string> ids;
  auto collect = [&](const history& events) {
    for (const auto& e : events)
      if (auto* sub = std::get_if<events::sub_orchestration_created>(&e.payload)) ids.push_back(sub->instance_id);
  };
  for (const auto& earlier : schedule.earlier) collect(earlier);
  collect(schedule.events);
  return ids;
}

detail::schedule_state final_state(const test_instance& schedule) {
  return detail::decode_schedule_state(schedule.custom_status);
}

}  // namespace

TEST_CASE("an interval schedule starts one run per tick with the tick's id and completes after its end") {
  fixture f;
  const auto& schedule = f.run(every_minute(overlap_policy::skip, 10, 5min));
  CHECK(schedule.status == runtime_status::completed);
  CHECK(started_runs(schedule) == std::vector<std::string>{at(60s), at(120s), at(180s), at(240s), at(300s)});
  for (int m = 1; m <= 5; ++m) {
    CHECK(f.tester.instance(at(m * 60s))->status == runtime_status::completed);
    CHECK(f.started_at(at(m * 60s)) == t0 + m * 60s);
  }
}

TEST_CASE("a cron schedule ticks at the expression's local times") {
  fixture f;
  schedule_spec spec;
  spec.id = "s";
  spec.cron = "0 30 1 * * *";  // 01:30:00 local, every day
  spec.time_zone = "Europe/Berlin";
  spec.orchestration = "Job";
  spec.input = "1";
  spec.end_at = t0 + 72h;
  const auto& schedule = f.run(spec);
  // Berlin is UTC+1 in January: 01:30 local is 00:30Z.
  CHECK(started_runs(schedule) == std::vector<std::string>{at(30min), at(24h + 30min), at(48h + 30min)});
}

TEST_CASE("overlap skip: a tick while the previous run runs starts nothing") {
  fixture f;
  const auto& schedule = f.run(every_minute(overlap_policy::skip, 150, 6min));
  // @1 runs 1:00-3:30, so 2 and 3 are skipped; @4 runs 4:00-6:30, so 5 and 6 are skipped.
  CHECK(started_runs(schedule) == std::vector<std::string>{at(60s), at(240s)});
  CHECK(final_state(schedule).skipped == 4);
  CHECK(schedule.status == runtime_status::completed);  // after @4 ended
}

TEST_CASE("overlap buffer one: one tick waits for the running run, later ones are skipped") {
  fixture f;
  const auto& schedule = f.run(every_minute(overlap_policy::buffer_one, 140, 6min));
  // @1 1:00-3:20 (2 buffered, 3 skipped); @2 3:20-5:40 (4 buffered, 5 skipped); @4 5:40-8:00 (6 buffered); @6 8:00.
  CHECK(started_runs(schedule) == std::vector<std::string>{at(60s), at(120s), at(240s), at(360s)});
  CHECK(f.started_at(at(120s)) == t0 + 200s);
  CHECK(f.started_at(at(240s)) == t0 + 340s);
  CHECK(f.started_at(at(360s)) == t0 + 480s);
  CHECK(final_state(schedule).skipped == 2);
  CHECK(schedule.status == runtime_status::completed);
}

TEST_CASE("overlap allow all: every tick starts its run") {
  fixture f;
  const auto& schedule = f.run(every_minute(overlap_policy::allow_all, 150, 6min));
  CHECK(started_runs(schedule).size() == 6);
  for (int m = 1; m <= 6; ++m) CHECK(f.started_at(at(m * 60s)) == t0 + m * 60s);
}

TEST_CASE("overlap cancel previous: the running run is terminated, the tick's run starts once it ended") {
  fixture f;
  // The host's terminate (stubbed here) ends the run a second after it was asked to.
  f.tester.schedule(121s, events::execution_terminated{"by the schedule"}, at(60s));
  const auto& schedule = f.run(every_minute(overlap_policy::cancel_previous, 150, 2min));
  CHECK(f.terminated == std::vector<std::string>{at(60s)});
  CHECK(f.tester.instance(at(60s))->status == runtime_status::terminated);
  CHECK(started_runs(schedule) == std::vector<std::string>{at(60s), at(120s)});
  CHECK(f.started_at(at(120s)) == t0 + 121s);
  CHECK(f.tester.instance(at(120s))->status == runtime_status::completed);
}

TEST_CASE("pause skips the ticks until resume, which does not catch them up") {
  fixture f;
  f.command_at(150s, {detail::schedule_command_kind::pause, {}});
  f.command_at(330s, {detail::schedule_command_kind::resume, {}});
  const auto& schedule = f.run(every_minute(overlap_policy::allow_all, 10, 8min));
  CHECK(started_runs(schedule) == std::vector<std::string>{at(60s), at(120s), at(360s), at(420s), at(480s)});
  CHECK(final_state(schedule).missed == 0);
}

TEST_CASE("trigger now starts a run at once, numbered, through the overlap policy") {
  fixture f;
  f.command_at(90s, {detail::schedule_command_kind::trigger, {}});
  f.command_at(90s, {detail::schedule_command_kind::trigger, {}});  // finds the first one running: skipped
  f.command_at(130s, {detail::schedule_command_kind::trigger, {}});  // @2 still runs: skipped
  const auto& schedule = f.run(every_minute(overlap_policy::skip, 20, 3min));
  CHECK(started_runs(schedule) ==
        std::vector<std::string>{at(60s), at(90s) + "-trigger1", at(120s), at(180s)});
  CHECK(final_state(schedule).skipped == 2);
  CHECK(final_state(schedule).triggers == 3);
  const auto runs = final_state(schedule).recent_runs;
  REQUIRE(runs.size() == 4);
  CHECK(runs[1].triggered);
  CHECK(runs[1].scheduled_at == t0 + 90s);
}

TEST_CASE("update replaces the spec from now on") {
  fixture f;
  schedule_spec faster = every_minute(overlap_policy::allow_all, 1, 4min);
  faster.interval = 30s;
  f.command_at(130s, {detail::schedule_command_kind::update, faster});
  const auto& schedule = f.run(every_minute(overlap_policy::allow_all, 1, 4min));
  CHECK(started_runs(schedule) ==
        std::vector<std::string>{at(60s), at(120s), at(150s), at(180s), at(210s), at(240s)});
  CHECK(final_state(schedule).spec.interval == 30s);
}

TEST_CASE("a bad command is logged and ignored, and the schedule goes on") {
  fixture f;
  f.tester.raise_event(detail::schedule_command_event, json_text{R"({"command":"explode"})"}, 90s, schedule_instance_id("s"));
  schedule_spec other = every_minute(overlap_policy::allow_all, 1, 3min);
  other.id = "another";
  f.command_at(100s, {detail::schedule_command_kind::update, other});
  const auto& schedule = f.run(every_minute(overlap_policy::allow_all, 1, 3min));
  CHECK(schedule.status == runtime_status::completed);
  CHECK(started_runs(schedule).size() == 3);
}

TEST_CASE("ticks missed while the schedule could not run start if within the catch-up window") {
  fixture f;
  // Suspending the instance holds its timers back as a hub that is down would: the tick of 1:00
  // reaches it at 5:30.
  f.tester.suspend(30s);
  f.tester.resume(330s);
  schedule_spec spec = every_minute(overlap_policy::allow_all, 1, 6min);
  spec.catch_up_window = 150s;
  const auto& schedule = f.run(spec);
  // At 5:30 the window reaches back to 3:00: 1:00 and 2:00 are missed, 3:00 to 5:00 start late.
  CHECK(started_runs(schedule) == std::vector<std::string>{at(180s), at(240s), at(300s), at(360s)});
  for (int m = 3; m <= 5; ++m) CHECK(f.started_at(at(m * 60s)) == t0 + 330s);
  CHECK(final_state(schedule).missed == 2);
}

TEST_CASE("a long schedule continues as new and still starts every tick exactly once") {
  fixture f;
  schedule_spec spec;
  spec.id = "s";
  spec.interval = 1s;
  spec.orchestration = "Job";
  spec.input = "0";
  spec.overlap = overlap_policy::allow_all;
  spec.catch_up_window = 600s;
  spec.end_at = t0 + 700s;
  // 300 ticks held back by a suspension arrive together: they start in bursts, one per tick.
  f.tester.suspend(200s);
  f.tester.resume(500s);
  const auto& schedule = f.run(spec);
  CHECK(schedule.status == runtime_status::completed);
  CHECK(schedule.earlier.size() == 3);  // ticks 1-100, 101-500 (the catch-up), 501-600; then 601-700
  const auto ids = started_runs(schedule);  // (an earlier execution's last episode is not in the tester's view)
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  for (int s = 1; s <= 700; ++s) {
    const std::string id = at(std::chrono::seconds(s));
    const test_instance* run = f.tester.instance(id);
    REQUIRE_MESSAGE(run != nullptr, id);
    // Started once: a second start would have been a second execution.
    const auto& started = std::get<events::execution_started>(run->events.at(1).payload);
    CHECK(started.execution_id == id + "#1");
  }
}

TEST_CASE("validation names what is wrong with a spec") {
  schedule_spec spec = every_minute(overlap_policy::skip, 1, 1min);
  CHECK_NOTHROW(validate(spec));
  auto refused = [](schedule_spec s, const char* why) {
    CAPTURE(why);
    CHECK_THROWS_WITH_AS(validate(s), doctest::Contains(why), invalid_argument_error);
  };
  {
    auto s = spec;
    s.cron = "* * * * *";
    refused(s, "give either a cron expression or an interval, not both");
  }
  {
    auto s = spec;
    s.interval = 0s;
    refused(s, "not neither");
  }
  {
    auto s = spec;
    s.interval = 0s;
    s.cron = "0 25 * * *";
    refused(s, "hour field '25': 25 is out of range 0-23");
  }
  {
    auto s = spec;
    s.interval = 0s;
    s.cron = "0 * * * *";
    s.time_zone = "Europe/Atlantis";
    refused(s, "unknown time zone 'Europe/Atlantis'");
  }
  {
    auto s = spec;
    s.id = "a@b";
    refused(s, "may not contain '@'");
  }
  {
    auto s = spec;
    s.catch_up_window = 0s;
    refused(s, "catch-up window must be at least 1 s");
  }
  {
    auto s = spec;
    s.start_at = *s.end_at;
    refused(s, "end time is not after the start time");
  }
  {
    auto s = spec;
    s.input = "{oops";
    refused(s, "the input");
  }
  {
    auto s = spec;
    s.orchestration = schedule_orchestration_name;
    refused(s, "cannot start schedules");
  }
}

TEST_CASE("next fire times of an interval count from the start time, or from the epoch") {
  schedule_spec spec = every_minute(overlap_policy::skip, 1, 10min);
  CHECK(next_fire_times(spec, t0 + 61s, 3) == std::vector<time_point>{t0 + 120s, t0 + 180s, t0 + 240s});
  spec.start_at = t0 + 90s;
  CHECK(next_fire_times(spec, t0, 2) == std::vector<time_point>{t0 + 90s, t0 + 150s});
  CHECK(next_fire_times(spec, t0 + 9min, 5) == std::vector<time_point>{t0 + 9min + 30s});  // then the end
}
