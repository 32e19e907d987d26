// Payloads are bounded where they enter, and one bad payload never stops a partition: on a real
// node (RocksDB on disk, CAF actors), restarted on the same data where it matters.
#include "node_fixture.hpp"
#include "support/free_ports.hpp"

#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <sstream>

using namespace perdure;
using testing_support::temp_dir;
using testing_support::test_node_options;
using testing_support::wait_limit;

namespace {

// The tests use a small limit so oversized payloads stay small.
constexpr size_t payload_limit = 4096;

std::atomic<int> oversized_calls{0};

std::string deep(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Returns a JSON string of `length + 2` bytes.
std::string text_of(activity_context&, int length) {
  oversized_calls.fetch_add(1);
  return std::string(static_cast<size_t>(length), 'x');
}
json_text deep_json(activity_context&, int depth) { return json_text{deep(static_cast<size_t>(depth))}; }
int add_one(activity_context&, int x) { return x + 1; }

// Reports how the activity call ended, so the test sees what the orchestration saw.
template <class Out>
task<std::string> observe(orchestration_context& ctx, const char* activity, int arg) {
  try {
    co_await ctx.call_activity<Out>(activity, arg);
    co_return "completed";
  } catch (const task_failed& e) {
    co_return e.failure().error_type + (e.failure().non_retriable ? " (non-retriable): " : ": ") + e.failure().message;
  }
}

task<int> chain(orchestration_context& ctx, int x) {
  int a = co_await ctx.call_activity<int>("AddOne", x);
  co_return co_await ctx.call_activity<int>("AddOne", a);
}

task<int64_t> fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> parts;
  for (int i = 0; i < n; ++i) parts.push_back(ctx.call_activity<int>("AddOne", i));
  int64_t sum = 0;
  for (int v : co_await when_all(std::move(parts))) sum += v;
  co_return sum;
}

void register_all(host& h) {
  h.add_activity("Text", text_of);
  h.add_activity("DeepJson", deep_json);
  h.add_activity("AddOne", add_one);
  h.add_orchestration("ObserveText", [](orchestration_context& ctx, int n) { return observe<std::string>(ctx, "Text", n); });
  h.add_orchestration("ObserveDeep", [](orchestration_context& ctx, int n) { return observe<json_text>(ctx, "DeepJson", n); });
  h.add_orchestration("BigOutput", [](orchestration_context&, int n) -> task<std::string> {
    co_return std::string(static_cast<size_t>(n), 'y');
  });
  h.add_orchestration("BigStatus", [](orchestration_context& ctx, int n) -> task<int> {
    ctx.set_custom_status(std::string(static_cast<size_t>(n), 's'));
    co_return co_await ctx.call_activity<int>("AddOne", n);
  });
  h.add_orchestration("Chain", chain);
  h.add_orchestration("FanOut", fan_out);
  h.add_orchestration("Waits", [](orchestration_context& ctx) -> task<void> { co_await ctx.wait_for_event("Go"); });
}

node_options small_limit_options(const temp_dir& dir) {
  auto options = test_node_options(dir.path());
  options.partitions = 1;  // every instance shares the one partition a refused commit would stop
  options.max_payload_bytes = payload_limit;
  return options;
}

void check_partition_works(client& c) {
  for (int i = 0; i < 3; ++i) {
    auto record = c.wait_for_completion(c.start("Chain", std::to_string(i)), wait_limit);
    CHECK(record.status == runtime_status::completed);
    CHECK(record.output == std::to_string(i + 2));
  }
}

size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  return 0;
}

}  // namespace

TEST_CASE("an activity output over max_payload_bytes is a task failure the orchestration sees, the partition goes on") {
  temp_dir dir;
  const auto options = small_limit_options(dir);
  std::string id;
  int calls_before_restart = 0;
  {
    host h;
    register_all(h);
    h.start(options);
    auto& c = h.client();
    oversized_calls = 0;
    id = c.start("ObserveText", std::to_string(payload_limit - 1));  // a JSON string of limit + 1 bytes
    auto record = c.wait_for_completion(id, wait_limit);
    CHECK(record.status == runtime_status::completed);
    CHECK(record.output.find("perdure::payload_error (non-retriable): the activity's output is " +
                             std::to_string(payload_limit + 1) + " bytes, more than max_payload_bytes") !=
          std::string::npos);
    auto at_limit = c.wait_for_completion(c.start("ObserveText", std::to_string(payload_limit - 2)), wait_limit);
    CHECK(at_limit.output == R"("completed")");
    check_partition_works(c);
    calls_before_restart = oversized_calls.load();
    h.stop();
  }
  host h;
  register_all(h);
  h.start(options);
  check_partition_works(h.client());
  CHECK(h.client().status(id)->status == runtime_status::completed);
  CHECK(oversized_calls.load() == calls_before_restart);  // nothing ran again
}

