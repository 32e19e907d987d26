// Runtime workloads on an embedded node with durable commits (sync on unless --sync off).
//
//   runtime_bench [--workload w1|w2|w2big|w3|w1s|mem|all] [--partitions P] [--workers N] [--cache C]
//                 [--sync on|off]
//   runtime_bench --workload entities   (E1, Ehot, Ecall, Emem; not part of "all")
//   runtime_bench --workload replay-check   (RC; not part of "all")
//
// Partitions and workers default to the number of cores: each is a thread, and on a small machine
// more threads than cores cost more in hand-offs than they add in parallelism (docs/benchmarks.md).
//
// W1   hello sequence: 10,000 orchestrations of 3 no-op activities in sequence, at most 200
//      in flight; orchestrations/s and start-to-completion latency p50/p99.
// W2   fan-out/fan-in: 100 instances x 100 no-op activities; activities/s.
// W2big one instance with 10,000 activities; activities/s.
// W3   durable timers: 1,000 instances sleeping 2 s; wake-up lateness p50/p99.
// W1s  unloaded latency: 200 W1 orchestrations one after another; p50/p99.
// MEM  100,000 instances waiting for an event with the instance cache bound low (--cache, default
//      1,000): the node's RSS while they wait, then every one resumes when its event arrives.
// E1   entity signals: 200,000 "add" signals from 64 client threads to 1,000 Counter entities;
//      signals/s from the first send until every counter holds its sum.
// Ehot one hot entity: 100,000 signals to one Counter (queued operations run in one episode).
// Ecall call_entity round trip: 200 sequential orchestrations that each call one entity once
//      (start-to-completion p50/p99, beside W1s), and one orchestration making 2,000 calls in
//      sequence (mean per call).
// Emem memory per cached entity: RSS growth over 100,000 entities touched once, with the cache
//      bound (--cache) raised above that count.
// RC   shadow replay: 10,000 instances that ran two activities and wait for an event; replay_check
//      of them all against the code that wrote them, a compatible change and an incompatible one
//      (every instance reported); instances checked per second; then the same check through the
//      node's management API (GET /api/replay-check, what `perdure replay-check` asks).
// Each prints the node's peak RSS (VmHWM) after it.
#include <perdure/combinators.hpp>
#include <perdure/entity.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/replay_check.hpp>
#include <perdure/task.hpp>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

int noop(activity_context&, int x) { return x; }

task<int> hello_sequence(orchestration_context& ctx, int x) {
  x = co_await ctx.call_activity<int>("Noop", x);
  x = co_await ctx.call_activity<int>("Noop", x);
  co_return co_await ctx.call_activity<int>("Noop", x);
}

task<int> fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> parts;
  parts.reserve(n);
  for (int i = 0; i < n; ++i) parts.push_back(ctx.call_activity<int>("Noop", i));
  int sum = 0;
  for (int v : co_await when_all(std::move(parts))) sum += v;
  co_return sum;
}

// Returns how late the timer fired, in microseconds, measured against the wall clock by the
// activity that runs right after it (the orchestration's own clock is the episode's time).
task<int64_t> sleeper(orchestration_context& ctx, int millis) {
  const auto due = ctx.current_time() + std::chrono::milliseconds(millis);
  co_await ctx.create_timer(due);
  co_return co_await ctx.call_activity<int64_t>("LatenessSince",
                                                 std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count());
}

task<int> await_go(orchestration_context& ctx, int x) { co_return x + co_await ctx.wait_for_event<int>("Go"); }

// RC: what runs (two activities, then a wait), a compatible change (an activity after the wait,
// beyond every history) and an incompatible one (a third activity before the wait).
std::atomic<int> second_steps_done{0};
int count_second_step(activity_context&, int x) {
  ++second_steps_done;
  return x;
}
task<int> reserve_then_wait(orchestration_context& ctx, int x) {
  x = co_await ctx.call_activity<int>("Noop", x);
  x = co_await ctx.call_activity<int>("CountSecondStep", x);
  co_return x + co_await ctx.wait_for_event<int>("Go");
}
task<int> reserve_then_wait_then_notify(orchestration_context& ctx, int x) {
  x = co_await ctx.call_activity<int>("Noop", x);
  x = co_await ctx.call_activity<int>("CountSecondStep", x);
  x += co_await ctx.wait_for_event<int>("Go");
  co_return co_await ctx.call_activity<int>("Noop", x);
}
task<int> reserve_twice_then_wait(orchestration_context& ctx, int x) {
  x = co_await ctx.call_activity<int>("Noop", x);
  x = co_await ctx.call_activity<int>("Noop", x);
  x = co_await ctx.call_activity<int>("CountSecondStep", x);
  co_return x + co_await ctx.wait_for_event<int>("Go");
}

