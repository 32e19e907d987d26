// Opening a hub whose write-ahead log is damaged (issue 12, item 8): a torn last record is dropped;
// damage before the end fails the open naming the file, unless the operator asks to drop what
// follows the damage (RocksDB's point-in-time recovery, which was the default and lost
// acknowledged commits without a word).
#include "test_util.hpp"
#include "wal_files.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;
using perdure::testing_support::append_torn_record;
using perdure::testing_support::flip_bytes_in_the_middle;
using perdure::testing_support::live_wal;

namespace {

constexpr int instances = 200;

/// Commits `instances` starts of 2 KiB inputs (one synced batch each) and closes the hub; they
/// stay in the WAL (nothing is flushed to a table file that soon).
void fill(const std::filesystem::path& hub_dir) {
  auto hub = open_hub(hub_dir);
  for (int i = 0; i < instances; ++i) {
    auto record = make_record("i-" + std::to_string(i), "Load", runtime_status::running, at_ms(i));
    record.input = "\"" + std::string(2048, static_cast<char>('a' + i % 26)) + "\"";
    hub->commit(start_batch(*hub, record, every_event_kind()));
  }
}

int present(const hub_store& hub) {
  int n = 0;
  for (int i = 0; i < instances; ++i) n += hub.instance("i-" + std::to_string(i)).has_value();
  return n;
}

}  // namespace

TEST_CASE("store: a torn last WAL record is dropped and every commit before it opens") {
  temp_dir dir;
  fill(dir.hub());
  append_torn_record(live_wal(dir.hub()));
  auto hub = open_hub(dir.hub());
  CHECK(present(*hub) == instances);
}

TEST_CASE("store: damage in the middle of the WAL fails the open naming the file, or drops what follows it if asked") {
  temp_dir dir;
  fill(dir.hub());
  const auto wal = live_wal(dir.hub());
  flip_bytes_in_the_middle(wal, 16);

  std::string message;
  try {
    open_hub(dir.hub());
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::corrupt_record);
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("write-ahead log") != std::string::npos);
  CHECK(message.find(wal.string()) != std::string::npos);
  CHECK(message.find("A corrupt write-ahead log") != std::string::npos);
  REQUIRE(std::filesystem::exists(wal));  // untouched by the refused open

  store_options accept_loss;
  accept_loss.on_wal_damage = wal_damage::drop_after;
  auto hub = hub_store::open(dir.hub(), accept_loss);
  const int kept = present(*hub);
  CHECK(kept > 0);  // everything before the damage
  CHECK(kept < instances);  // the rest, dropped as asked
  CHECK(hub->instance("i-0"));
}
