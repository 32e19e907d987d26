// store_bench: durable commit throughput of the hub store.
//
// Each episode is realistic: 2-4 history events with ~100-byte JSON payloads, a record update,
// and a scheduled activity or timer. An instance lives 5 episodes: start (new execution, index
// insert), three running episodes, completion (index move), then a new instance takes its place.
// Every commit is synced (store_options::sync) unless --no-sync, so the figures are durable commits.
// "commit CPU us/episode" is the CPU time the writer threads spent inside commit() per episode: it
// does not include the fsync wait, and unlike the rates it hardly depends on the machine's load.
#include "episode_workload.hpp"

#include <perdure/storage/store.hpp>

#include <stdlib.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace perdure;
using namespace perdure::storage;

namespace {

struct totals {
  uint64_t batches = 0, episodes = 0, events = 0;
  double commit_cpu_seconds = 0;  // CPU time of the writer threads inside commit()
};

// CPU time of the calling thread. Wall-clock figures swing with whatever else the machine runs;
// the CPU a commit costs its caller (RocksDB writes the WAL and the memtable on that thread) barely does.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One writer thread: commits batches of `batch_size` episodes to `partition` until `stop` or
// `max_batches`.
totals run_writer(hub_store& hub, uint32_t partition, size_t batch_size, uint64_t max_batches,
                  const std::atomic<bool>& stop) {
  workload w(hub, partition, 1024);
  totals t;
  while (!stop.load(std::memory_order_relaxed) && t.batches < max_batches) {
    commit_batch b;
    b.partition = partition;
    b.episodes.reserve(batch_size);
    for (size_t i = 0; i < batch_size; ++i) {
      b.episodes.push_back(w.next());
      t.events += b.episodes.back().appended.size();
    }
    double cpu_before = thread_cpu_seconds();
    hub.commit(b);
    t.commit_cpu_seconds += thread_cpu_seconds() - cpu_before;
    ++t.batches;
    t.episodes += batch_size;
  }
  return t;
}

// Runs for `seconds`, or until each writer has committed `max_batches` (a fixed amount of work, for
// comparing instruction counts under callgrind).
void run(hub_store& hub, size_t batch_size, unsigned threads, double seconds, uint64_t max_batches) {
  std::atomic<bool> stop{false};
  std::vector<totals> results(threads);
  std::vector<std::thread> writers;
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < threads; ++i)
    writers.emplace_back([&, i] { results[i] = run_writer(hub, i % hub.partition_count(), batch_size, max_batches, stop); });
  if (max_batches == UINT64_MAX) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  for (auto& t : writers) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  totals sum;
  for (auto& r : results) {
    sum.batches += r.batches;
    sum.episodes += r.episodes;
    sum.events += r.events;
    sum.commit_cpu_seconds += r.commit_cpu_seconds;
  }
  std::printf("%-8u %-10zu %12.0f %14.0f %16.0f %10.2f %12.1f\n", threads, batch_size, sum.batches / elapsed,
              sum.episodes / elapsed, sum.events / elapsed, 1e3 * elapsed / (sum.batches / double(threads)),
              1e6 * sum.commit_cpu_seconds / double(sum.episodes));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  bool sync = true;
  std::string dir;
  size_t only_batch = 0;     // 0: the whole table
  unsigned only_threads = 1;
  uint64_t max_batches = UINT64_MAX;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) only_batch = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) only_threads = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--batches") && i + 1 < argc) max_batches = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--no-sync")) sync = false;
    else {
      std::fprintf(stderr, "usage: %s [--seconds S per run] [--dir parent dir for the hub, default /tmp] [--no-sync]\n"
                   "          [--batch N [--threads T] [--batches B]: only this configuration, e.g. for a profiler;\n"
                   "           B batches per thread instead of S seconds]\n",
                   argv[0]);
      return 2;
    }
  }
  std::string tmpl = (dir.empty() ? std::string("/tmp") : dir) + "/perdure-store-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  std::filesystem::path hub_dir = tmpl;
  try {
    store_options options;
    options.partition_count = 4;
    options.sync = sync;
    auto hub = hub_store::open(hub_dir / "hub", options);
    std::printf("store_bench: %s, %.1f s per run, hub in %s\n",
                sync ? "durable commits (WAL fsync per batch)" : "commits WITHOUT sync (not durable)", seconds,
                hub_dir.c_str());
    std::printf("episode = 2-4 history events (~100-byte JSON), record + index update, activity or timer\n\n");
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::printf("load average before the runs: %.2f %.2f %.2f\n\n", load[0], load[1], load[2]);
    std::printf("%-8s %-10s %12s %14s %16s %10s %12s\n", "threads", "episodes/", "batches/s", "episodes/s",
                "history ev/s", "ms/batch", "commit CPU");
    std::printf("%-8s %-10s %12s %14s %16s %10s %12s\n", "", "batch", "", "", "", "", "us/episode");
    if (only_batch != 0) {
      run(*hub, only_batch, only_threads, seconds, max_batches);
    } else {
      for (size_t batch : {1, 16, 64, 256}) run(*hub, batch, 1, seconds, max_batches);
      for (size_t batch : {1, 64, 256}) run(*hub, batch, 2, seconds, max_batches);
      run(*hub, 64, 4, seconds, max_batches);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: %s\n", e.what());
    std::filesystem::remove_all(hub_dir);
    return 1;
  }
  std::filesystem::remove_all(hub_dir);
  return 0;
}
