// What this partition sent and was not yet acknowledged, by seq and by target partition. A
// message names the target's previous unacknowledged one (prev_seq) so the target applies each
// source-to-target stream without gaps.
#pragma once

#include "actions.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

namespace perdure::partition {

class outbox_tracker {
 public:
  /// A committed outbox entry (from commit(), or the store at recovery); returns it ready to send.
  send_message remember(storage::outbox_entry entry);
  /// Every unacknowledged message, in seq order, ready to (re-)send.
  std::vector<send_message> unacknowledged() const;
  /// The target made `seq` durable: it leaves the outbox with the next commit.
  void acknowledged(uint64_t seq);
  bool has_delivered() const { return !delivered_.empty(); }
  /// The acknowledged seqs to delete in the next batch.
  std::vector<uint64_t> take_delivered();

 private:
  send_message ready(const storage::outbox_entry& entry) const;

  std::map<uint64_t, storage::outbox_entry> unacked_;
  std::unordered_map<uint32_t, std::set<uint64_t>> unacked_by_target_;
  std::vector<uint64_t> delivered_;
};

}  // namespace perdure::partition
