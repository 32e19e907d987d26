// replicated_hub over memory_log: the log-first write path, followers, fencing, split batches and
// takeover, on real RocksDB databases; the deterministic form of the cluster's failover scenarios.
#include "test_util.hpp"

#include <codec.hpp>
#include <log/memory_log.hpp>
#include <replicated_hub.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

constexpr uint32_t partitions = 2;

std::unique_ptr<replicated_hub> open_replica(const std::filesystem::path& dir) {
  store_options o;
  o.partition_count = partitions;
  return replicated_hub::open(dir, o);
}

// A batch that starts one instance with a pending activity, a timer and an outbox message, so
// every column family a commit touches is compared between replicas.
commit_batch busy_start(const hub_store& hub, uint32_t partition, const std::string& base, size_t input_bytes = 16) {
  auto record = make_record(id_in(hub, partition, base), "Orch", runtime_status::running, at_ms(1000));
  record.input = "\"" + std::string(input_bytes, 'x') + "\"";
  auto batch = start_batch(hub, record, {history_event{at_ms(1000), events::execution_started{"Orch", record.instance_id, record.execution_id, record.input, std::nullopt}}});
  auto& ep = batch.episodes[0];
  ep.scheduled_activities.push_back(activity_task{record.instance_id, record.execution_id, 0, "Charge", "1", at_ms(1000)});
  ep.new_timers.push_back(timer_entry{at_ms(5000), record.instance_id, record.execution_id, 1});
  outbox_entry out;
  out.target_partition = 1 - partition;
  out.msg.instance_id = id_in(hub, 1 - partition, "elsewhere");
  out.msg.event = history_event{at_ms(1000), events::event_raised{"Ping", "1"}};
  ep.outbox.push_back(out);
  batch.dedup_watermarks.push_back({1 - partition, 7});
  return batch;
}

// Everything a partition's reads return, for comparing two replicas.
struct partition_view {
  std::vector<std::optional<instance_record>> records;
  std::vector<size_t> history_sizes;
  std::vector<activity_task> activities;
  std::vector<timer_entry> timers;
  std::vector<outbox_entry> outbox;
  std::vector<std::pair<uint32_t, uint64_t>> watermarks;
  friend bool operator==(const partition_view&, const partition_view&) = default;
};

partition_view view(const hub_store& hub, uint32_t p, const std::vector<std::string>& ids) {
  partition_view v;
  for (const auto& id : ids) {
    v.records.push_back(hub.instance(id));
    v.history_sizes.push_back(hub.history(id).size());
  }
  v.activities = hub.pending_activities(p);
  v.timers = hub.timers(p, at_ms(1'000'000'000), 1000);
  v.outbox = hub.outbox(p);
  v.watermarks = hub.dedup_watermarks(p);
  return v;
}

}  // namespace

TEST_CASE("replication: a follower applying the log holds what the leader committed") {
  temp_dir a_dir, b_dir;
  memory_log log;
  auto a = open_replica(a_dir.hub());
  auto b = open_replica(b_dir.hub());
  take_over(*a, 0, log, 1, "a");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto batch = busy_start(*a, 0, "order-" + std::to_string(i));
    ids.push_back(batch.episodes[0].instance_id);
    auto result = a->commit(batch);
    CHECK(result.outbox.size() == 1);
  }
  a->commit(commit_batch{0, {}, {1, 2}, {}, {}, {}, {}, {}});  // two outbox entries delivered
  CHECK(a->applied(0) == log_position{7, 1});  // epoch start + 6 batches

  CHECK(catch_up(*b, 0, log) == 7);
  CHECK(b->applied(0) == a->applied(0));
  CHECK(view(*b, 0, ids) == view(*a, 0, ids));
  CHECK(b->outbox(0).size() == 3);
  CHECK(catch_up(*b, 0, log) == 0);  // nothing new

  SUBCASE("a follower's writes are refused") {
    CHECK_THROWS_WITH_AS(b->commit(busy_start(*b, 0, "mine")), doctest::Contains("not led by this node"), store_error);
  }
  SUBCASE("the follower takes over: its outbox numbering continues the leader's") {
    take_over(*b, 0, log, 2, "b");
    auto result = b->commit(busy_start(*b, 0, "after"));
    REQUIRE(result.outbox.size() == 1);
    CHECK(result.outbox[0].seq == 6);
  }
}

