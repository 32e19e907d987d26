// The partition_log contract, checked the same way against every implementation (memory_log in
// the storage tests, jetstream_log against real nats-servers in the cluster tests).
#pragma once

#include <partition_log.hpp>
#include <perdure/storage/store.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <string>

namespace perdure::testing_support {

inline storage::errc append_error(storage::partition_log& log, std::string_view bytes, uint64_t expected,
                                  std::string_view id) {
  try {
    log.append(bytes, expected, id);
  } catch (const storage::store_error& e) {
    return e.code();
  }
  FAIL("the append was accepted");
  return {};
}

/// `open` gives a new handle on the same, initially empty log (another node's view of it).
inline void check_log_contract(const std::function<std::unique_ptr<storage::partition_log>()>& open) {
  using storage::errc;
  auto owner = open();
  CHECK(owner->last_seq() == 0);
  CHECK(owner->first_seq() == 1);
  CHECK(owner->read(1, 10).empty());

  const uint64_t first = owner->append("batch 1", 0, "a-1");
  CHECK(first > 0);
  CHECK(owner->last_seq() == first);
  const uint64_t second = owner->append("batch 2", first, "a-2");
  CHECK(second > first);

  // A retry of an append whose outcome was unknown is stored once.
  CHECK(owner->append("batch 2", first, "a-2") == second);
  CHECK(owner->last_seq() == second);

  // Stale expectations are refused and change nothing.
  CHECK(append_error(*owner, "stale", first, "a-x") == errc::fenced);
  CHECK(append_error(*owner, "stale", 0, "a-y") == errc::fenced);
  CHECK(owner->last_seq() == second);

  // A new owner reads to the end and appends its epoch-start record: the old owner is fenced.
  auto successor = open();
  const auto seen = successor->read(1, 100);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == storage::log_record{first, "batch 1"});
  CHECK(seen[1] == storage::log_record{second, "batch 2"});
  const uint64_t epoch_start = successor->append("epoch 2", successor->last_seq(), "b-1");
  CHECK(append_error(*owner, "batch 3", second, "a-3") == errc::fenced);
  CHECK(owner->last_seq() == epoch_start);

  // Reads: from the middle, bounded, past the end, and across many records in order.
  const auto middle = owner->read(second, 1);
  REQUIRE(middle.size() == 1);
  CHECK(middle[0].seq == second);
  CHECK(owner->read(epoch_start + 1, 10).empty());
  uint64_t last = epoch_start;
  std::vector<uint64_t> appended;
  for (int i = 0; i < 600; ++i) {
    last = successor->append("record " + std::to_string(i), last, "b-r" + std::to_string(i));
    appended.push_back(last);
  }
  const auto all = owner->read(appended.front(), 1000);
  REQUIRE(all.size() == appended.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].seq == appended[i]);
    CHECK(all[i].bytes == "record " + std::to_string(i));
  }

  // Trimming removes the records before a sequence, never the last one, and appends go on after it.
  CHECK(owner->first_seq() == first);
  successor->trim_before(appended[100]);
  CHECK(owner->first_seq() == appended[100]);
  const auto after_trim = owner->read(first, 10);
  REQUIRE(after_trim.size() == 10);
  CHECK(after_trim.front() == storage::log_record{appended[100], "record 100"});
  successor->trim_before(last + 1000);
  CHECK(owner->first_seq() == last);
  CHECK(owner->last_seq() == last);
  const auto only_last = owner->read(first, 10);
  REQUIRE(only_last.size() == 1);
  CHECK(only_last[0].seq == last);
  CHECK(append_error(*owner, "stale", appended[100], "a-4") == errc::fenced);
  const uint64_t after = successor->append("after the trim", last, "b-after");
  CHECK(after > last);
  CHECK(owner->read(last, 10).size() == 2);
}

}  // namespace perdure::testing_support
