#include "cluster_view.hpp"

#include <caf/actor_cast.hpp>

#include <algorithm>

namespace perdure::actors {

cluster_view::cluster_view(uint32_t partitions, std::vector<std::string> members)
    : partitions_(partitions), owners_(partitions), members_(std::move(members)), reachable_(members_.size()),
      draining_(members_.size()), removed_(members_.size()) {}

partition_owner cluster_view::owner(uint32_t partition) const {
  std::lock_guard lock(mutex_);
  if (partition >= owners_.size()) return {};
  const auto& e = owners_[partition];
  return {e.member, e.epoch, caf::actor_cast<caf::actor>(e.local), e.followers, e.moving_to, e.move_lag, e.pinned};
}

void cluster_view::set_owner(uint32_t partition, partition_owner owner) {
  std::lock_guard lock(mutex_);
  owners_.at(partition) = entry{owner.member,    owner.epoch,    owner.local.address(), std::move(owner.followers),
                                owner.moving_to, owner.move_lag, owner.pinned};
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

size_t cluster_view::add_member(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto found = std::find(members_.begin(), members_.end(), id);
  if (found != members_.end()) return static_cast<size_t>(found - members_.begin());
  members_.push_back(id);
  reachable_.push_back(false);
  draining_.push_back(false);
  removed_.push_back(false);
  return members_.size() - 1;
}

std::optional<size_t> cluster_view::index_of(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto found = std::find(members_.begin(), members_.end(), id);
  if (found == members_.end()) return std::nullopt;
  return static_cast<size_t>(found - members_.begin());
}

std::vector<std::string> cluster_view::member_ids() const {
  std::lock_guard lock(mutex_);
  return members_;
}

void cluster_view::set_draining(size_t member, bool draining) {
  std::lock_guard lock(mutex_);
  draining_.at(member) = draining;
}

std::vector<bool> cluster_view::draining() const {
  std::lock_guard lock(mutex_);
  return draining_;
}

void cluster_view::set_removed(size_t member, bool removed) {
  std::lock_guard lock(mutex_);
  removed_.at(member) = removed;
}

std::vector<bool> cluster_view::removed() const {
  std::lock_guard lock(mutex_);
  return removed_;
}

}  // namespace perdure::actors
