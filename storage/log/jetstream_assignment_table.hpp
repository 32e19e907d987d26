// The assignment table in a JetStream key-value bucket (`perdure_<hub>_assignments`, one key per
// partition, `p<n>`), replicated like the partition logs. Compare-and-set is the bucket's update
// on a revision (create for a first entry).
#pragma once

#include "assignment_table.hpp"
#include "jetstream.hpp"

namespace perdure::storage {

class jetstream_assignment_table final : public assignment_table {
 public:
  /// Opens the hub's bucket, creating it with `replicas` replicas when it does not exist.
  jetstream_assignment_table(jetstream_connection& connection, std::string_view hub, int replicas);
  ~jetstream_assignment_table() override;
  jetstream_assignment_table(const jetstream_assignment_table&) = delete;
  jetstream_assignment_table& operator=(const jetstream_assignment_table&) = delete;

  std::optional<versioned_assignment> get(uint32_t partition) override;
  uint64_t compare_and_set(uint32_t partition, const partition_assignment& assignment,
                           uint64_t expected_revision) override;

 private:
  jetstream_connection& connection_;
  std::string bucket_;
  kvStore* kv_ = nullptr;
};

}  // namespace perdure::storage