void counter(entity_context& ctx) {
  if (ctx.operation() == "add") {
    ctx.set_state(ctx.state<int64_t>(0) + ctx.input<int64_t>());
  } else if (ctx.operation() == "get") {
    ctx.return_value(ctx.state<int64_t>(0));
  } else {
    throw std::invalid_argument("Counter has no operation '" + ctx.operation() + "'");
  }
}

task<int64_t> call_counter_once(orchestration_context& ctx, std::string key) {
  co_return co_await ctx.call_entity<int64_t>(entity_id{"Counter", key}, "get");
}

task<int64_t> call_counter_repeatedly(orchestration_context& ctx, int calls) {
  int64_t last = 0;
  for (int i = 0; i < calls; ++i) last = co_await ctx.call_entity<int64_t>(entity_id{"Counter", "calls"}, "get");
  co_return last;
}

int64_t lateness_since(activity_context&, int64_t due_ns) {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
  return (now - due_ns) / 1000;
}

// A memory figure of this process in kB from /proc/self/status ("VmHWM:" peak RSS, "VmRSS:"
// current), or -1.
long status_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  return -1;
}

long peak_rss_kb() { return status_kb("VmHWM:"); }
long current_rss_kb() { return status_kb("VmRSS:"); }

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

// Starts `count` instances with at most `in_flight` unfinished; returns per-instance latency (ms).
std::vector<double> run_bounded(client& c, const std::string& name, int count, int in_flight, const std::string& input,
                                double& seconds) {
  std::vector<double> latencies(count);
  std::vector<std::thread> clients;
  const auto begin = steady::now();
  // The client API is synchronous: `in_flight` client threads each run one orchestration at a time.
  std::atomic<int> next{0};
  for (int t = 0; t < in_flight; ++t) {
    clients.emplace_back([&] {
      for (;;) {
        const int i = next.fetch_add(1);
        if (i >= count) return;
        const auto started = steady::now();
        auto id = c.start(name, input);
        c.wait_for_completion(id, 600s);
        latencies[i] = std::chrono::duration<double, std::milli>(steady::now() - started).count();
      }
    });
  }
  for (auto& t : clients) t.join();
  seconds = std::chrono::duration<double>(steady::now() - begin).count();
  return latencies;
}

void w1(client& c) {
  double seconds = 0;
  auto latencies = run_bounded(c, "HelloSequence", 10'000, 200, "1", seconds);
  std::printf("W1  hello sequence: 10000 orchestrations in %.2f s = %.0f orchestrations/s (%.0f activities/s); "
              "latency p50 %.1f ms, p99 %.1f ms\n",
              seconds, 10'000 / seconds, 30'000 / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99));
}

void w1s(client& c) {
  std::vector<double> latencies;
  for (int i = 0; i < 200; ++i) {
    const auto started = steady::now();
    auto id = c.start("HelloSequence", "1");
    c.wait_for_completion(id, 60s);
    latencies.push_back(std::chrono::duration<double, std::milli>(steady::now() - started).count());
  }
  std::printf("W1s unloaded latency: 200 sequential orchestrations; p50 %.2f ms, p99 %.2f ms\n",
              percentile(latencies, 0.5), percentile(latencies, 0.99));
}

void w2(client& c) {
  const auto begin = steady::now();
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(c.start("FanOut", "100"));
  for (auto& id : ids) c.wait_for_completion(id, 600s);
  const double seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("W2  fan-out/fan-in: 100 x 100 activities in %.2f s = %.0f activities/s\n", seconds, 10'000 / seconds);
}

void w2big(client& c) {
  const auto begin = steady::now();
  auto id = c.start("FanOut", "10000");
  c.wait_for_completion(id, 600s);
  const double seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("W2  one instance x 10000 activities in %.2f s = %.0f activities/s\n", seconds, 10'000 / seconds);
}

void w3(client& c) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1'000; ++i) ids.push_back(c.start("Sleeper", "2000"));
  std::vector<double> lateness;
  for (auto& id : ids) {
    auto record = c.wait_for_completion(id, 120s);
    lateness.push_back(std::stod(record.output) / 1000.0);
  }
  std::printf("W3  durable timers: 1000 instances sleeping 2 s; wake-up lateness p50 %.1f ms, p99 %.1f ms "
              "(measured by the activity after the timer, so it includes one activity dispatch)\n",
              percentile(lateness, 0.5), percentile(lateness, 0.99));
}

// Runs fn(i) for i in [0, count) on `threads` threads.
template <class Fn>
void parallel_for(int count, int threads, Fn fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(i);
    });
  for (auto& t : pool) t.join();
}

