// The assignment_table contract, checked the same way against every implementation.
#pragma once

#include <assignment_table.hpp>
#include <perdure/storage/store.hpp>

#include <doctest/doctest.h>

namespace perdure::testing_support {

inline storage::errc cas_error(storage::assignment_table& table, uint32_t partition,
                               const storage::partition_assignment& value, uint64_t expected) {
  try {
    table.compare_and_set(partition, value, expected);
  } catch (const storage::store_error& e) {
    return e.code();
  }
  FAIL("the write was accepted");
  return {};
}

/// `coordinator` and `stale` are two handles on the same, initially empty table.
inline void check_assignment_contract(storage::assignment_table& coordinator, storage::assignment_table& stale) {
  using storage::errc;
  using storage::partition_assignment;
  CHECK_FALSE(coordinator.get(3).has_value());

  const partition_assignment first{"a", {"b", "c"}, 1};
  const uint64_t r1 = coordinator.compare_and_set(3, first, 0);
  CHECK(r1 > 0);
  auto seen = stale.get(3);
  REQUIRE(seen.has_value());
  CHECK(seen->assignment == first);
  CHECK(seen->revision == r1);

  // A retry of a write whose acknowledgement was lost succeeds and changes nothing.
  CHECK(coordinator.compare_and_set(3, first, 0) == r1);

  // A takeover moves the entry on; the coordinator that still expects r1 is refused.
  const partition_assignment takeover{"b", {"c"}, 2};
  const uint64_t r2 = coordinator.compare_and_set(3, takeover, r1);
  CHECK(r2 > r1);
  CHECK(cas_error(stale, 3, partition_assignment{"c", {}, 2}, r1) == errc::fenced);
  CHECK(cas_error(stale, 3, partition_assignment{"c", {}, 2}, 0) == errc::fenced);
  CHECK(coordinator.get(3)->assignment == takeover);

  // Partitions are independent entries.
  CHECK(stale.compare_and_set(4, partition_assignment{"c", {}, 1}, 0) > 0);
  CHECK(coordinator.get(3)->revision == r2);

  // A move under way and an operator's pin are kept as written.
  const partition_assignment placed{"b", {"c", "d"}, 2, "d", true};
  coordinator.compare_and_set(3, placed, r2);
  CHECK(stale.get(3)->assignment == placed);
}

}  // namespace perdure::testing_support
