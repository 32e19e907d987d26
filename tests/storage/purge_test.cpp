#include "query_model.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

TEST_CASE("purge: one instance: only terminal ones, everything of it goes") {
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  auto rec = make_record("done-1", "D", runtime_status::running, at_ms(1));
  // 80 episodes: more history values than purge deletes one by one (it writes a range tombstone).
  auto history = start_batch(*hub, rec, {every_event_kind()[0]});
  for (int i = 1; i < 80; ++i) {
    history.episodes.push_back(history.episodes[0]);
    history.episodes.back().new_execution = false;
    history.episodes.back().appended = {every_event_kind()[8]};
  }
  hub->commit(history);
  CHECK(hub->history("done-1").size() == 80);
  try {
    hub->purge("done-1");
    FAIL("purge of a running instance succeeded");
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::not_terminal);
    CHECK(std::string(e.what()).find("'done-1' is Running") != std::string::npos);
  }
  CHECK(hub->instance("done-1"));
  rec.status = runtime_status::completed;
  auto b = start_batch(*hub, rec, {});
  b.episodes[0].new_execution = false;
  hub->commit(b);
  CHECK(hub->purge("done-1"));
  CHECK(!hub->instance("done-1"));
  CHECK(hub->history("done-1").empty());
  CHECK(hub->list({}).records.empty());
  CHECK(!hub->purge("done-1"));
  CHECK(!hub->purge("never-existed"));
  // The id can be used again from scratch.
  hub->commit(start_batch(*hub, rec, {every_event_kind()[0]}));
  CHECK(hub->history("done-1").size() == 1);
}

TEST_CASE("purge: queries stay consistent after single purges") {
  temp_dir dir;
  auto hub = open_hub(dir.hub(), 8);
  model m(*hub, 3'000, 7);
  size_t done = 0;
  for (auto& r : m.expected(with_statuses({runtime_status::completed, runtime_status::failed}))) {
    if (done++ % 2) continue;
    CHECK(hub->purge(r.instance_id));
    CHECK(!hub->instance(r.instance_id));
    CHECK(hub->history(r.instance_id).empty());
    m.erase(r.instance_id);
  }
  REQUIRE(done > 0);
  check_all_queries(*hub, m, 3);
}
