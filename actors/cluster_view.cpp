#include "cluster_view.hpp"

#include <caf/actor_cast.hpp>

#include <algorithm>

namespace perdure::actors {

cluster_view::cluster_view(uint32_t partitions, size_t members) : partitions_(partitions), owners_(partitions), reachable_(members) {}

partition_owner cluster_view::owner(uint32_t partition) const {
  std::lock_guard lock(mutex_);
  if (partition >= owners_.size()) return {};
  const auto& e = owners_[partition];
  return {e.member, e.epoch, caf::actor_cast<caf::actor>(e.local), e.followers};
}

void cluster_view::set_owner(uint32_t partition, partition_owner owner) {
  std::lock_guard lock(mutex_);
  owners_.at(partition) = entry{owner.member, owner.epoch, owner.local.address(), std::move(owner.followers)};
}

std::vector<uint32_t> cluster_view::local_partitions() const {
  std::lock_guard lock(mutex_);
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < owners_.size(); ++p)
    if (caf::actor_cast<caf::actor>(owners_[p].local)) out.push_back(p);
  return out;
}

bool cluster_view::settled(size_t self) const {
  std::lock_guard lock(mutex_);
  return std::all_of(owners_.begin(), owners_.end(), [self](const auto& o) {
    return o.member != no_member && (o.member != self || caf::actor_cast<caf::actor>(o.local));
  });
}

void cluster_view::set_reachable(size_t member, bool reachable) {
  std::lock_guard lock(mutex_);
  reachable_.at(member) = reachable;
}

std::vector<bool> cluster_view::reachable() const {
  std::lock_guard lock(mutex_);
  return reachable_;
}

}  // namespace perdure::actors
