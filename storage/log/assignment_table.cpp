#include "assignment_table.hpp"

#include <perdure/storage/store.hpp>

#include <nlohmann/json.hpp>

namespace perdure::storage {

std::optional<versioned_assignment> memory_assignment_table::get(uint32_t partition) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(partition);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

uint64_t memory_assignment_table::compare_and_set(uint32_t partition, const partition_assignment& assignment,
                                                  uint64_t expected_revision) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(partition);
  const uint64_t actual = it == entries_.end() ? 0 : it->second.revision;
  if (actual != expected_revision) {
    if (it != entries_.end() && it->second.assignment == assignment) return actual;
    assignment_moved_on(partition, expected_revision, actual);
  }
  entries_[partition] = versioned_assignment{assignment, ++last_revision_};
  return last_revision_;
}

std::string encode_assignment(const partition_assignment& assignment) {
  nlohmann::json j{{"owner", assignment.owner}, {"followers", assignment.followers}, {"epoch", assignment.epoch}};
  if (!assignment.moving_to.empty()) j["moving_to"] = assignment.moving_to;
  if (assignment.pinned) j["pinned"] = true;
  return j.dump();
}

partition_assignment decode_assignment(std::string_view text, std::string_view where) {
  try {
    const auto j = nlohmann::json::parse(text);
    return partition_assignment{j.at("owner").get<std::string>(), j.at("followers").get<std::vector<std::string>>(),
                                j.at("epoch").get<uint64_t>(), j.value("moving_to", std::string{}),
                                j.value("pinned", false)};
  } catch (const nlohmann::json::exception& e) {
    throw store_error(errc::corrupt_record,
                      "assignment " + std::string{where} + " is not an assignment: " + e.what());
  }
}

void assignment_moved_on(uint32_t partition, uint64_t expected, uint64_t actual) {
  throw store_error(errc::fenced, "the assignment of partition " + std::to_string(partition) +
                                      " is at revision " + std::to_string(actual) + ", not " +
                                      std::to_string(expected) + ": another coordinator changed it");
}

}  // namespace perdure::storage
