// Exactly-once receipt of messages from other partitions. Each source numbers its outbox (seq,
// increasing, never reused) and says which of its messages to this partition precedes each one
// (prev_seq). A message is applied strictly in order per source; the highest applied seq per
// source is committed with the batch that applies it, and acknowledged only after that commit, so
// a re-sent message is recognized however often it comes.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace perdure::partition {

using watermark = std::pair<uint32_t, uint64_t>;  // (source partition, highest seq)

class dedup_watermarks {
 public:
  enum class verdict {
    apply,            // new and in order: queue it; acknowledged after the next commit
    already_durable,  // a re-send of one applied durably: acknowledge it again now
    already_queued,   // a re-send of one queued for the next commit: nothing to do
    out_of_order,     // an earlier one is missing: drop it, the source re-sends both
  };

  /// The committed watermarks, at recovery.
  void load(const std::vector<watermark>& durable);
  verdict accept(uint32_t source, uint64_t seq, uint64_t prev_seq);

  /// Watermarks that moved since the last commit: they go into the next batch.
  std::vector<watermark> marks_to_commit() const;
  /// The batch holding `marks` is durable: returns the acknowledgements now due.
  std::vector<watermark> committed(const std::vector<watermark>& marks);

 private:
  std::unordered_map<uint32_t, uint64_t> accepted_;   // highest seq queued per source
  std::unordered_map<uint32_t, uint64_t> committed_;  // highest seq durable per source
  std::vector<watermark> acks_after_commit_;
};

}  // namespace perdure::partition
