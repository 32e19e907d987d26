// model_bench: the orchestration engine's hot paths.
//   1. replay speed of a ~10,000-event history (fresh executor + replay()),
//   2. CPU per episode of a cached coroutine (one activity result in, one activity scheduled out),
//   3. a fan-out of 100,000 activities in one when_all: time and heap per pending task.
// Usage: model_bench [fan_out_tasks]
#include <perdure/executor.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/registry.hpp>

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>

namespace {

size_t live_bytes = 0;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

void* operator new(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  live_bytes += malloc_usable_size(p);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  live_bytes -= malloc_usable_size(p);
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

using namespace perdure;

namespace {

time_point at(int64_t i) { return time_point(std::chrono::seconds(1'700'000'000 + i)); }

task<int> sequential(orchestration_context& ctx, int n) {
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await ctx.call_activity<int>("Step", i);
  co_return sum;
}

task<int> fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> work;
  work.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) work.push_back(ctx.call_activity<int>("Work", i));
  int sum = 0;
  for (int v : co_await when_all(std::move(work))) sum += v;
  co_return sum;
}

history_event marker(int64_t i) { return history_event{at(i), events::episode_started{}}; }
history_event start(const char* name, int n) {
  return history_event{at(0), events::execution_started{name, "bench", "e1", std::to_string(n), {}}};
}

// Runs `sequential` episode by episode; returns its history.
history build_sequential_history(const registry& functions, int activities) {
  orchestration_executor ex(functions, "Sequential", 0, "bench");
  history h;
  auto append = [&](const episode_result& r) { h.insert(h.end(), r.appended.begin(), r.appended.end()); };
  append(ex.execute(std::vector<history_event>{marker(0), start("Sequential", activities)}));
  for (int i = 0; i < activities; ++i)
    append(ex.execute(std::vector<history_event>{marker(i + 1),
                                                 history_event{at(i + 1), events::task_completed{i, "1"}}}));
  return h;
}

void bench_replay(const registry& functions) {
  history h = build_sequential_history(functions, 3333);
  const int rounds = 50;
  double begin = cpu_seconds();
  for (int r = 0; r < rounds; ++r) {
    orchestration_executor ex(functions, "Sequential", 0, "bench");
    auto result = ex.replay(h);
    if (!ex.is_complete() || !result.appended.empty()) std::abort();
  }
  double seconds = cpu_seconds() - begin;
  std::printf("replay: %zu-event history, %d replays: %.0f events/s (%.2f ms per replay)\n", h.size(),
              rounds, static_cast<double>(h.size()) * rounds / seconds, seconds / rounds * 1e3);
}

void bench_episode(const registry& functions) {
  const int episodes = 200'000;
  orchestration_executor ex(functions, "Sequential", 0, "bench");
  ex.execute(std::vector<history_event>{marker(0), start("Sequential", episodes)});
  std::vector<history_event> batch{marker(0), history_event{at(0), events::task_completed{0, "1"}}};
  double begin = cpu_seconds();
  for (int i = 0; i < episodes; ++i) {
    std::get<events::task_completed>(batch[1].payload).task_id = i;
    batch[0].timestamp = at(i + 1);
    auto r = ex.execute(batch);
    if (r.appended.size() != 3) std::abort();
  }
  double seconds = cpu_seconds() - begin;
  std::printf("episode (cached coroutine, 1 result in, 1 activity out): %.3f us CPU per episode\n",
              seconds / episodes * 1e6);
}

void bench_fan_out(const registry& functions, int n) {
  size_t before = live_bytes;
  double begin = cpu_seconds();
  auto ex = std::make_unique<orchestration_executor>(functions, "FanOut", 0, "bench");
  auto scheduled = ex->execute(std::vector<history_event>{marker(0), start("FanOut", n)});
  double fan_out_seconds = cpu_seconds() - begin;
  size_t with_history = live_bytes;
  scheduled.appended.clear();
  scheduled.appended.shrink_to_fit();
  size_t engine_only = live_bytes;

  std::vector<history_event> results;
  results.reserve(static_cast<size_t>(n) + 1);
  results.push_back(marker(1));
  for (int i = 0; i < n; ++i) results.push_back(history_event{at(1), events::task_completed{i, "2"}});
  begin = cpu_seconds();
  auto done = ex->execute(results);
  double fan_in_seconds = cpu_seconds() - begin;
  if (!ex->is_complete()) std::abort();
  auto per_task = [n](size_t bytes) { return static_cast<double>(bytes) / n; };
  std::printf("fan-out of %d activities in one when_all: schedule %.1f ms, fan-in %.1f ms\n", n,
              fan_out_seconds * 1e3, fan_in_seconds * 1e3);
  std::printf("  heap per pending task: %.0f bytes engine state (coroutine states, ids), "
              "%.0f bytes more for its TaskScheduled history event\n",
              per_task(engine_only - before), per_task(with_history - engine_only));
}

}  // namespace

int main(int argc, char** argv) {
  int fan = argc > 1 ? std::atoi(argv[1]) : 100'000;
  registry functions;
  functions.add_orchestration("Sequential", sequential);
  functions.add_orchestration("FanOut", fan_out);
  bench_replay(functions);
  bench_episode(functions);
  bench_fan_out(functions, fan);
  return 0;
}
