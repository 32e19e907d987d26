#include "outbox.hpp"

#include <iterator>

namespace perdure::partition {

send_message outbox_tracker::remember(storage::outbox_entry entry) {
  unacked_by_target_[entry.target_partition].insert(entry.seq);
  const uint64_t seq = entry.seq;
  auto [it, inserted] = unacked_.emplace(seq, std::move(entry));
  return ready(it->second);
}

send_message outbox_tracker::ready(const storage::outbox_entry& entry) const {
  send_message out{entry.target_partition, entry.msg};
  const auto& pending = unacked_by_target_.at(entry.target_partition);
  auto at = pending.lower_bound(entry.seq);
  out.msg.source_prev_seq = at == pending.begin() ? 0 : *std::prev(at);
  return out;
}

std::vector<send_message> outbox_tracker::unacknowledged() const {
  std::vector<send_message> all;
  all.reserve(unacked_.size());
  for (const auto& [seq, entry] : unacked_) all.push_back(ready(entry));
  return all;
}

void outbox_tracker::acknowledged(uint64_t seq) {
  auto it = unacked_.find(seq);
  if (it == unacked_.end()) return;
  unacked_by_target_[it->second.target_partition].erase(seq);
  unacked_.erase(it);
  delivered_.push_back(seq);
}

std::vector<uint64_t> outbox_tracker::take_delivered() {
  std::vector<uint64_t> taken;
  taken.swap(delivered_);
  return taken;
}

}  // namespace perdure::partition
