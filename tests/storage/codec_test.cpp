#include "codec.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {
const codec::key_ref here{"history", std::string_view("\x00\x00\x00\x01k\xff", 6)};
}

TEST_CASE("codec: every history event kind round-trips") {
  std::string bytes;
  for (const auto& e : every_event_kind()) {
    CAPTURE(event_kind_name(e.payload));
    codec::encode_event(e, bytes);
    CHECK(bytes.size() % 8 == 0);
    CHECK(codec::decode_event(bytes, here) == e);
  }
}

TEST_CASE("codec: a history chunk holds an episode's events in order and appends them when read") {
  auto events = every_event_kind();
  std::string bytes;
  codec::encode_history_chunk(events, bytes);
  CHECK(bytes.size() % 8 == 0);
  perdure::history out{events[8]};
  codec::decode_history_chunk(bytes, here, out);
  REQUIRE(out.size() == events.size() + 1);
  CHECK(std::equal(events.begin(), events.end(), out.begin() + 1));
  // A chunk larger than the reused first segment continues in heap segments.
  std::vector<history_event> large(3, {at_ms(1), events::task_completed{1, std::string(20'000, 'x')}});
  codec::encode_history_chunk(large, bytes);
  out.clear();
  codec::decode_history_chunk(bytes, here, out);
  CHECK(out == large);
  // commit() never writes an empty chunk, so one is damage.
  codec::encode_history_chunk({}, bytes);
  try {
    codec::decode_history_chunk(bytes, here, out);
    FAIL("an empty chunk was accepted");
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::corrupt_record);
    CHECK(std::string(e.what()).find("corrupt history chunk") != std::string::npos);
  }
}

TEST_CASE("codec: a history chunk that claims more events than its bytes can hold is corrupt") {
  // From fuzz_history_decoder: a list pointer to ~1.5 million elements of no size, which read as
  // that many empty events (15 s, 1 GB) before the size check.
  const unsigned char damaged[] = {0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x01, 0x00, 0xc1, 0xa4, 0x19, 0x02, 0x00, 0xfe, 0xbd, 0x00};
  perdure::history out;
  try {
    codec::decode_history_chunk(std::string_view(reinterpret_cast<const char*>(damaged), sizeof damaged), here, out);
    FAIL("a chunk of " << out.size() << " events was read from 24 bytes");
  } catch (const store_error& e) {
    CHECK(e.code() == storage::errc::corrupt_record);
    CHECK(std::string(e.what()).find("claims") != std::string::npos);
  }
  CHECK(out.empty());
}

TEST_CASE("codec: messages of every kind, records and queue entries round-trip") {
  std::string bytes;
  for (const auto& e : every_event_kind()) {
    message m{"inst-9", "exec-9", e, 3, 77};
    codec::encode_message(m, bytes);
    CHECK(codec::decode_message(bytes, here) == m);
    outbox_entry o{12, 5, m};
    codec::encode_outbox(o, bytes);
    CHECK(codec::decode_outbox(bytes, here) == o);
  }
  for (runtime_status s : all_runtime_statuses) {
    auto r = make_record("id-1", "Orch", s, at_ms(-1000));
    r.output = R"({"r":1})";
    r.custom_status = "step 2";
    if (s == runtime_status::failed) r.failure = sample_failure();
    if (s == runtime_status::running) r.parent = parent_instance{"P", "p-1", "e", 4};
    if (s == runtime_status::suspended) {
      r.version = 3;
      r.failure = failure_details{std::string(version_unavailable_error_type), "no v3 here", {}, false};
    }
    codec::encode_row(r, 42, bytes);
    auto row = codec::decode_row(bytes, here);
    CHECK(row.record == r);
    CHECK(row.history_chunks == 42);
    auto summary = codec::decode_row_summary(bytes, here);
    CHECK(summary.status == s);
    CHECK(summary.created_at == r.created_at);
    CHECK(summary.index == index_value{"Orch", r.version, s == runtime_status::suspended});
    CHECK(summary.history_chunks == 42);
  }
  activity_task a{"inst", "exec", 4, "Charge", R"({"x":1})", at_ms(99)};
  codec::encode_activity(a, bytes);
  CHECK(codec::decode_activity(bytes, here) == a);
  timer_entry t{at_ms(1234), "inst", "exec", -3};
  codec::encode_timer(t, bytes);
  CHECK(codec::decode_timer(bytes, here) == t);
  codec::encode_hub_meta({1, 16}, bytes);
  auto meta = codec::decode_hub_meta(bytes, here);
  CHECK(meta.partition_count == 16);
  CHECK(meta.format_version == 1);
}

TEST_CASE("codec: an activity's timeouts and heartbeat details round-trip, and older encodings read as no limits") {
  std::string bytes;
  const activity_timeouts timeouts{at_ms(20), at_ms(30), std::chrono::seconds(5)};
  const history_event scheduled{at_ms(5), events::task_scheduled{7, "Charge", "1", 2, 3, timeouts, "{\"step\":4}"}};
  codec::encode_event(scheduled, bytes);
  CHECK(codec::decode_event(bytes, here) == scheduled);
  const history_event failed{
      at_ms(6), events::task_failed{7, failure_details{"TimeoutError", "timed out", "Heartbeat", false}, "{\"step\":5}"}};
  codec::encode_event(failed, bytes);
  CHECK(codec::decode_event(bytes, here) == failed);
  activity_task task{"i", "e", 7, "Charge", "1", at_ms(9), 2, 3, timeouts, "{\"step\":4}"};
  codec::encode_activity(task, bytes);
  CHECK(codec::decode_activity(bytes, here) == task);
  task.awaiting_completion = true;
  codec::encode_activity(task, bytes);
  CHECK(codec::decode_activity(bytes, here) == task);
  // The encodings written before these fields are in the test below: they compare equal to values
  // whose timeouts are all zero and whose details are empty.
}

TEST_CASE("codec: an activity's attempt and first task id round-trip, and old encodings read as a first attempt") {
  std::string bytes;
  const history_event retry{at_ms(5), events::task_scheduled{7, "Charge", "1", 3, 2}};
  codec::encode_event(retry, bytes);
  CHECK(codec::decode_event(bytes, here) == retry);
  const activity_task task{"i", "e", 7, "Charge", "1", at_ms(9), 3, 2};
  codec::encode_activity(task, bytes);
  CHECK(codec::decode_activity(bytes, here) == task);

  // Written by the codec before TaskScheduled and ActivityTask had these fields:
  // task_scheduled{7, "Charge", "1"} at 5 ms and activity_task{"i", "e", 7, "Charge", "1", 9 ms}.
  const unsigned char old_event[] = {
      0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00,
      0x40, 0x4b, 0x4c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x05, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00,
      0x43, 0x68, 0x61, 0x72, 0x67, 0x65, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const unsigned char old_task[] = {
      0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00,
      0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x54, 0x89, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x0d, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00,
      0x0d, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00,
      0x69, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x43, 0x68, 0x61, 0x72, 0x67, 0x65, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  auto view = [](const auto& b) { return std::string_view(reinterpret_cast<const char*>(b), sizeof b); };
  auto event = codec::decode_event(view(old_event), here);
  CHECK(event == history_event{at_ms(5), events::task_scheduled{7, "Charge", "1"}});
  const auto& scheduled = std::get<events::task_scheduled>(event.payload);
  CHECK(scheduled.attempt == 1);
  CHECK(scheduled.first_task_id == -1);
  auto old = codec::decode_activity(view(old_task), here);
  CHECK(old == activity_task{"i", "e", 7, "Charge", "1", at_ms(9)});
  CHECK(old.attempt == 1);
  CHECK(old.first_task_id == -1);
}

TEST_CASE("codec: garbage bytes raise corrupt_record naming the key, never crash") {
  std::string valid;
  codec::encode_history_chunk(every_event_kind(), valid);
  std::mt19937 rng(42);
  std::vector<std::string> garbage = {"", "abc", std::string(64, '\xff'), valid.substr(0, valid.size() - 8),
                                      valid.substr(8)};
  for (int i = 0; i < 200; ++i) {
    std::string g = valid;
    for (int k = 0; k < 4; ++k) g[rng() % g.size()] = static_cast<char>(rng());
    garbage.push_back(g);
  }
  int rejected = 0;
  for (const auto& g : garbage) {
    try {
      perdure::history out;
      codec::decode_history_chunk(g, here, out);  // some mutations only change text bytes: still valid
    } catch (const store_error& e) {
      ++rejected;
      CHECK(e.code() == storage::errc::corrupt_record);
      CHECK(std::string(e.what()).find("\\x00\\x00\\x00\\x01k\\xff") != std::string::npos);
      CHECK(std::string(e.what()).find("history") != std::string::npos);
    }
  }
  CHECK(rejected >= 5);
}

TEST_CASE("codec: an out-of-range status is corrupt") {
  std::string bytes;
  codec::encode_row(make_record("x", "n", runtime_status::running, at_ms(0)), 1, bytes);
  // Status is the first byte of the record's data section; find it by flipping candidates.
  bool caught = false;
  for (size_t i = 0; i < bytes.size() && !caught; ++i) {
    if (bytes[i] != static_cast<char>(runtime_status::running)) continue;
    std::string bad = bytes;
    bad[i] = static_cast<char>(200);
    try {
      auto row = codec::decode_row(bad, here);
      (void)row;
    } catch (const store_error& e) {
      caught = e.code() == storage::errc::corrupt_record && std::string(e.what()).find("status") != std::string::npos;
    }
  }
  CHECK(caught);
}

TEST_CASE("index values: a bare name (written before versions) reads as version 0, not waiting, and others round-trip") {
  CHECK(decode_index_value("Order") == index_value{"Order", 0, false});
  std::string bytes;
  encode_index_value(index_value{"Order", 0, false}, bytes);
  CHECK(bytes == "Order");  // unversioned hubs keep their index values
  for (const index_value& v : {index_value{"Order", 2, false}, index_value{"Order", 0, true},
                               index_value{"", 70000, true}, index_value{std::string("a\0b", 3), 1, false}}) {
    encode_index_value(v, bytes);
    CHECK(decode_index_value(bytes) == v);
  }
}