void waiting_instances(client& c) {
  constexpr int count = 100'000;
  auto begin = steady::now();
  parallel_for(count, 64, [&](int i) {
    start_options options;
    options.instance_id = "mem-" + std::to_string(i);
    c.start("AwaitGo", std::to_string(i), options);
  });
  const double start_seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("MEM %d instances started in %.1f s (%.0f starts/s); waiting for events: RSS %.1f MB\n", count,
              start_seconds, count / start_seconds, current_rss_kb() / 1024.0);
  begin = steady::now();
  std::atomic<int> wrong{0};
  parallel_for(count, 64, [&](int i) {
    const auto id = "mem-" + std::to_string(i);
    c.raise_event(id, "Go", "1");
    auto record = c.wait_for_completion(id, 600s);
    if (record.status != runtime_status::completed || record.output != std::to_string(i + 1)) ++wrong;
  });
  const double resume_seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("MEM all resumed in %.1f s (%.0f/s), %d with a wrong result; RSS after %.1f MB\n", resume_seconds,
              count / resume_seconds, wrong.load(), current_rss_kb() / 1024.0);
}

void replay_check_instances(client& c, int http_port) {
  constexpr int count = 10'000;
  const auto begin = steady::now();
  parallel_for(count, 64, [&](int i) {
    start_options options;
    options.instance_id = "rc-" + std::to_string(i);
    c.start("ReserveThenWait", std::to_string(i), options);
  });
  while (second_steps_done.load() < count) std::this_thread::sleep_for(10ms);
  // The last TaskCompleted of each is committed by the episode after its activity returned.
  std::this_thread::sleep_for(1s);
  std::printf("RC  %d instances started, each past two activities and waiting, in %.1f s\n", count,
              std::chrono::duration<double>(steady::now() - begin).count());
  const auto check = [&](const char* change, task<int> (*code)(orchestration_context&, int)) {
    registry deployed;
    deployed.add_orchestration("ReserveThenWait", code);
    const auto started = steady::now();
    const replay_check_report report = replay_check(c, deployed);
    const double seconds = std::chrono::duration<double>(steady::now() - started).count();
    std::printf("RC  %-13s checked %zu in %.2f s (%.0f instances/s): %zu mismatch(es)\n", change, report.checked,
                seconds, report.checked / seconds, report.mismatches.size());
  };
  check("same code", reserve_then_wait);
  check("compatible", reserve_then_wait_then_notify);
  check("incompatible", reserve_twice_then_wait);

  httplib::Client http("127.0.0.1", http_port);
  http.set_read_timeout(600s);
  const auto asked = steady::now();
  const auto res = http.Get("/api/replay-check");
  const double seconds = std::chrono::duration<double>(steady::now() - asked).count();
  if (!res || res->status != 200) throw std::runtime_error("GET /api/replay-check failed");
  const auto report = nlohmann::json::parse(res->body);
  std::printf("RC  over HTTP     checked %d in %.2f s (%.0f instances/s), passed %s\n", report.at("checked").get<int>(),
              seconds, report.at("checked").get<int>() / seconds, report.at("passed").dump().c_str());
}

