// Which node owns each partition, which nodes follow it, and in which epoch: the cluster's
// replicated assignment table. Entries change only by compare-and-set on their revision, so two
// coordinators (an old one that does not know it was replaced, and the new one) cannot both win.
//
// The table routes; it does not fence. An owner that missed a change keeps appending until the
// partition log refuses it (partition_log.hpp).
//
// Errors: store_error with errc::fenced when the entry's revision is no longer the expected one;
// errc::unavailable when the table could not be reached in time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace perdure::storage {

struct partition_assignment {
  std::string owner;  // node id
  std::vector<std::string> followers;
  uint64_t epoch = 0;
  // A move under way: this node follows the partition (it is among the followers) and becomes its
  // owner, with epoch + 1, once it has caught up with the log. Empty: no move.
  std::string moving_to{};
  // An operator placed the partition (`perdure cluster move`): on moving_to while that move is under
  // way, then on its owner. The balancer leaves it there; a drain of its owner, the loss of its
  // owner, a dropped move or `perdure cluster unpin` ends that.
  bool pinned = false;
  friend bool operator==(const partition_assignment&, const partition_assignment&) = default;
};

struct versioned_assignment {
  partition_assignment assignment;
  uint64_t revision = 0;
};

class assignment_table {
 public:
  virtual ~assignment_table() = default;

  /// The entry of `partition`, or nullopt when none was ever written.
  virtual std::optional<versioned_assignment> get(uint32_t partition) = 0;

  /// Writes `assignment` if the entry's revision is still `expected_revision` (0: there is no entry
  /// yet) and returns the new revision. A retry of a write whose outcome was unknown succeeds when
  /// the entry already holds exactly `assignment`.
  virtual uint64_t compare_and_set(uint32_t partition, const partition_assignment& assignment,
                                   uint64_t expected_revision) = 0;
};

/// In memory, for unit tests of coordination without servers.
class memory_assignment_table final : public assignment_table {
 public:
  std::optional<versioned_assignment> get(uint32_t partition) override;
  uint64_t compare_and_set(uint32_t partition, const partition_assignment& assignment,
                           uint64_t expected_revision) override;

 private:
  std::mutex mutex_;
  std::map<uint32_t, versioned_assignment> entries_;
  uint64_t last_revision_ = 0;
};

/// The text an entry is stored as: JSON, so that an operator can read and repair the table with
/// the nats CLI (`nats kv get perdure_<hub>_assignments p3`). Throws store_error(corrupt_record).
std::string encode_assignment(const partition_assignment& assignment);
partition_assignment decode_assignment(std::string_view text, std::string_view where);

/// "fenced" for an entry whose revision moved on, naming both revisions.
[[noreturn]] void assignment_moved_on(uint32_t partition, uint64_t expected, uint64_t actual);

}  // namespace perdure::storage
