#include "cluster_control.hpp"

#include <perdure/errors.hpp>
#include <perdure/storage/store.hpp>

#include <algorithm>
#include <vector>

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

namespace {

// "partitions 1, 4" or "partition 2".
std::string partition_list(const std::vector<uint32_t>& partitions) {
  std::string out = partitions.size() == 1 ? "partition " : "partitions ";
  for (size_t i = 0; i < partitions.size(); ++i) out += (i ? ", " : "") + std::to_string(partitions[i]);
  return out;
}

}  // namespace

std::string cluster_control::partitions_held_by(const std::string& node) {
  std::vector<uint32_t> owned, followed, moving_to;
  for (uint32_t p = 0; p < view_.partitions(); ++p) {
    const auto entry = table_.get(p);
    if (!entry) continue;
    const auto& a = entry->assignment;
    if (a.owner == node) owned.push_back(p);
    if (std::find(a.followers.begin(), a.followers.end(), node) != a.followers.end()) followed.push_back(p);
    if (a.moving_to == node) moving_to.push_back(p);
  }
  std::string out;
  const auto add = [&](const char* what, const std::vector<uint32_t>& partitions) {
    if (!partitions.empty()) out += (out.empty() ? "" : "; ") + std::string{what} + partition_list(partitions);
  };
  add("owns ", owned);
  add("follows ", followed);
  add("is the target of the move of ", moving_to);
  return out;
}

bool cluster_control::reaches(const std::string& node) const {
  const auto index = view_.index_of(node);
  const auto reachable = view_.reachable();
  return index && *index < reachable.size() && reachable[*index];
}

void cluster_control::remove(const std::string& node) {
  if (node == self_)
    throw invalid_argument_error("member '" + node + "' is the node answering this request: stop it, then remove it "
                                 "through another member");
  if (const auto held = partitions_held_by(node); !held.empty())
    throw invalid_argument_error("member '" + node + "' still " + held + ": drain it (perdure cluster drain " + node +
                                 ") and wait until the coordinator moved them away (perdure cluster partitions); a "
                                 "lost member's partitions are taken over once the heartbeat timeout is past");
  if (reaches(node))
    throw invalid_argument_error("member '" + node + "' is running (this node reaches it): stop it first, then remove it");
  set_state(node, storage::member_state::removed);
}

storage::versioned_assignment cluster_control::entry_of(uint32_t partition) {
  const uint32_t partitions = view_.partitions();
  if (partition >= partitions)
    throw invalid_argument_error("no partition " + std::to_string(partition) + ": the hub has " +
                                 std::to_string(partitions) + " (0-" + std::to_string(partitions - 1) + ")");
  auto entry = table_.get(partition);
  if (!entry) throw invalid_argument_error("partition " + std::to_string(partition) + " has no owner yet");
  return *entry;
}

void cluster_control::move(uint32_t partition, const std::string& node) {
  const auto entry = entry_of(partition);
  const auto members = registry_.members();
  const auto member = members.find(node);
  if (member == members.end() || member->second.state == storage::member_state::removed)
    throw invalid_argument_error("no member '" + node + "' in this hub");
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
