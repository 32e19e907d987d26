#include "keys.hpp"
#include "raw_values.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

storage::errc code_of(auto&& fn) {
  try {
    fn();
  } catch (const store_error& e) {
    MESSAGE(std::string(e.what()));
    return e.code();
  }
  FAIL("no store_error thrown");
  return storage::errc{};
}

std::string message_of(auto&& fn) {
  try {
    fn();
  } catch (const store_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("errors: reopening with another partition count names both counts") {
  temp_dir dir;
  open_hub(dir.hub(), 8);
  auto msg = message_of([&] { open_hub(dir.hub(), 4); });
  CHECK(msg.find("created with 8 partitions") != std::string::npos);
  CHECK(msg.find("partition_count 4") != std::string::npos);
  CHECK(code_of([&] { open_hub(dir.hub(), 4); }) == storage::errc::partition_count_mismatch);
  CHECK(open_hub(dir.hub(), 8)->partition_count() == 8);
  CHECK(open_hub(dir.hub(), 0)->partition_count() == 8);
  temp_dir fresh;
  CHECK(code_of([&] { open_hub(fresh.hub(), 0); }) == storage::errc::invalid_argument);
  CHECK(!std::filesystem::exists(fresh.hub() / "CURRENT"));
}

TEST_CASE("errors: garbage under a history key and a record key is corrupt_record naming the key") {
  temp_dir dir;
  std::string id;
  uint32_t p = 0;
  {
    auto hub = open_hub(dir.hub());
    id = "victim";
    p = hub->partition_of(id);
    hub->commit(start_batch(*hub, make_record(id, "V", runtime_status::running, at_ms(1)), every_event_kind()));
  }
  std::string key;
  keys::history_key(key, p, id, 0);  // the chunk the start episode wrote
  put_raw(dir.hub(), "history", key, std::string(24, '\x7f'));
  keys::instance_key(key, p, id);
  put_raw(dir.hub(), "instances", key, "not capnp at all");
  auto hub = open_hub(dir.hub());
  auto h = message_of([&] { hub->history(id); });
  CHECK(h.find("corrupt history chunk") != std::string::npos);
  CHECK(h.find("victim\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'") != std::string::npos);
  CHECK(code_of([&] { hub->history(id); }) == storage::errc::corrupt_record);
  auto r = message_of([&] { hub->instance(id); });
  CHECK(r.find("corrupt instance record") != std::string::npos);
  CHECK(r.find("victim'") != std::string::npos);
  CHECK(code_of([&] { hub->list({}); }) == storage::errc::corrupt_record);
  // A commit reads the previous record too: it must refuse rather than guess.
  CHECK(code_of([&] {
          hub->commit(start_batch(*hub, make_record(id, "V", runtime_status::running, at_ms(1)), {}));
        }) == storage::errc::corrupt_record);
}

TEST_CASE("errors: an oversized payload is refused and nothing of the batch is written") {
  temp_dir dir;
  auto hub = open_hub(dir.hub(), 4, 1000);
  auto ok = make_record(id_in(*hub, 0, "fine"), "F", runtime_status::running, at_ms(1));
  auto big = make_record(id_in(*hub, 0, "big"), "B", runtime_status::running, at_ms(2));
  auto b = start_batch(*hub, ok, every_event_kind());
  b.episodes[0].new_timers = {{at_ms(9), ok.instance_id, "e", 1}};
  auto second = start_batch(*hub, big, {every_event_kind()[9]}).episodes[0];
  std::get<events::task_scheduled>(second.appended[0].payload).input = std::string(1001, 'x');
  b.episodes.push_back(second);
  auto msg = message_of([&] { hub->commit(b); });
  CHECK(msg.find("episode 1") != std::string::npos);
  CHECK(msg.find("TaskScheduled") != std::string::npos);
  CHECK(msg.find("1001 bytes") != std::string::npos);
  CHECK(msg.find("(1000)") != std::string::npos);
  CHECK(code_of([&] { hub->commit(b); }) == storage::errc::payload_too_large);
  CHECK(!hub->instance(ok.instance_id));
  CHECK(hub->history(ok.instance_id).empty());
  CHECK(hub->timers(0, time_point::max(), 10).empty());

  b.episodes.pop_back();
  b.episodes[0].record.custom_status = std::string(2000, 'c');
  CHECK(message_of([&] { hub->commit(b); }).find("custom status is 2000 bytes") != std::string::npos);
  b.episodes[0].record.custom_status.clear();
  b.episodes[0].outbox.push_back(
      {0, hub->partition_of("receiver"), message{"receiver", "", {at_ms(1), events::event_raised{"E", std::string(1001, 'o')}}, -1, 0}});
  CHECK(message_of([&] { hub->commit(b); }).find("outbox message 0") != std::string::npos);
  CHECK(code_of([&] { hub->commit(b); }) == storage::errc::payload_too_large);
  CHECK(!hub->instance(ok.instance_id));
}

TEST_CASE("errors: invalid arguments are rejected before writing") {
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  auto rec = make_record("x", "X", runtime_status::running, at_ms(1));
  auto b = start_batch(*hub, rec, {});
  b.partition = (b.partition + 1) % 4;
  CHECK(message_of([&] { hub->commit(b); }).find("belongs to partition") != std::string::npos);
  b.partition = 4;
  CHECK(code_of([&] { hub->commit(b); }) == storage::errc::invalid_argument);
  auto empty = start_batch(*hub, make_record("", "X", runtime_status::running, at_ms(1)), {});
  CHECK(code_of([&] { hub->commit(empty); }) == storage::errc::invalid_argument);
  auto mismatch = start_batch(*hub, rec, {});
  mismatch.episodes[0].record.instance_id = "y";
  CHECK(code_of([&] { hub->commit(mismatch); }) == storage::errc::invalid_argument);
  auto wrong_target = start_batch(*hub, rec, {});
  wrong_target.episodes[0].outbox.push_back({0, 4, message{"z", "", every_event_kind()[0], -1, 0}});
  CHECK(code_of([&] { hub->commit(wrong_target); }) == storage::errc::invalid_argument);
  CHECK(!hub->instance("x"));
  CHECK(code_of([&] { hub->pending_activities(4); }) == storage::errc::invalid_argument);
  CHECK(code_of([&] { hub->timers(9, time_point::max(), 1); }) == storage::errc::invalid_argument);
  CHECK(code_of([&] { hub->outbox(4); }) == storage::errc::invalid_argument);
}

TEST_CASE("errors: malformed continuation tokens are invalid_argument") {
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  for (const char* token : {"x", "zz", "0", "01", "02000000000000000000", "ABCDEF", "01ff"}) {
    CAPTURE(token);
    instance_query q;
    q.continuation_token = token;
    CHECK(code_of([&] { hub->list(q); }) == storage::errc::invalid_argument);
  }
  instance_query zero;
  zero.page_size = 0;
  CHECK(code_of([&] { hub->list(zero); }) == storage::errc::invalid_argument);
}

TEST_CASE("errors: RocksDB failures are io_error with the status text and directory") {
  temp_dir dir;
  auto hub = open_hub(dir.hub());
  auto msg = message_of([&] { open_hub(dir.hub()); });  // the LOCK file is held by the first
  CHECK(msg.find(dir.hub().string()) != std::string::npos);
  CHECK(msg.find("lock") != std::string::npos);
  CHECK(code_of([&] { open_hub(dir.hub()); }) == storage::errc::io_error);
}
