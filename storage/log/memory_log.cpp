#include "memory_log.hpp"

#include <perdure/storage/store.hpp>

#include <algorithm>

namespace perdure::storage {

uint64_t memory_log::append(std::string_view bytes, uint64_t expected_last, std::string_view record_id) {
  std::lock_guard lock(mutex_);
  if (auto known = seq_of_id_.find(record_id); known != seq_of_id_.end()) return known->second;
  const bool faulty = faults_left_ > 0;
  if (faulty) --faults_left_;
  if (faulty && fault_ == fault::lost_before_append)
    throw store_error(errc::unavailable, "memory log: injected failure before the append");
  if (bytes.size() > max_record_bytes_)
    throw store_error(errc::payload_too_large, "memory log: a record of " + std::to_string(bytes.size()) +
                                                   " bytes is larger than its limit");
  if (expected_last != last_)
    throw store_error(errc::fenced, "memory log: expected the last record to be " + std::to_string(expected_last) +
                                        ", but it is " + std::to_string(last_) + ": another writer appended");
  ++last_;
  records_.emplace(last_, log_record{last_, std::string{bytes}});
  seq_of_id_.emplace(std::string{record_id}, last_);
  if (faulty) throw store_error(errc::unavailable, "memory log: injected loss of the acknowledgement");
  return last_;
}

uint64_t memory_log::last_seq() {
  std::lock_guard lock(mutex_);
  return last_;
}

std::vector<log_record> memory_log::read(uint64_t from, size_t max) {
  std::lock_guard lock(mutex_);
  std::vector<log_record> out;
  for (auto it = records_.lower_bound(from); it != records_.end() && out.size() < max; ++it) out.push_back(it->second);
  return out;
}

void memory_log::trim_before(uint64_t seq) {
  std::lock_guard lock(mutex_);
  records_.erase(records_.begin(), records_.lower_bound(std::min(seq, last_)));
}

uint64_t memory_log::first_seq() {
  std::lock_guard lock(mutex_);
  return records_.empty() ? last_ + 1 : records_.begin()->first;
}

void memory_log::inject(fault what, size_t count) {
  std::lock_guard lock(mutex_);
  fault_ = what;
  faults_left_ = count;
}

}  // namespace perdure::storage
