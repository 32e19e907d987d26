// Partition images, snapshots and log trimming on real RocksDB databases over memory_log and
// memory_snapshot_store: the deterministic form of rebuilding a partition from its snapshot and
// its log's tail (follower, takeover, lost data dirs).
#include "raw_values.hpp"
#include "snapshot_contract.hpp"
#include "test_util.hpp"

#include <log/memory_log.hpp>
#include <log/snapshot_store.hpp>
#include <replicated_hub.hpp>
#include <snapshots.hpp>

#include <doctest/doctest.h>

#include <sstream>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

constexpr uint32_t partitions = 3;

std::unique_ptr<replicated_hub> open_replica(const std::filesystem::path& dir) {
  store_options o;
  o.partition_count = partitions;
  return replicated_hub::open(dir, o);
}

// Starts `count` instances with an activity, a timer and an outbox message each, and completes
// every third one (deletes and overwrites, so that the image is not just the inserts).
std::vector<std::string> commit_some(replicated_hub& hub, uint32_t partition, const std::string& base, int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    auto record = make_record(id_in(hub, partition, base + std::to_string(i)), "Orch", runtime_status::running, at_ms(1000 + i));
    auto batch = start_batch(hub, record, {history_event{at_ms(1000), events::execution_started{"Orch", record.instance_id, record.execution_id, "1", std::nullopt}}});
    auto& ep = batch.episodes[0];
    ep.scheduled_activities.push_back(activity_task{record.instance_id, record.execution_id, 0, "Charge", "1", at_ms(1000)});
    ep.new_timers.push_back(timer_entry{at_ms(5000 + i), record.instance_id, record.execution_id, 1});
    outbox_entry out;
    out.target_partition = (partition + 1) % partitions;
    out.msg.instance_id = id_in(hub, out.target_partition, "elsewhere");
    out.msg.event = history_event{at_ms(1000), events::event_raised{"Ping", "1"}};
    ep.outbox.push_back(out);
    hub.commit(batch);
    ids.push_back(record.instance_id);
  }
  return ids;
}

std::string image_of(replicated_hub& hub, uint32_t partition, log_position* at = nullptr) {
  std::string bytes;
  const auto position = hub.export_image(partition, [&](std::istream& image, log_position) {
    std::ostringstream out;
    out << image.rdbuf();
    bytes = out.str();
  });
  if (at) *at = position;
  return bytes;
}

}  // namespace

TEST_CASE("partition image: installed into a fresh store, it equals the original key for key") {
  temp_dir a_dir, b_dir;
  memory_log log0, log1;
  std::string image;
  log_position at;
  {
    auto a = open_replica(a_dir.hub());
    take_over(*a, 0, log0, 1, "a");
    take_over(*a, 1, log1, 1, "a");
    commit_some(*a, 0, "zero-", 5);
    commit_some(*a, 1, "one-", 40);
    image = image_of(*a, 1, &at);
    CHECK(at == a->applied(1));
  }
  memory_log b_log0;
  {
    auto b = open_replica(b_dir.hub());
    take_over(*b, 0, b_log0, 7, "b");
    commit_some(*b, 0, "b-zero-", 3);
    CHECK(b->import_image(1, [&](std::ostream& out) { out << image; }) == at);
    CHECK(b->applied(1) == at);
    CHECK(b->read_from(1) == at.seq + 1);
  }
  const auto original = raw_partition_keys(a_dir.hub(), 1);
  CHECK(original.size() >= 6);  // history, instances, index, activities, timers, outbox, partition
  CHECK(raw_partition_keys(b_dir.hub(), 1) == original);
  // The other partitions are untouched: b's own partition 0, and nothing of a's partition 0.
  const auto b_zero = raw_partition_keys(b_dir.hub(), 0);
  CHECK(b_zero.at("instances").size() == 3);
  CHECK(b_zero != raw_partition_keys(a_dir.hub(), 0));
  CHECK(raw_partition_keys(b_dir.hub(), 2).empty());
}

