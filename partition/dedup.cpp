#include "dedup.hpp"

namespace perdure::partition {

void dedup_watermarks::load(const std::vector<watermark>& durable) {
  for (const auto& [source, seq] : durable) accepted_[source] = committed_[source] = seq;
}

dedup_watermarks::verdict dedup_watermarks::accept(uint32_t source, uint64_t seq, uint64_t prev_seq) {
  if (seq <= committed_[source]) return verdict::already_durable;
  auto& accepted = accepted_[source];
  if (seq <= accepted) return verdict::already_queued;
  if (prev_seq > accepted) return verdict::out_of_order;
  accepted = seq;
  acks_after_commit_.emplace_back(source, seq);
  return verdict::apply;
}

std::vector<watermark> dedup_watermarks::marks_to_commit() const {
  std::vector<watermark> marks;
  for (const auto& [source, seq] : accepted_) {
    auto it = committed_.find(source);
    if (it == committed_.end() || it->second < seq) marks.emplace_back(source, seq);
  }
  return marks;
}

std::vector<watermark> dedup_watermarks::committed(const std::vector<watermark>& marks) {
  for (const auto& [source, seq] : marks) committed_[source] = seq;
  std::vector<watermark> acks;
  acks.swap(acks_after_commit_);
  return acks;
}

}  // namespace perdure::partition
