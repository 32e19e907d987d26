// Crash-test helper: commits batches (sync on) in a loop and prints each acknowledged batch number
// once commit() has returned. The parent kills it with SIGKILL at a random moment.
#include "crash_workload.hpp"

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  using namespace perdure::storage;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <hub dir> <first batch number>\n", argv[0]);
    return 2;
  }
  try {
    store_options options;
    options.partition_count = test::crash_partitions;
    auto hub = hub_store::open(argv[1], options);
    for (uint64_t n = std::strtoull(argv[2], nullptr, 10);; ++n) {
      hub->commit(test::crash_batch(*hub, n));
      std::printf("%llu\n", static_cast<unsigned long long>(n));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash child: %s\n", e.what());
    return 1;
  }
}
