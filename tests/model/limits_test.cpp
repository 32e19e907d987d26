// What an orchestration produces is bounded where it is produced: the action limit of one episode
// and the JSON payload rule for inputs it passes on, its custom status and its output.
#include "harness.hpp"

#include <perdure/codec.hpp>
#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>

using namespace perdure;
using namespace perdure::test;

namespace {

std::string deep(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

task<int> fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(ctx.call_activity<int>("Work", i));
  int sum = 0;
  for (int v : co_await when_all(std::move(tasks))) sum += v;
  co_return sum;
}

// Catches the limit error and still waits for what it took: the execution must end anyway.
task<int> stubborn_fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> tasks;
  try {
    for (int i = 0; i < n; ++i) tasks.push_back(ctx.call_activity<int>("Work", i));
  } catch (const perdure::error&) {
  }
  int sum = 0;
  for (int v : co_await when_all(std::move(tasks))) sum += v;
  co_return sum;
}

registry make_registry() {
  registry r;
  r.add_orchestration("FanOut", fan_out);
  r.add_orchestration("Stubborn", stubborn_fan_out);
  r.add_orchestration("DeepActivityInput", [](orchestration_context& ctx) -> task<void> {
    // Named: GCC 12 destroys a temporary of a co_await expression twice when the call throws.
    const json_text input{deep(1000)};
    co_await ctx.call_activity("Work", input);
  });
  r.add_orchestration("DeepEvent", [](orchestration_context& ctx) -> task<void> {
    const json_text ping{deep(1000)};
    ctx.send_event("other", "Ping", ping);
    co_return;
  });
  r.add_orchestration("DeepStatus", [](orchestration_context& ctx) -> task<void> {
    const json_text status{deep(1000)};
    ctx.set_custom_status(status);
    co_return;
  });
  r.add_orchestration("DeepOutput", [](orchestration_context&) -> task<json_text> { co_return json_text{deep(1000)}; });
  r.add_orchestration("JunkOutput", [](orchestration_context&) -> task<json_text> {
    co_return json_text{std::string("1\0junk", 6)};
  });
  return r;
}

std::vector<history_event> first_episode(const char* name, std::string input) {
  return {ev(events::episode_started{}), started(name, std::move(input))};
}

const events::execution_failed& failure_of(const episode_result& r) {
  auto* failed = find_event<events::execution_failed>(r.appended);
  REQUIRE(failed);
  return *failed;
}

}  // namespace

TEST_CASE("a fan-out over the action limit fails the execution and schedules nothing") {
  registry functions = make_registry();
  for (const char* name : {"FanOut", "Stubborn"}) {
    CAPTURE(name);
    orchestration_executor executor(functions, name, 0, "i1", episode_limits{10});
    auto r = executor.execute(first_episode(name, "11"));
    CHECK(count_events<events::task_scheduled>(r.appended) == 0);
    const auto& failed = failure_of(r);
    CHECK(failed.failure.error_type == "ActionLimitExceeded");
    CHECK(failed.failure.message.find("more than 10 actions") != std::string::npos);
    CHECK(failed.failure.message.find("--max-actions-per-episode") != std::string::npos);
    CHECK(failed.failure.non_retriable);
    CHECK(executor.is_complete());
  }
}

TEST_CASE("a fan-out at the action limit runs") {
  registry functions = make_registry();
  orchestration_executor executor(functions, "FanOut", 0, "i1", episode_limits{10});
  auto r = executor.execute(first_episode("FanOut", "10"));
  CHECK(count_events<events::task_scheduled>(r.appended) == 10);
  CHECK(!find_event<events::execution_failed>(r.appended));
}

TEST_CASE("payloads an orchestration produces follow the JSON payload rule") {
  registry functions = make_registry();
  for (const char* name : {"DeepActivityInput", "DeepEvent", "DeepStatus", "DeepOutput"}) {
    CAPTURE(name);
    harness h(functions, name);
    auto r = h.step(0, {started(name, "")});
    CHECK(count_events<events::task_scheduled>(r.appended) == 0);
    CHECK(count_events<events::event_sent>(r.appended) == 0);
    CHECK(!r.custom_status);
    const auto& failed = failure_of(r);
    CHECK(failed.failure.error_type == "perdure::payload_error");
    CHECK(failed.failure.message.find("nests 1000 levels deep; the limit is 64") != std::string::npos);
  }
  harness h(functions, "JunkOutput");
  const auto r = h.step(0, {started("JunkOutput", "")});
  const auto& failed = failure_of(r);
  CHECK(failed.failure.message == "the orchestration's output is not valid JSON: it holds a NUL byte at offset 1");
}