TEST_CASE("replication: a fenced leader writes nothing, and the new owner has every acknowledged commit") {
  temp_dir a_dir, b_dir;
  memory_log log;
  auto a = open_replica(a_dir.hub());
  auto b = open_replica(b_dir.hub());
  take_over(*a, 0, log, 1, "a");
  auto first = busy_start(*a, 0, "first");
  a->commit(first);
  catch_up(*b, 0, log);  // b follows, a little behind
  auto second = busy_start(*a, 0, "second");
  a->commit(second);

  take_over(*b, 0, log, 2, "b");  // a did not notice
  CHECK(b->instance(first.episodes[0].instance_id));
  CHECK(b->instance(second.episodes[0].instance_id));

  auto zombie = busy_start(*a, 0, "zombie");
  CHECK_THROWS_WITH_AS(a->commit(zombie), doctest::Contains("another writer appended"), store_error);
  CHECK_FALSE(a->leads(0));
  CHECK_FALSE(a->instance(zombie.episodes[0].instance_id));  // nothing applied locally
  CHECK_THROWS_AS(a->commit(busy_start(*a, 0, "again")), store_error);  // stays refused
  CHECK(log.last_seq() == 4);

  // The old owner becomes a follower and converges on the new owner's state.
  b->commit(busy_start(*b, 0, "by-b"));
  catch_up(*a, 0, log);
  std::vector<std::string> ids{first.episodes[0].instance_id, second.episodes[0].instance_id,
                               zombie.episodes[0].instance_id};
  CHECK(view(*a, 0, ids) == view(*b, 0, ids));
  CHECK(a->applied(0) == log_position{5, 2});
}

TEST_CASE("replication: a node taking over in an epoch older than the log's is refused and appends nothing") {
  temp_dir a_dir, b_dir;
  memory_log log;
  auto a = open_replica(a_dir.hub());
  auto b = open_replica(b_dir.hub());
  take_over(*a, 0, log, 1, "a");
  a->commit(busy_start(*a, 0, "first"));
  take_over(*b, 0, log, 2, "b");
  auto by_b = busy_start(*b, 0, "by-b");
  b->commit(by_b);
  // a wakes from a stall and acts on the assignment it read before it: owner a in epoch 1.
  CHECK_THROWS_WITH_AS(take_over(*a, 0, log, 1, "a"), doctest::Contains("led in epoch 2 already"), store_error);
  CHECK_FALSE(a->leads(0));
  CHECK(log.last_seq() == 4);  // a's epoch start, its commit, b's epoch start, b's commit
  CHECK(a->applied(0) == log_position{4, 2});  // a caught up as a follower
  CHECK(a->instance(by_b.episodes[0].instance_id));
  b->commit(busy_start(*b, 0, "still-b"));  // the rightful owner was not fenced
  CHECK(b->leads(0));
  take_over(*a, 0, log, 3, "a");  // a later epoch is taken over as before
  CHECK(a->leads(0));
}

TEST_CASE("replication: a log that lost records this node applied is refused, naming both positions") {
  temp_dir a_dir, b_dir;
  memory_log log;
  auto a = open_replica(a_dir.hub());
  auto b = open_replica(b_dir.hub());
  take_over(*a, 0, log, 1, "a");
  for (int i = 0; i < 3; ++i) a->commit(busy_start(*a, 0, "kept-" + std::to_string(i)));
  catch_up(*b, 0, log);
  CHECK(records_behind(*b, 0, log) == 0);
  a->commit(busy_start(*a, 0, "one-more"));
  CHECK(records_behind(*b, 0, log) == 1);

  // The log's servers lost their copies and came back empty: it ends before what both applied.
  memory_log emptied;
  CHECK_THROWS_WITH_AS(records_behind(*b, 0, emptied),
                       doctest::Contains("ends at record 0 but this node applied records up to 4"), store_error);
  try {
    take_over(*a, 0, emptied, 2, "a");
    FAIL("took over a log that lost records");
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::log_lost_records);
  }
  // One record appended to it since (an owner that started over) is still a hole, not a fence.
  emptied.append("x", 0, "other");
  CHECK_THROWS_AS(take_over(*b, 0, emptied, 2, "b"), store_error);
  CHECK(b->applied(0).seq == 4);  // nothing of the emptied log was applied
}

