// The four overlap policies in real time: a 1 s schedule on a real node (RocksDB on disk, CAF
// actors) whose runs hold until they are released, so every tick after the first finds its
// predecessor still running. The partition tests check the same rules on a simulated clock; these
// check them through the timers, the sub-orchestration starts and the terminate activity of a node.
#include "node_fixture.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/schedule.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::temp_dir;
using testing_support::test_node_options;

namespace {

// Generous: ticks are 1 s apart, and a loaded machine delays them.
constexpr auto limit = std::chrono::seconds(60);

task<std::string> hold(orchestration_context& ctx) {
  co_return co_await ctx.wait_for_event<std::string>("release");
}

struct schedule_node {
  temp_dir dir;
  host node;
  explicit schedule_node(overlap_policy policy) {
    node.add_orchestration("Hold", hold);
    node.start(test_node_options(dir.path()));
    schedule_spec spec;
    spec.id = "hold";
    spec.interval = 1s;
    spec.orchestration = "Hold";
    spec.overlap = policy;
    schedules().create(spec);
  }
  ~schedule_node() { node.stop(); }
  client& hub() { return node.client(); }
  schedule_client schedules() { return schedule_client(hub()); }
  schedule_description described() {
    auto d = schedules().describe("hold");
    REQUIRE(d);
    return *d;
  }
  // Oldest tick first: the ids end in the tick's ISO 8601 time, which sorts as text.
  std::vector<instance_record> runs() {
    instance_query query;
    query.instance_id_prefix = "hold@";
    query.page_size = 1000;
    auto records = hub().list(query).records;
    std::sort(records.begin(), records.end(),
              [](const auto& a, const auto& b) { return a.instance_id < b.instance_id; });
    return records;
  }
  static size_t count(const std::vector<instance_record>& records, runtime_status status) {
    return std::count_if(records.begin(), records.end(), [&](const auto& r) { return r.status == status; });
  }
  // Pauses, then waits until the runs stop changing: a tick that was being handled has landed.
  std::vector<instance_record> pause_and_settle() {
    schedules().pause("hold");
    auto before = runs();
    for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
      std::this_thread::sleep_for(1500ms);
      auto now = runs();
      if (now == before) return now;
      before = std::move(now);
    }
    FAIL("the runs kept changing after the schedule was paused");
    return before;
  }
};

}  // namespace

TEST_CASE("skip: ticks while the run holds start nothing, and are counted") {
  schedule_node s(overlap_policy::skip);
  REQUIRE(eventually([&] { return s.described().skipped >= 3; }, limit));
  const auto runs = s.pause_and_settle();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == runtime_status::running);
  CHECK(s.described().waiting_on == runs[0].instance_id);
}

TEST_CASE("bufferOne: one tick waits for the running run and starts when it ends, later ones are skipped") {
  schedule_node s(overlap_policy::buffer_one);
  REQUIRE(eventually([&] { return s.described().skipped >= 2; }, limit));
  auto d = s.described();
  REQUIRE(d.buffered);
  const std::string buffered = d.buffered->instance_id;
  auto runs = s.runs();
  REQUIRE(runs.size() == 1);
  const std::string first = runs[0].instance_id;
  CHECK(first < buffered);  // an earlier tick

  s.hub().raise_event(first, "release", R"("done")");
  REQUIRE(eventually([&] {
    auto record = s.hub().status(buffered);
    return record && record->status == runtime_status::running;
  }, limit));
  CHECK(s.hub().status(first)->status == runtime_status::completed);
  // Ticks while the buffered run holds buffer one more, which waits for it: still two runs.
  runs = s.pause_and_settle();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].instance_id == first);
  CHECK(runs[1].instance_id == buffered);
  CHECK(runs[1].status == runtime_status::running);
}

TEST_CASE("allowAll: every tick starts its run while the earlier ones hold") {
  schedule_node s(overlap_policy::allow_all);
  REQUIRE(eventually([&] { return schedule_node::count(s.runs(), runtime_status::running) >= 3; }, limit));
  const auto runs = s.pause_and_settle();
  CHECK(schedule_node::count(runs, runtime_status::running) == runs.size());
  CHECK(s.described().skipped == 0);
}

TEST_CASE("cancelPrevious: each tick terminates the holding run, then starts its own, one running at a time") {
  schedule_node s(overlap_policy::cancel_previous);
  REQUIRE(eventually([&] { return schedule_node::count(s.runs(), runtime_status::terminated) >= 2; }, limit));
  const auto runs = s.pause_and_settle();
  REQUIRE(runs.size() >= 3);
  // Every run but the newest was terminated by the schedule, naming the tick that replaced it.
  for (size_t i = 0; i + 1 < runs.size(); ++i) {
    CAPTURE(runs[i].instance_id);
    CHECK(runs[i].status == runtime_status::terminated);
    CHECK(runs[i].output.find("schedule 'hold' started " + runs[i + 1].instance_id) != std::string::npos);
  }
  CHECK(runs.back().status == runtime_status::running);
  CHECK(s.described().waiting_on == runs.back().instance_id);
}
