// snapshot_bench: what a partition snapshot of a replicated hub costs, by the partition's size.
//
// One partition of a replicated hub is filled with `--instances` completed instances (store_bench's
// episodes, 5 per instance, committed 256 per batch to a log that keeps nothing), plus 1,024 live
// ones. Then: the owner writes the partition's image (export_image: a RocksDB snapshot into one SST
// file per column family), stores it in a snapshot store (chunks of 1 MiB, in memory: the JetStream
// store's transfer is not measured), and a fresh node reads it back and installs it (import_image:
// delete the partition's keys, one ingestion). Figures: wall-clock time of each step and the
// image's size.
#include "episode_workload.hpp"

#include "storage/log/snapshot_store.hpp"
#include "storage/replicated_hub.hpp"

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>

using namespace perdure;
using namespace perdure::storage;

namespace {

// The owner's log, keeping nothing: the bench measures images, not logs.
class discarding_log final : public partition_log {
 public:
  uint64_t append(std::string_view, uint64_t, std::string_view) override { return ++last_; }
  uint64_t last_seq() override { return last_; }
  std::vector<log_record> read(uint64_t, size_t) override { return {}; }
  size_t max_record_bytes() const override { return 1u << 20; }
  void trim_before(uint64_t) override {}
  uint64_t first_seq() override { return last_ + 1; }

 private:
  uint64_t last_ = 0;
};

using seconds_clock = std::chrono::steady_clock;

double seconds_since(seconds_clock::time_point t) {
  return std::chrono::duration<double>(seconds_clock::now() - t).count();
}

void run(const std::filesystem::path& dir, uint64_t instances) {
  store_options options;
  options.partition_count = 4;
  auto owner = replicated_hub::open(dir / "owner", options);
  discarding_log log;
  take_over(*owner, 0, log, 1, "bench");
  workload w(*owner, 0, 1024);
  const auto filled = seconds_clock::now();
  for (uint64_t episodes = 0; episodes < instances * 5;) {
    commit_batch b;
    b.partition = 0;
    for (size_t i = 0; i < 256; ++i) b.episodes.push_back(w.next());
    owner->commit(b);
    episodes += b.episodes.size();
  }
  const double fill_s = seconds_since(filled);

  memory_snapshot_store snapshots(1u << 20);
  snapshot_manifest stored;
  const auto exported = seconds_clock::now();
  double export_s = 0;
  owner->export_image(0, [&](std::istream& image, log_position at) {
    export_s = seconds_since(exported);
    const auto put = seconds_clock::now();
    stored = snapshots.put(0, at.seq, at.epoch, image);
    std::printf("%-10llu %10.1f %12.2f %10.2f %10.2f", static_cast<unsigned long long>(instances),
                static_cast<double>(stored.bytes) / (1 << 20), export_s, seconds_since(put), fill_s);
  });

  auto fresh = replicated_hub::open(dir / "fresh", options);
  const auto imported = seconds_clock::now();
  fresh->import_image(0, [&](std::ostream& image) { snapshots.read(0, stored, image); });
  std::printf(" %10.2f\n", seconds_since(imported));
  std::fflush(stdout);
  if (!(fresh->applied(0) == owner->applied(0))) throw std::runtime_error("the installed image is not at the owner's position");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint64_t> sizes{10'000, 100'000};
  std::string parent = "/tmp";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--instances") && i + 1 < argc) sizes = {std::strtoull(argv[++i], nullptr, 10)};
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) parent = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--instances N (default: 10,000 then 100,000)] [--dir parent dir, default /tmp]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf("snapshot_bench: one partition of completed instances (5 episodes each), its image exported,\n"
              "stored in memory in 1 MiB chunks, read back and installed into a fresh node's store\n\n");
  std::printf("%-10s %10s %12s %10s %10s %10s\n", "instances", "image MiB", "export s", "store s", "(fill s)",
              "install s");
  for (const uint64_t n : sizes) {
    std::string tmpl = parent + "/perdure-snapshot-bench-XXXXXX";
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    try {
      run(tmpl, n);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "snapshot_bench: %s\n", e.what());
      std::filesystem::remove_all(tmpl);
      return 1;
    }
    std::filesystem::remove_all(tmpl);
  }
  return 0;
}
