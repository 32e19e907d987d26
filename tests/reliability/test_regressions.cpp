// Regression tests for bugs the torture test and the fuzzers found, each on the function at fault.
#include "runtime/node_fixture.hpp"

#include <perdure/storage/store.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using perdure::testing_support::temp_dir;

namespace {

storage::episode_commit execution(const std::string& id, const std::string& execution_id) {
  storage::episode_commit ep;
  ep.instance_id = id;
  ep.new_execution = true;
  ep.appended.push_back(history_event{{}, events::execution_started{"Loop", id, execution_id, "0", std::nullopt}});
  ep.appended.push_back(history_event{{}, events::task_scheduled{0, "Work", "1"}});
  ep.record.instance_id = id;
  ep.record.execution_id = execution_id;
  ep.record.name = "Loop";
  ep.record.status = runtime_status::running;
  ep.scheduled_activities.push_back(storage::activity_task{id, execution_id, 0, "Work", "1", {}});
  return ep;
}

}  // namespace

// Torture seed 1287893905: an instance stuck forever after a kill -9. The episode that received
// the result of task 0 continued as new and scheduled the new execution's task 0; the commit put
// the new queue entry, then deleted "task 0 finished" — the same key. Without its queue entry the
// new task 0 was not dispatched again after the restart.
TEST_CASE("a continue-as-new episode keeps the queue entry of a task id its previous execution released") {
  temp_dir dir;
  auto store = storage::hub_store::open(dir.path(), storage::store_options{1});
  storage::commit_batch first;
  first.episodes.push_back(execution("loop", "e1"));
  store->commit(first);

  storage::commit_batch next;
  auto ep = execution("loop", "e2");
  ep.finished_activities.push_back(0);  // e1's task 0 answered in this episode
  next.episodes.push_back(ep);
  store->commit(next);

  auto pending = store->pending_activities(0);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].execution_id == "e2");
  CHECK(pending[0].task_id == 0);
}
