#include "cluster_control.hpp"

#include <perdure/errors.hpp>
#include <perdure/storage/store.hpp>

#include <algorithm>

namespace perdure {

void cluster_control::set_state(const std::string& node, storage::member_state state) {
  try {
    registry_.set_state(node, state);
  } catch (const storage::store_error& e) {
    if (e.code() == storage::errc::not_found) throw invalid_argument_error(e.what());
    throw;
  }
}

void cluster_control::drain(const std::string& node) { set_state(node, storage::member_state::draining); }

void cluster_control::activate(const std::string& node) { set_state(node, storage::member_state::active); }

storage::versioned_assignment cluster_control::entry_of(uint32_t partition) {
  if (partition >= partitions_)
    throw invalid_argument_error("no partition " + std::to_string(partition) + ": the hub has " +
                                 std::to_string(partitions_) + " (0-" + std::to_string(partitions_ - 1) + ")");
  auto entry = table_.get(partition);
  if (!entry) throw invalid_argument_error("partition " + std::to_string(partition) + " has no owner yet");
  return *entry;
}

void cluster_control::move(uint32_t partition, const std::string& node) {
  const auto entry = entry_of(partition);
  const auto members = registry_.members();
  const auto member = members.find(node);
  if (member == members.end()) throw invalid_argument_error("no member '" + node + "' in this hub");
  if (member->second.state == storage::member_state::draining)
    throw invalid_argument_error("member '" + node + "' is draining: it takes no partitions");
  auto planned = entry.assignment;
  if (!planned.moving_to.empty() && planned.moving_to != node)
    throw invalid_argument_error("partition " + std::to_string(partition) + " is moving to '" + planned.moving_to +
                                 "' already; move it again once that move is done");
  if (planned.owner != node) {
    if (std::find(planned.followers.begin(), planned.followers.end(), node) == planned.followers.end())
      planned.followers.push_back(node);
    planned.moving_to = node;
  }
  planned.pinned = true;  // the balancer would otherwise move it back to even out the load
  if (planned != entry.assignment) table_.compare_and_set(partition, planned, entry.revision);
}

void cluster_control::unpin(uint32_t partition) {
  const auto entry = entry_of(partition);
  auto planned = entry.assignment;
  planned.pinned = false;
  if (planned != entry.assignment) table_.compare_and_set(partition, planned, entry.revision);
}

}  // namespace perdure
