// Episodes too large for one history value (issue 12, item 5): a fan-out of 1,000,000 activities
// wrote one value the reader then refused ("Exceeded message traversal limit"), so the instance
// could not be replayed after a restart.
#include "codec.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

constexpr int32_t fan_out = 1'000'000;

/// What a fan-out episode appends: the start, then one TaskScheduled per activity.
std::vector<history_event> fan_out_events(int32_t tasks) {
  std::vector<history_event> events;
  events.reserve(static_cast<size_t>(tasks) + 1);
  events.push_back({at_ms(1), events::execution_started{"FanOut", "fan", "exec-fan", "1000000", std::nullopt}});
  for (int32_t i = 0; i < tasks; ++i)
    events.push_back({at_ms(2), events::task_scheduled{i, "Work", std::to_string(i)}});
  return events;
}

std::vector<activity_task> fan_out_activities(int32_t tasks) {
  std::vector<activity_task> out;
  out.reserve(static_cast<size_t>(tasks));
  for (int32_t i = 0; i < tasks; ++i) out.push_back({"fan", "exec-fan", i, "Work", std::to_string(i), at_ms(2)});
  return out;
}

}  // namespace

TEST_CASE("store: a 1,000,000-event episode is written, reopened and read back with its activity queue") {
  temp_dir dir;
  const auto record = make_record("fan", "FanOut", runtime_status::running, at_ms(1));
  const auto events = fan_out_events(fan_out);
  uint32_t partition = 0;
  {
    auto hub = open_hub(dir.hub());
    partition = hub->partition_of("fan");
    auto batch = start_batch(*hub, record, events);
    batch.episodes[0].scheduled_activities = fan_out_activities(fan_out);
    hub->commit(batch);
    CHECK(hub->history("fan") == events);
  }
  auto hub = open_hub(dir.hub());  // what a restarted node reads: the history and the recovery scan
  const auto read_back = hub->history("fan");
  REQUIRE(read_back.size() == events.size());
  CHECK(read_back == events);
  CHECK(hub->pending_activities(partition).size() == static_cast<size_t>(fan_out));

  // Later episodes continue after the split episode, and a new execution replaces all of it.
  auto more = start_batch(*hub, record, {{at_ms(3), events::task_completed{0, "0"}}});
  more.episodes[0].new_execution = false;
  more.episodes[0].finished_activities = {0};
  hub->commit(more);
  auto history = hub->history("fan");
  REQUIRE(history.size() == events.size() + 1);
  CHECK(history.back() == history_event{at_ms(3), events::task_completed{0, "0"}});
  hub->commit(start_batch(*hub, record, {events[0]}));
  CHECK(hub->history("fan") == std::vector<history_event>{events[0]});
  CHECK(hub->pending_activities(partition).empty());
}

TEST_CASE("codec: an episode larger than a chunk is split into consecutive chunks that read back in order") {
  const auto events = fan_out_events(5'000);
  std::string whole;
  codec::encode_history_chunk(events, whole);
  const size_t limit = whole.size() / 10;
  std::vector<std::string> chunks;
  std::string scratch;
  codec::encode_history_chunks(events, limit, [&](const std::string& chunk) { chunks.push_back(chunk); }, scratch);
  CHECK(chunks.size() >= 10);
  perdure::history read_back;
  for (const auto& chunk : chunks) {
    CHECK(chunk.size() <= limit);
    codec::decode_history_chunk(chunk, {"history", "k"}, read_back);
  }
  CHECK(read_back == events);

  SUBCASE("an episode that fits stays one chunk, the bytes of encode_history_chunk") {
    chunks.clear();
    codec::encode_history_chunks(events, whole.size(), [&](const std::string& chunk) { chunks.push_back(chunk); },
                                 scratch);
    REQUIRE(chunks.size() == 1);
    CHECK(chunks[0] == whole);
  }
  SUBCASE("an event larger than the limit is a chunk of its own") {
    const std::vector<history_event> big = {events[1], {at_ms(9), events::task_completed{1, std::string(4096, 'x')}},
                                            events[2]};
    chunks.clear();
    codec::encode_history_chunks(big, 1024, [&](const std::string& chunk) { chunks.push_back(chunk); }, scratch);
    CHECK(chunks.size() == 3);
    perdure::history all;
    for (const auto& chunk : chunks) codec::decode_history_chunk(chunk, {"history", "k"}, all);
    CHECK(all == big);
  }
}
