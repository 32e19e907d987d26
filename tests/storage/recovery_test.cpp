#include "test_util.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

TEST_CASE("recovery: activity queue, timers, dedup marks survive reopen and follow commits") {
  temp_dir dir;
  std::string a, b;
  {
    auto hub = open_hub(dir.hub());
    a = id_in(*hub, 2, "a");
    b = id_in(*hub, 2, "b");
    auto ev = every_event_kind();
    auto batch = start_batch(*hub, make_record(a, "A", runtime_status::running, at_ms(1)), {ev[0]});
    batch.episodes.push_back(start_batch(*hub, make_record(b, "B", runtime_status::running, at_ms(2)), {ev[0]}).episodes[0]);
    batch.episodes[0].scheduled_activities = {{a, "ea", 1, "Charge", "{}", at_ms(10)}, {a, "ea", -2, "Ship", "[]", at_ms(11)}};
    batch.episodes[0].new_timers = {{at_ms(500), a, "ea", 1}, {at_ms(100), a, "ea", 2}};
    batch.episodes[1].new_timers = {{at_ms(300), b, "eb", 1}, {at_ms(-50), b, "eb", 2}};
    batch.dedup_watermarks = {{0, 17}, {3, 4}};
    hub->commit(batch);
  }
  auto hub = open_hub(dir.hub());
  auto acts = hub->pending_activities(2);
  REQUIRE(acts.size() == 2);
  CHECK(acts[0].task_id == -2);  // ordered by (instance, task id)
  CHECK(acts[1] == activity_task{a, "ea", 1, "Charge", "{}", at_ms(10)});
  CHECK(hub->pending_activities(1).empty());

  auto due = hub->timers(2, at_ms(300), 10);
  REQUIRE(due.size() == 3);
  CHECK(due[0] == timer_entry{at_ms(-50), b, "eb", 2});
  CHECK(due[1].fire_at == at_ms(100));
  CHECK(due[2].fire_at == at_ms(300));  // up_to is inclusive
  CHECK(hub->timers(2, at_ms(300), 2).size() == 2);
  CHECK(hub->timers(2, time_point::max(), 100).size() == 4);
  CHECK(hub->timers(2, time_point::min(), 100).empty());
  CHECK(hub->next_timer(2) == at_ms(-50));
  CHECK(!hub->next_timer(0));
  CHECK(hub->dedup_watermarks(2) == std::vector<std::pair<uint32_t, uint64_t>>{{0, 17}, {3, 4}});
  CHECK(hub->dedup_watermarks(1).empty());

  auto rec = *hub->instance(a);
  commit_batch next;
  next.partition = 2;
  next.episodes.push_back(update_episode(rec));
  next.episodes[0].finished_activities = {1};
  next.episodes[0].fired_timers = {{at_ms(100), a, "ea", 2}};
  next.dedup_watermarks = {{0, 20}};
  hub->commit(next);
  CHECK(hub->pending_activities(2).size() == 1);
  CHECK(hub->timers(2, time_point::max(), 100).size() == 3);
  CHECK(hub->dedup_watermarks(2) == std::vector<std::pair<uint32_t, uint64_t>>{{0, 20}, {3, 4}});
}

TEST_CASE("recovery: an activity marked as awaiting completion keeps the mark, and an episode of the same batch that "
          "answers it removes it") {
  temp_dir dir;
  std::string a;
  const activity_task charge{"", "ea", 1, "Charge", "{}", at_ms(10)};
  {
    auto hub = open_hub(dir.hub());
    a = id_in(*hub, 2, "a");
    auto batch = start_batch(*hub, make_record(a, "A", runtime_status::running, at_ms(1)), {every_event_kind()[0]});
    auto task = charge;
    task.instance_id = a;
    auto ship = task;
    ship.task_id = 2;
    batch.episodes[0].scheduled_activities = {task, ship};
    hub->commit(batch);
    CHECK_FALSE(hub->activity(a, 1)->awaiting_completion);
    CHECK_FALSE(hub->activity(a, 3));

    commit_batch mark;
    mark.partition = 2;
    task.awaiting_completion = true;
    ship.awaiting_completion = true;
    mark.awaiting_activities = {task, ship};
    mark.episodes.push_back(start_batch(*hub, make_record(a, "A", runtime_status::running, at_ms(1)), {}).episodes[0]);
    mark.episodes[0].new_execution = false;
    mark.episodes[0].finished_activities = {2};  // ship's answer, in the same batch as its mark
    hub->commit(mark);
  }
  auto hub = open_hub(dir.hub());
  auto acts = hub->pending_activities(2);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].task_id == 1);
  CHECK(acts[0].awaiting_completion);
  CHECK(hub->activity(a, 1) == acts[0]);
  CHECK_FALSE(hub->activity(a, 2));
}