TEST_CASE("partition image: installing replaces what the partition held, and is refused while led") {
  temp_dir a_dir, b_dir;
  memory_log a_log, b_log;
  auto a = open_replica(a_dir.hub());
  take_over(*a, 0, a_log, 1, "a");
  commit_some(*a, 0, "small-", 2);
  const auto image = image_of(*a, 0);

  auto b = open_replica(b_dir.hub());
  take_over(*b, 0, b_log, 1, "b");
  const auto stale = commit_some(*b, 0, "stale-", 10);
  try {
    b->import_image(0, [&](std::ostream& out) { out << image; });
    FAIL("an image was installed into a led partition");
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::invalid_argument);
  }
  CHECK(b->instance(stale[0]));
  b->follow(0);
  CHECK_THROWS_AS(b->import_image(1, [&](std::ostream& out) { out << image; }), store_error);  // another partition's image
  CHECK_THROWS_AS(b->import_image(0, [&](std::ostream& out) { out << "not an image"; }), store_error);
  b->import_image(0, [&](std::ostream& out) { out << image; });
  for (const auto& id : stale) CHECK_FALSE(b->instance(id));
  CHECK(b->applied(0) == a->applied(0));
}

TEST_CASE("memory_snapshot_store keeps the snapshot_store contract") {
  auto store = std::make_shared<memory_snapshot_store>(64);
  struct shared_handle final : snapshot_store {
    std::shared_ptr<memory_snapshot_store> store;
    snapshot_manifest put(uint32_t p, uint64_t s, uint64_t e, std::istream& i) override { return store->put(p, s, e, i); }
    std::optional<snapshot_manifest> newest(uint32_t p) override { return store->newest(p); }
    void read(uint32_t p, const snapshot_manifest& m, std::ostream& o) override { store->read(p, m, o); }
  };
  testing_support::check_snapshot_contract([&] {
    auto handle = std::make_unique<shared_handle>();
    handle->store = store;
    return handle;
  }, 64);
  // Partition 0's newest snapshot, partition 1's, and the last chunk of the refused writer, which
  // partition 0's next snapshot removes.
  CHECK(store->chunks_held() == 2 + 1 + 1);
}

TEST_CASE("snapshots: the owner snapshots every N records and trims its log only below a stored snapshot") {
  temp_dir a_dir;
  memory_log log;
  memory_snapshot_store snapshots;
  auto a = open_replica(a_dir.hub());
  take_over(*a, 0, log, 1, "a");
  snapshot_schedule schedule(10);
  commit_some(*a, 0, "early-", 8);  // epoch start + 8 records
  CHECK_FALSE(schedule.run(*a, 0, log, snapshots));
  CHECK(log.first_seq() == 1);
  commit_some(*a, 0, "more-", 2);
  const auto taken = schedule.run(*a, 0, log, snapshots);
  REQUIRE(taken);
  CHECK(taken->log_seq == 11);
  CHECK(taken->epoch == 1);
  CHECK(log.first_seq() == 11 - 5);  // half an interval stays below it, for followers a little behind
  CHECK_FALSE(schedule.run(*a, 0, log, snapshots));

  SUBCASE("a snapshot that cannot be stored trims nothing") {
    struct refusing final : snapshot_store {
      snapshot_manifest put(uint32_t, uint64_t, uint64_t, std::istream&) override {
        throw store_error(storage::errc::unavailable, "the snapshot store is down");
      }
      std::optional<snapshot_manifest> newest(uint32_t) override { return std::nullopt; }
      void read(uint32_t, const snapshot_manifest&, std::ostream&) override {}
    } down;
    snapshot_schedule other(5);
    commit_some(*a, 0, "later-", 6);
    CHECK_THROWS_AS(other.run(*a, 0, log, down), store_error);
    CHECK(log.first_seq() == 11 - 5);
  }
}