TEST_CASE("replication: a batch larger than a record is split, applied whole, and dropped when cut short") {
  temp_dir a_dir, b_dir, c_dir;
  memory_log log(4096);
  auto a = open_replica(a_dir.hub());
  auto b = open_replica(b_dir.hub());
  take_over(*a, 0, log, 1, "a");
  auto big = busy_start(*a, 0, "big", 20'000);
  a->commit(big);
  CHECK(log.last_seq() > 4);  // epoch start + at least 5 parts
  catch_up(*b, 0, log);
  CHECK(b->instance(big.episodes[0].instance_id)->input == big.episodes[0].record.input);
  CHECK(b->applied(0) == a->applied(0));

  SUBCASE("the owner fails between parts: nobody applies the incomplete batch") {
    // The first of three parts is in the log, as a dying owner would have left it.
    const uint64_t before = log.last_seq();
    std::string part;
    codec::encode_batch_part(1, 0, 3, std::string(3000, '\0'), part);
    log.append(part, before, "dying");
    auto c = open_replica(c_dir.hub());
    catch_up(*c, 0, log);
    CHECK(c->read_from(0) == before + 2);  // the part is buffered, not applied
    CHECK(c->applied(0).seq == before);
    take_over(*c, 0, log, 2, "c");
    CHECK(c->applied(0) == log_position{before + 2, 2});
    catch_up(*b, 0, log);
    CHECK(b->applied(0) == c->applied(0));
    CHECK(view(*b, 0, {big.episodes[0].instance_id}) == view(*c, 0, {big.episodes[0].instance_id}));
  }
}

TEST_CASE("replication: an append whose acknowledgement was lost is found again by the next leader") {
  temp_dir a_dir;
  memory_log log;
  auto a = open_replica(a_dir.hub());
  take_over(*a, 0, log, 1, "a");
  auto batch = busy_start(*a, 0, "maybe");
  log.inject(memory_log::fault::lost_after_append);
  CHECK_THROWS_WITH_AS(a->commit(batch), doctest::Contains("stopped being led"), store_error);
  CHECK_FALSE(a->leads(0));
  CHECK_FALSE(a->instance(batch.episodes[0].instance_id));  // not applied: the outcome was unknown
  take_over(*a, 0, log, 2, "a");  // the same node leads again in a new epoch: it catches up first
  CHECK(a->instance(batch.episodes[0].instance_id));
  CHECK(a->commit(busy_start(*a, 0, "next")).outbox[0].seq == 2);
}

TEST_CASE("replication: the applied position survives a restart, and a restarted follower resumes after it") {
  temp_dir a_dir, b_dir;
  memory_log log;
  std::string id;
  {
    auto a = open_replica(a_dir.hub());
    take_over(*a, 1, log, 1, "a");
    auto batch = busy_start(*a, 1, "x");
    id = batch.episodes[0].instance_id;
    a->commit(batch);
    auto b = open_replica(b_dir.hub());
    catch_up(*b, 1, log);
  }
  auto b = open_replica(b_dir.hub());
  CHECK(b->applied(1) == log_position{2, 1});
  CHECK(b->applied(0) == log_position{});
  CHECK(catch_up(*b, 1, log) == 0);
  CHECK(b->instance(id));
  CHECK_FALSE(b->leads(1));  // a reopened replica leads nothing until told to

  SUBCASE("list answers for the given partitions only") {
    CHECK(b->list(instance_query{}, {1}).records.size() == 1);
    CHECK(b->list(instance_query{}, {0}).records.empty());
  }
}

TEST_CASE("replication: a corrupt log record is refused with its position, and nothing is applied") {
  temp_dir dir;
  memory_log log;
  log.append("not a record at all", 0, "junk-1");
  auto b = open_replica(dir.hub());
  CHECK_THROWS_WITH_AS(catch_up(*b, 0, log), doctest::Contains("record 1"), store_error);
  CHECK(b->applied(0) == log_position{});

  memory_log log2;
  std::string part;
  codec::encode_batch_part(1, 0, 1, std::string(64, 'z'), part);  // a whole "batch" that is not a WriteBatch
  log2.append(part, 0, "junk-2");
  CHECK_THROWS_WITH_AS(catch_up(*b, 1, log2), doctest::Contains("not a RocksDB write batch"), store_error);
  CHECK(b->applied(1) == log_position{});
}
