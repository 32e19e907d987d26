// An in-memory partition_log with the same compare-and-append contract as jetstream_log, and
// failures a test can inject: the deterministic stand-in for a replicated log in unit tests of
// ownership, fencing and takeover.
#pragma once

#include "partition_log.hpp"

#include <map>
#include <mutex>
#include <string>

namespace perdure::storage {

class memory_log final : public partition_log {
 public:
  /// What the next appends do instead of succeeding.
  enum class fault {
    lost_before_append,  // unavailable, and the record is not stored
    lost_after_append,   // unavailable, but the record is stored (its acknowledgement was lost)
  };

  explicit memory_log(size_t max_record_bytes = 1u << 20) : max_record_bytes_(max_record_bytes) {}

  uint64_t append(std::string_view bytes, uint64_t expected_last, std::string_view record_id) override;
  uint64_t last_seq() override;
  std::vector<log_record> read(uint64_t from, size_t max) override;
  size_t max_record_bytes() const override { return max_record_bytes_; }
  void trim_before(uint64_t seq) override;
  uint64_t first_seq() override;

  /// The next `count` appends fail with `what`.
  void inject(fault what, size_t count = 1);

 private:
  std::mutex mutex_;
  std::map<uint64_t, log_record> records_;
  std::map<std::string, uint64_t, std::less<>> seq_of_id_;
  uint64_t last_ = 0;
  fault fault_ = fault::lost_before_append;
  size_t faults_left_ = 0;
  size_t max_record_bytes_;
};

}  // namespace perdure::storage