TEST_CASE("snapshots: a follower a little behind reads the log, one behind the trim and one with an empty copy install the snapshot and read the tail") {
  temp_dir a_dir, behind_dir, fresh_dir;
  memory_log log;
  memory_snapshot_store snapshots;
  auto a = open_replica(a_dir.hub());
  auto behind = open_replica(behind_dir.hub());
  take_over(*a, 0, log, 1, "a");
  temp_dir close_dir;
  auto close = open_replica(close_dir.hub());
  auto ids = commit_some(*a, 0, "first-", 5);
  catch_up(*behind, 0, log, &snapshots);
  const auto later = commit_some(*a, 0, "second-", 30);
  ids.insert(ids.end(), later.begin(), later.end());
  catch_up(*close, 0, log);
  const auto last = commit_some(*a, 0, "third-", 2);  // close is 2 records behind
  ids.insert(ids.end(), last.begin(), last.end());
  snapshot_schedule schedule(20);
  REQUIRE(schedule.run(*a, 0, log, snapshots));
  CHECK(log.first_seq() == a->applied(0).seq - 10);
  const auto tail = commit_some(*a, 0, "tail-", 4);
  ids.insert(ids.end(), tail.begin(), tail.end());

  // Without snapshots the trimmed records cannot be replaced.
  try {
    catch_up(*behind, 0, log);
    FAIL("a copy behind the trim caught up without a snapshot");
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::log_lost_records);
  }
  catch_up(*behind, 0, log, &snapshots);
  CHECK(behind->applied(0) == a->applied(0));
  for (const auto& id : ids) CHECK(behind->instance(id) == a->instance(id));
  // The one a little behind needs no snapshot (it has none to read).
  catch_up(*close, 0, log);
  CHECK(close->applied(0) == a->applied(0));
  auto fresh = open_replica(fresh_dir.hub());
  catch_up(*fresh, 0, log, &snapshots);
  CHECK(fresh->applied(0) == a->applied(0));
  a.reset();
  behind.reset();
  fresh.reset();
  const auto owner_keys = raw_partition_keys(a_dir.hub(), 0);
  CHECK(raw_partition_keys(behind_dir.hub(), 0) == owner_keys);
  CHECK(raw_partition_keys(fresh_dir.hub(), 0) == owner_keys);
}

TEST_CASE("snapshots: owner and follower both lose their data dirs: a new owner takes over from snapshot and tail") {
  auto a_dir = std::make_unique<temp_dir>();
  auto b_dir = std::make_unique<temp_dir>();
  memory_log log;
  memory_snapshot_store snapshots;
  std::vector<std::string> ids;
  std::vector<std::optional<instance_record>> acknowledged;
  {
    auto a = open_replica(a_dir->hub());
    auto b = open_replica(b_dir->hub());
    take_over(*a, 0, log, 1, "a", &snapshots);
    snapshot_schedule schedule(16);
    for (int round = 0; round < 5; ++round) {
      const auto some = commit_some(*a, 0, "r" + std::to_string(round) + "-", 9);
      ids.insert(ids.end(), some.begin(), some.end());
      schedule.run(*a, 0, log, snapshots);
      catch_up(*b, 0, log, &snapshots);
    }
    CHECK(log.first_seq() > 1);
    for (const auto& id : ids) acknowledged.push_back(a->instance(id));
  }
  a_dir.reset();  // both copies are gone
  b_dir.reset();
  temp_dir c_dir;
  auto c = open_replica(c_dir.hub());
  take_over(*c, 0, log, 2, "a", &snapshots);
  CHECK(c->leads(0));
  for (size_t i = 0; i < ids.size(); ++i) CHECK(c->instance(ids[i]) == acknowledged[i]);
  // It goes on committing after the log's last record.
  const auto after = commit_some(*c, 0, "after-", 2);
  CHECK(c->instance(after[1]));
  CHECK(c->applied(0).seq == log.last_seq());
}