// Waits until every entity in `expected` holds its value; returns false after 600 s.
bool wait_for_counters(client& c, const std::vector<std::pair<std::string, int64_t>>& expected) {
  const auto deadline = steady::now() + 600s;
  for (const auto& [key, value] : expected) {
    for (;;) {
      const auto entity = c.get_entity(entity_id{"Counter", key});
      if (entity && entity->state == std::to_string(value)) break;
      if (steady::now() > deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
  }
  return true;
}

void entity_signals(client& c) {
  constexpr int entities = 1'000, signals = 200'000;
  const auto begin = steady::now();
  parallel_for(signals, 64, [&](int i) { c.signal_entity(entity_id{"Counter", "e1-" + std::to_string(i % entities)}, "add", "1"); });
  const double sent_seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::vector<std::pair<std::string, int64_t>> expected;
  for (int k = 0; k < entities; ++k) expected.emplace_back("e1-" + std::to_string(k), signals / entities);
  const bool exact = wait_for_counters(c, expected);
  const double seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("E1  entity signals: %d signals to %d entities in %.2f s = %.0f signals/s (all sent after %.2f s); "
              "every count exact: %s\n",
              signals, entities, seconds, signals / seconds, sent_seconds, exact ? "yes" : "NO");
}

void hot_entity(client& c) {
  constexpr int signals = 100'000;
  const auto begin = steady::now();
  parallel_for(signals, 64, [&](int) { c.signal_entity(entity_id{"Counter", "hot"}, "add", "1"); });
  const bool exact = wait_for_counters(c, {{"hot", signals}});
  const double seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("Ehot one hot entity: %d signals in %.2f s = %.0f signals/s; count exact: %s\n", signals, seconds,
              signals / seconds, exact ? "yes" : "NO");
}

void entity_calls(client& c) {
  std::vector<double> latencies;
  for (int i = 0; i < 200; ++i) {
    const auto started = steady::now();
    auto id = c.start("CallCounterOnce", "\"call-" + std::to_string(i % 10) + "\"");
    c.wait_for_completion(id, 60s);
    latencies.push_back(std::chrono::duration<double, std::milli>(steady::now() - started).count());
  }
  constexpr int calls = 2'000;
  const auto begin = steady::now();
  auto id = c.start("CallCounterRepeatedly", std::to_string(calls));
  const auto record = c.wait_for_completion(id, 600s);
  const double seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("Ecall call_entity: 200 orchestrations of one call each, start-to-completion p50 %.2f ms, p99 %.2f ms; "
              "%d sequential calls from one orchestration in %.2f s = %.2f ms per call (%s)\n",
              percentile(latencies, 0.5), percentile(latencies, 0.99), calls, seconds, seconds * 1000 / calls,
              to_string(record.status));
}

void entity_memory(client& c) {
  constexpr int entities = 100'000;
  const long before_kb = current_rss_kb();
  parallel_for(entities, 64, [&](int i) { c.signal_entity(entity_id{"Counter", "mem-" + std::to_string(i)}, "add", "1"); });
  std::vector<std::pair<std::string, int64_t>> expected;
  for (int k = 0; k < entities; k += 1'000) expected.emplace_back("mem-" + std::to_string(k), 1);
  expected.emplace_back("mem-" + std::to_string(entities - 1), 1);
  wait_for_counters(c, expected);
  const long after_kb = current_rss_kb();
  std::printf("Emem %d entities touched once: RSS %.1f MB -> %.1f MB, %.0f bytes per entity (cache bound %s)\n",
              entities, before_kb / 1024.0, after_kb / 1024.0, (after_kb - before_kb) * 1024.0 / entities,
              "raised to 200,000");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Perdure runtime workloads"};
  std::string workload = "all", sync = "on";
  node_options options;
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  options.partitions = cores;
  options.activity_workers = cores;
  options.log_level = "warn";
  options.max_cached_instances = 1'000;
  app.add_option("--workload", workload)->check(CLI::IsMember({"w1", "w2", "w2big", "w3", "w1s", "mem", "all", "entities",
                                                             "replay-check"}));
  app.add_option("--cache", options.max_cached_instances);
  app.add_option("--partitions", options.partitions);
  app.add_option("--workers", options.activity_workers);
  app.add_option("--sync", sync)->check(CLI::IsMember({"on", "off"}));
  CLI11_PARSE(app, argc, argv);
  options.sync = sync == "on";
  if (workload == "entities") options.max_cached_instances = std::max<size_t>(options.max_cached_instances, 200'000);
  if (workload == "replay-check") options.http_port = 0;  // any free port: RC also asks the management API

  const auto dir = std::filesystem::temp_directory_path() / ("perdure-bench-" + std::to_string(std::random_device{}()));
  options.data_dir = dir;
  std::printf("runtime_bench: %u partitions, %zu workers, cache %zu, sync %s, data %s\n", options.partitions,
              options.activity_workers, options.max_cached_instances, sync.c_str(), dir.c_str());
  {
    host h;
    h.add_activity("Noop", noop);
    h.add_activity("LatenessSince", lateness_since);
    h.add_orchestration("HelloSequence", hello_sequence);
    h.add_orchestration("FanOut", fan_out);
    h.add_orchestration("Sleeper", sleeper);
    h.add_orchestration("AwaitGo", await_go);
    h.add_activity("CountSecondStep", count_second_step);
    h.add_orchestration("ReserveThenWait", reserve_then_wait);
    h.add_orchestration("CallCounterOnce", call_counter_once);
    h.add_orchestration("CallCounterRepeatedly", call_counter_repeatedly);
    h.add_entity("Counter", counter);
    h.start(options);
    auto& c = h.client();
    auto run = [&](const char* name, void (*fn)(client&)) {
      if (workload != "all" && workload != name) return;
      fn(c);
      std::printf("    peak RSS so far: %.1f MB\n", peak_rss_kb() / 1024.0);
      std::fflush(stdout);
    };
    run("w1s", w1s);
    run("w1", w1);
    run("w2", w2);
    run("w2big", w2big);
    run("w3", w3);
    run("mem", waiting_instances);
    if (workload == "replay-check") {
      replay_check_instances(c, h.http_port());
      std::printf("    peak RSS so far: %.1f MB\n", peak_rss_kb() / 1024.0);
    }
    if (workload == "entities") {
      for (auto fn : {entity_signals, hot_entity, entity_calls, entity_memory}) {
        fn(c);
        std::printf("    peak RSS so far: %.1f MB\n", peak_rss_kb() / 1024.0);
        std::fflush(stdout);
      }
    }
    h.stop();
  }
  std::filesystem::remove_all(dir);
}
