// The state machine's parts, one by one: de-duplication watermarks, the outbox, the instance
// cache and the timer schedule.
#include <partition/dedup.hpp>
#include <partition/instance_cache.hpp>
#include <partition/outbox.hpp>
#include <partition/timers.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::partition;
using namespace std::chrono_literals;

namespace {

storage::outbox_entry outgoing(uint64_t seq, uint32_t target) {
  storage::outbox_entry entry;
  entry.seq = seq;
  entry.target_partition = target;
  entry.msg.instance_id = "to-" + std::to_string(target);
  return entry;
}

std::unique_ptr<storage::hub_store> memory_hub() {
  storage::store_options options;
  options.partition_count = 1;
  options.in_memory = true;
  return storage::hub_store::open("parts-test", options);
}

}  // namespace

TEST_CASE("dedup: in order per source, re-sends recognized before and after their commit") {
  dedup_watermarks dedup;
  dedup.load({{7, 3}});
  CHECK(dedup.accept(7, 3, 0) == dedup_watermarks::verdict::already_durable);
  CHECK(dedup.accept(7, 5, 4) == dedup_watermarks::verdict::out_of_order);  // 4 is missing
  CHECK(dedup.accept(7, 4, 3) == dedup_watermarks::verdict::apply);
  CHECK(dedup.accept(7, 4, 3) == dedup_watermarks::verdict::already_queued);
  CHECK(dedup.accept(7, 5, 4) == dedup_watermarks::verdict::apply);
  CHECK(dedup.accept(2, 1, 0) == dedup_watermarks::verdict::apply);  // sources are independent
  auto marks = dedup.marks_to_commit();
  std::sort(marks.begin(), marks.end());
  CHECK(marks == std::vector<watermark>{{2, 1}, {7, 5}});
  auto acks = dedup.committed(marks);
  CHECK(acks == std::vector<watermark>{{7, 4}, {7, 5}, {2, 1}});  // acknowledged only now, each once
  CHECK(dedup.marks_to_commit().empty());
  CHECK(dedup.accept(7, 5, 4) == dedup_watermarks::verdict::already_durable);
  CHECK(dedup.committed({}).empty());
}

TEST_CASE("outbox: each message names its target's previous unacknowledged one") {
  outbox_tracker outbox;
  CHECK(outbox.remember(outgoing(1, 0)).msg.source_prev_seq == 0);
  CHECK(outbox.remember(outgoing(2, 1)).msg.source_prev_seq == 0);  // another target
  CHECK(outbox.remember(outgoing(3, 0)).msg.source_prev_seq == 1);
  outbox.acknowledged(1);
  outbox.acknowledged(1);  // twice: once delivered
  auto again = outbox.unacknowledged();
  REQUIRE(again.size() == 2);
  CHECK(again[0].target_partition == 1);
  CHECK(again[1].msg.source_prev_seq == 0);  // 1 is acknowledged: 3 follows nothing now
  CHECK(outbox.take_delivered() == std::vector<uint64_t>{1});
  CHECK_FALSE(outbox.has_delivered());
}

TEST_CASE("instance cache: evicts idle instances least recently used first, never a busy one") {
  instance_cache cache(2);
  auto& a = cache.touch("a");
  cache.touch("b");
  cache.touch("c");
  a.waiters.push_back(1);  // a is busy although least recently used
  cache.evict_idle(0);
  CHECK(cache.find("a"));
  CHECK_FALSE(cache.find("b"));
  CHECK(cache.find("c"));
  cache.enqueue(cache.touch("d"), message{"d", {}, {}});
  auto dirty = cache.take_dirty();
  REQUIRE(dirty.size() == 1);
  CHECK(dirty[0]->slot.instance_id == "d");
  CHECK_FALSE(cache.has_dirty());
  cache.forget("a");  // busy: emptied, kept
  CHECK(cache.find("a"));
  CHECK_FALSE(cache.find("a")->slot.record_loaded);
  a.waiters.clear();
  cache.forget("a");
  CHECK_FALSE(cache.find("a"));
}

TEST_CASE("timer schedule: due timers once, wake-ups only when earlier than the one asked for") {
  auto store = memory_hub();
  const time_point t0 = time_point(1000s);
  storage::commit_batch batch;
  storage::episode_commit episode;
  episode.instance_id = "i";
  episode.new_execution = true;
  episode.record.instance_id = "i";
  episode.record.execution_id = "e";
  episode.record.name = "N";
  episode.appended.push_back(history_event{t0, events::execution_started{"N", "i", "e", {}, {}}});
  episode.new_timers = {{t0 + 5s, "i", "e", 0}, {t0 + 9s, "i", "e", 1}};
  batch.episodes.push_back(episode);
  store->commit(batch);

  timer_schedule timers(0);
  CHECK(timers.wake_up(*store, t0, std::nullopt) == t0 + 5s);
  CHECK_FALSE(timers.wake_up(*store, t0, std::nullopt));  // already asked for
  CHECK_FALSE(timers.wake_up(*store, t0, t0 + 7s));       // an activity's deadline after the timer
  CHECK(timers.wake_up(*store, t0, t0 + 2s) == t0 + 2s);  // one before it
  bool more = true;
  auto due = timers.take_due(*store, t0 + 6s, more);
  CHECK_FALSE(more);
  REQUIRE(due.size() == 1);
  CHECK(due[0].timer_id == 0);
  CHECK(timers.take_due(*store, t0 + 6s, more).empty());  // queued: not taken twice
  // Its removal is not committed yet: the earliest is the queued one, so look again shortly.
  CHECK(timers.wake_up(*store, t0 + 6s, std::nullopt) == t0 + 6s + 10ms);
  timers.removed(due[0]);
  CHECK(timers.wake_up_at(t0 + 1s) == t0 + 1s);  // earlier than the one asked for
}