TEST_CASE("an activity returning deeply nested JSON is a task failure the orchestration sees") {
  temp_dir dir;
  host h;
  register_all(h);
  h.start(small_limit_options(dir));
  auto& c = h.client();
  auto record = c.wait_for_completion(c.start("ObserveDeep", "1000"), wait_limit);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output.find("perdure::payload_error (non-retriable): the activity's output nests 1000 levels deep") !=
        std::string::npos);
  CHECK(c.wait_for_completion(c.start("ObserveDeep", "64"), wait_limit).output == R"("completed")");
}

TEST_CASE("an orchestration whose output or custom status the store refuses fails alone") {
  temp_dir dir;
  host h;
  register_all(h);
  h.start(small_limit_options(dir));
  auto& c = h.client();
  const auto waiting = c.start("Waits", "");
  for (const char* name : {"BigOutput", "BigStatus"}) {
    CAPTURE(name);
    auto record = c.wait_for_completion(c.start(name, std::to_string(payload_limit + 10)), wait_limit);
    CHECK(record.status == runtime_status::failed);
    REQUIRE(record.failure);
    CHECK(record.failure->error_type == "perdure::payload_error");
    CHECK(record.failure->message.find("more than max_payload_bytes") != std::string::npos);
    CHECK(record.output.empty());
    CHECK(record.custom_status.empty());
  }
  check_partition_works(c);
  c.raise_event(waiting, "Go", "");
  CHECK(c.wait_for_completion(waiting, wait_limit).status == runtime_status::completed);
}

TEST_CASE("the C++ client refuses deeply nested JSON and junk after a NUL byte, on one node and on a cluster") {
  temp_dir dir;
  host h;
  register_all(h);
  auto options = test_node_options(dir.path());
  SUBCASE("local client") {}
  SUBCASE("cluster client") {
    options.node_id = "a";
    options.members = "a@127.0.0.1:" + std::to_string(testing_support::free_base_port(1));
  }
  h.start(options);
  auto& c = h.client();
  const std::string hostile = deep(100'000);  // 200 KB of nested arrays (as in issue 12)
  CHECK_THROWS_WITH_AS(c.start("Chain", hostile), "the input nests 100000 levels deep; the limit is 64",
                       invalid_argument_error);
  CHECK_THROWS_WITH_AS(c.start("Chain", std::string("1\0junk", 6)),
                       "the input is not valid JSON: it holds a NUL byte at offset 1", invalid_argument_error);
  const auto waiting = c.start("Waits", "");
  CHECK_THROWS_WITH_AS(c.raise_event(waiting, "Go", hostile), "the event payload nests 100000 levels deep; the limit is 64",
                       invalid_argument_error);
  c.raise_event(waiting, "Go", deep(64));
  CHECK(c.wait_for_completion(waiting, wait_limit).status == runtime_status::completed);
}

TEST_CASE("a fan-out over --max-actions-per-episode fails the orchestration, not the node") {
  temp_dir dir;
  host h;
  register_all(h);
  auto options = test_node_options(dir.path());
  options.max_actions_per_episode = 10'000;
  h.start(options);
  auto& c = h.client();
  const size_t rss_before = resident_bytes();
  // Today's code would schedule all 3,000,000 (several GB); the bound stops it at 10,001.
  auto record = c.wait_for_completion(c.start("FanOut", "3000000"), wait_limit);
  CHECK(record.status == runtime_status::failed);
  REQUIRE(record.failure);
  CHECK(record.failure->error_type == "ActionLimitExceeded");
  CHECK(record.failure->message.find("more than 10000 actions") != std::string::npos);
  CHECK(c.history(record.instance_id).size() == 3);  // EpisodeStarted, ExecutionStarted, ExecutionFailed
  const size_t rss_after = resident_bytes();
  MESSAGE("resident memory grew by " << (rss_after - std::min(rss_after, rss_before)) / 1024 << " KiB");
  CHECK(rss_after < rss_before + (256u << 20));
  CHECK(c.wait_for_completion(c.start("FanOut", "10000"), wait_limit).status == runtime_status::completed);
}

// The figure in docs/benchmarks.md ("memory per pending task"): the node's peak RSS growth over a
// fan-out of 100,000 no-op activities (the default --max-actions-per-episode) divided by the tasks.
TEST_CASE("memory per pending task of a node-wide fan-out at the action limit") {
  temp_dir dir;
  host h;
  register_all(h);
  h.start(test_node_options(dir.path()));
  auto& c = h.client();
  const auto peak_kib = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
    return 0ul;
  };
  const size_t tasks = episode_limits{}.max_actions;
  const auto before = peak_kib();
  auto record = c.wait_for_completion(c.start("FanOut", std::to_string(tasks)), std::chrono::minutes(5));
  CHECK(record.status == runtime_status::completed);
  const auto growth = peak_kib() - std::min(before, peak_kib());
  const double per_task = static_cast<double>(growth) * 1024 / static_cast<double>(tasks);
  MESSAGE("peak RSS grew by " << growth / 1024 << " MiB for " << tasks << " pending tasks: " << per_task
                              << " bytes per pending task");
  CHECK(per_task < 16 * 1024);
}
