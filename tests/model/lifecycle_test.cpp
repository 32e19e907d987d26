// Duplicates and late messages, suspend/resume, terminate, continue_as_new, context services.
#include "harness.hpp"

#include <perdure/logger.hpp>
#include <perdure/orchestration_context.hpp>

using namespace perdure;
using namespace perdure::test;
using namespace std::chrono_literals;

namespace {

task<int> add_two(orchestration_context& ctx) {
  int a = co_await ctx.call_activity<int>("A");
  co_await ctx.create_timer(1min);
  int b = co_await ctx.wait_for_event<int>("b");
  co_return a + b;
}

registry make_registry() {
  registry r;
  r.add_orchestration("AddTwo", add_two);
  return r;
}

}  // namespace

TEST_CASE("duplicate, unknown and late messages are ignored, never appended") {
  registry functions = make_registry();
  harness h(functions, "AddTwo");
  auto r = h.step(0, {started("AddTwo", ""), started("AddTwo", "")});
  CHECK(r.ignored.size() == 1);
  r = h.step(1, {completed(0, "1"), completed(0, "2"), failed(0, "x", "y"), completed(7, "3"),
                 fired(0)});
  CHECK(r.appended.size() == 3);  // marker, the first result, the timer it created
  CHECK(r.ignored.size() == 4);
  r = h.step(2, {completed(0, "1")});  // only duplicates: no trace at all, not even the marker
  CHECK(r.appended.empty());
  CHECK(r.ignored.size() == 2);
  r = h.step(60, {fired(1), fired(1)});
  CHECK(r.ignored.size() == 1);
  r = h.step(61, {raised("b", "2")});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == "3");
  r = h.step(62, {raised("b", "3"), completed(0, "1")});
  CHECK(r.appended.empty());
  CHECK(r.ignored.size() == 3);
}

TEST_CASE("while suspended, events are recorded but delivered only on resume") {
  registry functions = make_registry();
  harness h(functions, "AddTwo");
  h.step(0, {started("AddTwo", "")});
  auto r = h.step(1, {ev(events::execution_suspended{"maintenance"}), completed(0, "5")});
  CHECK(r.appended.size() == 3);
  CHECK(find_event<events::timer_created>(r.appended) == nullptr);
  CHECK(h.executor().is_suspended());
  r = h.step(2, {ev(events::execution_suspended{"again"})});
  CHECK(r.appended.empty());  // already suspended: ignored
  r = h.step(3, {raised("b", "1"), ev(events::execution_resumed{""})});
  CHECK(!h.executor().is_suspended());
  REQUIRE(find_event<events::timer_created>(r.appended));
  r = h.step(60, {fired(1)});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == "6");
}

TEST_CASE("terminate ends the execution, what follows is ignored") {
  registry functions = make_registry();
  harness h(functions, "AddTwo");
  h.step(0, {started("AddTwo", "")});
  auto r = h.step(1, {completed(0, "5"), ev(events::execution_terminated{"by user"}), fired(1)});
  // The timer the result led to is dropped: nothing runs for a terminated execution.
  CHECK(find_event<events::timer_created>(r.appended) == nullptr);
  REQUIRE(r.appended.size() == 3);
  CHECK(std::holds_alternative<events::execution_terminated>(r.appended.back().payload));
  CHECK(r.ignored.size() == 1);
  CHECK(h.executor().is_complete());
  r = h.step(2, {raised("b", "1")});
  CHECK(r.appended.empty());
}

TEST_CASE("continue_as_new carries over unprocessed events") {
  registry functions;
  functions.add_orchestration("Eternal", [](orchestration_context& ctx, int n) -> task<void> {
    int got = co_await ctx.wait_for_event<int>("tick");
    ctx.continue_as_new(n + got, true);
  });
  harness h(functions, "Eternal");
  h.step(0, {started("Eternal", "0"), raised("tick", "1"), raised("other", R"("o")")});
  // Completed in the first episode: the rest arrive after the end.
  auto& history = h.events();
  REQUIRE(find_event<events::continued_as_new>(history));
  CHECK(find_event<events::continued_as_new>(history)->input == "1");

  orchestration_executor fresh(functions, "Eternal", 0, "i1");
  auto r = fresh.execute(std::vector<history_event>{ev(events::episode_started{}), started("Eternal", "0"),
                                                    raised("tick", "1"), raised("other", R"("o")"),
                                                    raised("tick", "2")});
  REQUIRE(r.carryover_events.size() == 2);
  CHECK(std::get<events::event_raised>(r.carryover_events[0].payload).name == "other");
  CHECK(std::get<events::event_raised>(r.carryover_events[1].payload).input == "2");
  CHECK(r.ignored.empty());
}

TEST_CASE("custom status, deterministic uuids, replay-safe logging") {
  std::vector<std::string> lines;
  set_log_sink([&](log_level, std::string_view instance, std::string_view message) {
    lines.push_back(std::string(instance) + ":" + std::string(message));
  });
  registry functions;
  functions.add_orchestration("Ids", [](orchestration_context& ctx) -> task<std::string> {
    std::string a = ctx.new_uuid();
    ctx.log("first " + std::string(ctx.is_replaying() ? "replaying" : "live"));
    ctx.set_custom_status(std::string("waiting"));
    co_await ctx.create_timer(1s);
    std::string b = ctx.new_uuid();
    ctx.log("second");
    co_return a + " " + b;
  });
  harness h(functions, "Ids");
  auto r = h.step(0, {started("Ids", "")});
  CHECK(r.custom_status == std::optional<std::string>(R"("waiting")"));
  r = h.step(1, {fired(0)});
  CHECK(!r.custom_status);
  auto output = find_event<events::execution_completed>(r.appended)->output;
  CHECK(output.size() == 2 + 36 + 36 + 1);
  CHECK(output[15] == '5');  // version 5
  // The harness replays a fresh executor before every step: only live runs logged.
  CHECK(lines == std::vector<std::string>{"i1:first live", "i1:first live", "i1:second", "i1:second"});
  set_log_sink({});

  orchestration_executor again(functions, "Ids", 0, "i1");
  auto replayed = again.replay(h.events());
  CHECK(replayed.appended.empty());
  CHECK(again.is_complete());
}

TEST_CASE("destroying an executor mid-execution frees every suspended frame") {
  registry functions;
  functions.add_orchestration("Deep", [](orchestration_context& ctx) -> task<void> {
    auto inner = [](orchestration_context& c, int i) -> task<int> {
      co_await c.create_timer(std::chrono::seconds(i));
      co_return co_await c.call_activity<int>("X", i);
    };
    std::vector<task<int>> parts;
    for (int i = 0; i < 8; ++i) parts.push_back(inner(ctx, i));
    auto any = ctx.wait_for_event("e");
    co_await when_all(std::move(parts));
  });
  for (int fired_count = 0; fired_count < 4; ++fired_count) {
    orchestration_executor ex(functions, "Deep", 0, "i1");
    std::vector<history_event> batch{ev(events::episode_started{}), started("Deep", "")};
    for (int i = 0; i < fired_count; ++i) batch.push_back(fired(i));
    ex.execute(batch);
    CHECK(!ex.is_complete());
  }
}
