#include "test_util.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

commit_batch append_batch(const hub_store& hub, instance_record record, std::vector<history_event> events) {
  auto b = start_batch(hub, std::move(record), std::move(events));
  b.episodes[0].new_execution = false;
  return b;
}

}  // namespace

TEST_CASE("store: every event kind round-trips through a commit, appends continue the history") {
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  auto events = every_event_kind();
  auto rec = make_record("order-1", "Fulfill", runtime_status::running, at_ms(1000));
  rec.parent = parent_instance{"P", "p", "e", 1};
  hub->commit(start_batch(*hub, rec, {events.begin(), events.begin() + 5}));
  hub->commit(append_batch(*hub, rec, {events.begin() + 5, events.end()}));
  CHECK(hub->history("order-1") == events);
  CHECK(hub->instance("order-1") == rec);
  CHECK(hub->history("nobody").empty());
  CHECK(!hub->instance("nobody"));
}

TEST_CASE("store: a new execution replaces the history, history length survives reopen") {
  temp_dir dir;
  auto events = every_event_kind();
  auto rec = make_record("loop", "Loop", runtime_status::running, at_ms(5));
  perdure::history expected = events;
  {
    auto hub = open_hub(dir.hub());
    hub->commit(start_batch(*hub, rec, events));  // 19 events in one episode: one history value
    // 100 more episodes, one batch: a long history (101 values), deleted by range below.
    commit_batch many;
    many.partition = hub->partition_of("loop");
    for (size_t i = 0; i < 100; ++i) {
      many.episodes.push_back(append_batch(*hub, rec, {events[i % events.size()]}).episodes[0]);
      expected.push_back(events[i % events.size()]);
    }
    hub->commit(many);
    CHECK(hub->history("loop") == expected);
  }
  auto hub = open_hub(dir.hub(), 0);  // 0: take the count from disk
  CHECK(hub->partition_count() == 4);
  hub->commit(append_batch(*hub, rec, {events[9]}));
  expected.push_back(events[9]);
  CHECK(hub->history("loop") == expected);
  hub->commit(start_batch(*hub, rec, {events[0], events[8]}));
  CHECK(hub->history("loop") == std::vector<history_event>{events[0], events[8]});
  hub->commit(append_batch(*hub, rec, {events[2]}));
  hub->commit(append_batch(*hub, rec, {events[3], events[4]}));
  CHECK(hub->history("loop") == std::vector<history_event>{events[0], events[8], events[2], events[3], events[4]});
  hub->commit(start_batch(*hub, rec, {events[1]}));  // short history (3 values): point deletes
  CHECK(hub->history("loop") == std::vector<history_event>{events[1]});
  hub->commit(append_batch(*hub, rec, {}));  // an episode without events adds no history value
  hub->commit(append_batch(*hub, rec, {events[5]}));
  CHECK(hub->history("loop") == std::vector<history_event>{events[1], events[5]});
}

TEST_CASE("store: the same instance twice in one batch sees its own earlier episode") {
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  auto events = every_event_kind();
  auto rec = make_record("twice", "T", runtime_status::pending, at_ms(5));
  auto b = start_batch(*hub, rec, {events[0]});
  auto second = b.episodes[0];
  second.new_execution = false;
  second.appended = {events[8], events[9]};
  second.record.status = runtime_status::running;
  b.episodes.push_back(second);
  hub->commit(b);
  CHECK(hub->history("twice") == std::vector<history_event>{events[0], events[8], events[9]});
  CHECK(hub->instance("twice")->status == runtime_status::running);
  auto page = hub->list(with_statuses({runtime_status::pending}));
  CHECK(page.records.empty());  // the index entry of the first episode's status was replaced
  CHECK(hub->list(with_statuses({runtime_status::running})).records.size() == 1);
}

TEST_CASE("store: outbox seqs are assigned in order and never reused across reopen") {
  temp_dir dir;
  auto events = every_event_kind();
  uint64_t last_outbox = 0;
  for (int round = 0; round < 3; ++round) {
    auto hub = open_hub(dir.hub());
    auto rec = make_record(id_in(*hub, 1, "sender"), "S", runtime_status::running, at_ms(1));
    auto b = start_batch(*hub, rec, {events[0]});
    for (int i = 0; i < 3; ++i) {
      std::string target = "receiver-" + std::to_string(i);
      b.episodes[0].outbox.push_back({0, hub->partition_of(target), message{target, "", events[17], -1, 0}});
    }
    auto result = hub->commit(b);
    REQUIRE(result.outbox.size() == 3);
    for (const auto& o : result.outbox) {
      CHECK(o.seq > last_outbox);
      last_outbox = o.seq;
      CHECK(o.msg.source_partition == 1);
      CHECK(o.msg.source_seq == o.seq);
    }
    CHECK(hub->outbox(1) == result.outbox);
    commit_batch ack;  // deliver everything so nothing on disk could hint at the old seqs
    ack.partition = 1;
    for (const auto& o : result.outbox) ack.delivered_outbox.push_back(o.seq);
    rec.status = runtime_status::completed;
    ack.episodes.push_back(update_episode(rec));
    hub->commit(ack);
    CHECK(hub->outbox(1).empty());
  }
  CHECK(last_outbox == 9);
}

TEST_CASE("store: commits without sync are readable too") {
  temp_dir dir;
  store_options o;
  o.partition_count = 2;
  o.sync = false;
  auto hub = hub_store::open(dir.hub(), o);
  auto rec = make_record("fast", "F", runtime_status::running, at_ms(3));
  hub->commit(start_batch(*hub, rec, every_event_kind()));
  CHECK(hub->history("fast") == every_event_kind());
}

TEST_CASE("store: long histories and activity queues replaced again and again in one memtable") {
  // Range tombstones (history above 64 chunks, an execution's activities) and the memtable insert
  // hints of the same instance must not mix (see instance_prefix in rocksdb_store.cpp).
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  auto events = every_event_kind();
  auto rec = make_record("again", "A", runtime_status::running, at_ms(1));
  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    auto b = start_batch(*hub, rec, {events[0]});
    b.episodes[0].scheduled_activities = {{rec.instance_id, rec.execution_id, 1, "Act", "in", at_ms(2)}};
    for (int i = 0; i < 70; ++i) {
      b.episodes.push_back(append_batch(*hub, rec, {events[8]}).episodes[0]);
      b.episodes.back().scheduled_activities = {{rec.instance_id, rec.execution_id, i + 2, "Act", "in", at_ms(2)}};
    }
    hub->commit(b);
    CHECK(hub->history("again").size() == 71);
    CHECK(hub->pending_activities(b.partition).size() == 71);
  }
}
