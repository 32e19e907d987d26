// The partition state machine driven directly, as its shell drives it: inputs, one commit through
// a hub_store in memory, then the actions.
#include <partition/state_machine.hpp>

#include <perdure/orchestration_context.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <variant>

using namespace perdure;
using namespace perdure::partition;

namespace {

task<std::string> wait_for_go(orchestration_context& ctx, std::string) {
  co_return co_await ctx.wait_for_event<std::string>("go");
}

struct machine_on_memory {
  registry functions;
  std::unique_ptr<storage::hub_store> store;
  std::unique_ptr<state_machine> machine;
  time_point now = time_point(std::chrono::seconds(1704067200));

  machine_on_memory() {
    functions.add_orchestration("WaitForGo", wait_for_go);
    store = storage::hub_store::open("state_machine_test",
                                     storage::store_options{1, false, 4u << 20, storage::wal_damage::refuse, true});
    state_machine_config config;
    config.store = store.get();
    config.functions = &functions;
    config.new_execution_id = [](std::string_view id) { return std::string(id) + "#1"; };
    machine = std::make_unique<state_machine>(std::move(config));
    machine->recover(now);
  }

  actions flush() {
    auto batch = machine->prepare(now);
    storage::commit_result result;
    if (has_writes(batch)) result = store->commit(batch);
    return machine->committed(std::move(batch), std::move(result), now);
  }
};

// The answers among `out`, by caller.
std::vector<answer> answers_in(const actions& out) {
  std::vector<answer> found;
  for (const auto& a : out)
    if (auto* reply = std::get_if<answer>(&a)) found.push_back(*reply);
  return found;
}

}  // namespace

TEST_CASE("a wait that ran out is answered and no longer kept: the instance's end answers only the waiters still there") {
  machine_on_memory m;
  CHECK(answers_in(m.machine->start(1, "WaitForGo", "\"\"", "long-running", false, events::execution_started::any_version, m.now)).empty());
  REQUIRE(answers_in(m.flush()).size() == 1);  // the start, once durable

  // A long-poll that gives up, many times over: none of them stays behind.
  for (request_id caller = 10; caller < 110; ++caller) {
    CHECK(m.machine->wait(caller, "long-running").empty());
    const auto expired = answers_in(m.machine->expire_wait(caller, "long-running"));
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].to == caller);
    const auto* refused = std::get_if<refusal>(&expired[0].value);
    REQUIRE(refused);
    CHECK(refused->code == refusal_code::unavailable);
    CHECK(m.machine->expire_wait(caller, "long-running").empty());  // once only
  }
  CHECK(m.machine->wait(200, "long-running").empty());  // one that waits to the end

  message go{"long-running", {}, history_event{m.now, events::event_raised{"go", "\"now\""}}};
  CHECK(answers_in(m.machine->command(300, std::move(go))).empty());
  auto ended = answers_in(m.flush());
  std::vector<request_id> answered;
  for (const auto& a : ended) answered.push_back(a.to);
  std::sort(answered.begin(), answered.end());
  CHECK(answered == std::vector<request_id>{200, 300});  // the waiter and the command; no expired one
  for (const auto& a : ended)
    if (a.to == 200) CHECK(std::get<instance_record>(a.value).output == "\"now\"");
  CHECK(m.machine->expire_wait(200, "long-running").empty());  // answered already
}
