// A commit whose WAL record starts in the last few bytes of a 32 KiB log block must read back
// after a reopen. With RocksDB 7.8's ZSTD WAL compression such a record (its first fragment only
// the compressor's frame header) was written correctly (the zstd tool decodes it) but read back
// as a malformed batch: the open failed with "Corruption: bad WriteBatch Put" in every recovery
// mode, after a full disk in about 1 run in 10 of test_disk_full.cpp (a 460 KB group commit).
#include "test_util.hpp"
#include "wal_files.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

std::string random_text(std::mt19937_64& random, size_t bytes) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string text(bytes, ' ');
  for (auto& c : text) c = alphabet[random() % alphabet.size()];
  return "\"" + text + "\"";
}

}  // namespace

TEST_CASE("store: large commits whose WAL records start at the end of a log block read back after reopen") {
  temp_dir dir;
  std::mt19937_64 random(12);
  std::vector<std::string> ids;
  int large_commits = 0;
  {
    store_options options;
    options.partition_count = 1;
    options.sync = false;  // the WAL is written all the same, and the search for block ends is faster
    auto hub = hub_store::open(dir.hub(), options);
    const auto wal = testing_support::live_wal(dir.hub());
    for (int i = 0; i < 20'000 && large_commits < 8; ++i) {
      const size_t left_in_block = 32768 - std::filesystem::file_size(wal) % 32768;
      const bool at_block_end = left_in_block > 7 && left_in_block <= 24;
      commit_batch batch;
      for (int k = 0; k < (at_block_end ? 8 : 1); ++k) {
        auto record = make_record("w-" + std::to_string(i) + "-" + std::to_string(k), "W", runtime_status::running,
                                  at_ms(i));
        record.input = random_text(random, at_block_end ? 60'000 : 20 + random() % 80);
        ids.push_back(record.instance_id);
        batch.episodes.push_back(start_batch(*hub, record, {}).episodes[0]);
      }
      hub->commit(batch);
      large_commits += at_block_end;
    }
  }
  REQUIRE(large_commits == 8);
  auto hub = open_hub(dir.hub(), 1);
  size_t present = 0;
  for (const auto& id : ids) present += hub->instance(id).has_value();
  CHECK(present == ids.size());
}
