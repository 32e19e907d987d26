// The client's asynchronous calls on an embedded node (RocksDB on disk, CAF actors): what they
// deliver to their callbacks, and which failures are thrown before anything is sent.
#include "node_fixture.hpp"

#include <perdure/errors.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <future>
#include <string>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::temp_dir;
using testing_support::test_node_options;

namespace {

int doubled(activity_context&, int x) { return 2 * x; }

task<int> double_it(orchestration_context& ctx, int x) { co_return co_await ctx.call_activity<int>("Double", x); }

task<std::string> waits_for_go(orchestration_context& ctx) { co_return co_await ctx.wait_for_event<std::string>("Go"); }

// The outcome a callback was given, once it was given (the test fails if it never is).
template <class Result>
Result outcome_of(std::future<Result>& delivered) {
  REQUIRE(delivered.wait_for(60s) == std::future_status::ready);
  return delivered.get();
}

start_result start_async(client& c, const std::string& name, const std::string& input, const start_options& options) {
  std::promise<start_result> promise;
  auto delivered = promise.get_future();
  c.start_async(name, input, options, [&promise](start_result r) { promise.set_value(std::move(r)); });
  return outcome_of(delivered);
}

template <class Error>
void check_failed_with(const start_result& r) {
  REQUIRE(std::holds_alternative<std::exception_ptr>(r));
  CHECK_THROWS_AS(std::rethrow_exception(std::get<std::exception_ptr>(r)), Error);
}

}  // namespace

TEST_CASE("start_async delivers the new instance's id once its start is durable") {
  temp_dir dir;
  host h;
  h.add_activity("Double", doubled);
  h.add_orchestration("Double", double_it);
  h.add_orchestration("WaitsForGo", waits_for_go);
  h.start(test_node_options(dir.path()));
  client& c = h.client();

  start_options named;
  named.instance_id = "async-1";
  const start_result started = start_async(c, "Double", "21", named);
  REQUIRE(std::holds_alternative<std::string>(started));
  CHECK(std::get<std::string>(started) == "async-1");
  CHECK(c.wait_for_completion("async-1", 30s).output == "42");

  // A random id when none is given, as start picks.
  const start_result unnamed = start_async(c, "Double", "1", {});
  REQUIRE(std::holds_alternative<std::string>(unnamed));
  CHECK_FALSE(std::get<std::string>(unnamed).empty());

  // What the partition refuses reaches the callback, with the type start would throw.
  start_options waiting;
  waiting.instance_id = "async-waiting";
  REQUIRE(std::holds_alternative<std::string>(start_async(c, "WaitsForGo", "", waiting)));
  check_failed_with<instance_already_exists>(start_async(c, "WaitsForGo", "", waiting));
  waiting.when_running = if_running::return_existing;
  const start_result existing = start_async(c, "WaitsForGo", "", waiting);
  REQUIRE(std::holds_alternative<std::string>(existing));
  CHECK(std::get<std::string>(existing) == "async-waiting");
  const auto history = c.history("async-waiting");
  CHECK(std::count_if(history.begin(), history.end(), [](const history_event& e) {
          return std::holds_alternative<events::execution_started>(e.payload);
        }) == 1);  // the running instance was left alone

  // What this side can tell at once is thrown before anything is sent, and the callback never runs.
  bool called = false;
  const auto never = [&called](start_result) { called = true; };
  CHECK_THROWS_AS(c.start_async("NoSuchOrchestration", "1", {}, never), unknown_function_error);
  start_options bad_id;
  bad_id.instance_id = "..";
  CHECK_THROWS_AS(c.start_async("Double", "1", bad_id, never), invalid_argument_error);
  CHECK_THROWS_AS(c.start_async("Double", "{not json", {}, never), invalid_argument_error);
  CHECK_FALSE(called);
  h.stop();
}

TEST_CASE("wait_for_completion_async delivers the record of the instance that ended, or its failure") {
  temp_dir dir;
  host h;
  h.add_orchestration("WaitsForGo", waits_for_go);
  h.start(test_node_options(dir.path()));
  client& c = h.client();
  start_options options;
  options.instance_id = "awaited";
  c.start("WaitsForGo", "", options);

  std::promise<wait_result> ended;
  auto delivered = ended.get_future();
  c.wait_for_completion_async("awaited", 60s, [&ended](wait_result r) { ended.set_value(std::move(r)); });
  c.raise_event("awaited", "Go", "\"went\"");
  const wait_result result = outcome_of(delivered);
  REQUIRE(std::holds_alternative<instance_record>(result));
  CHECK(std::get<instance_record>(result).status == runtime_status::completed);
  CHECK(std::get<instance_record>(result).output == "\"went\"");

  std::promise<wait_result> missing;
  auto not_found = missing.get_future();
  c.wait_for_completion_async("nobody", 5s, [&missing](wait_result r) { missing.set_value(std::move(r)); });
  const wait_result none = outcome_of(not_found);
  REQUIRE(std::holds_alternative<std::exception_ptr>(none));
  CHECK_THROWS_AS(std::rethrow_exception(std::get<std::exception_ptr>(none)), instance_not_found);
  h.stop();
}
