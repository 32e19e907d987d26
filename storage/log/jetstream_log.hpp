// A partition_log on NATS JetStream: one stream per partition with one subject, replicated by the
// JetStream cluster (3 replicas by default). Compare-and-append is a publish with "expected last
// subject sequence" (or "expect no message" for the first record); the record id is the publish's
// message id, which the stream de-duplicates within its duplicate window.
//
// Durability: nats-server 2.9.10 acknowledges once a quorum of replicas holds the record in memory
// and syncs to disk every 60 s: losing one machine loses nothing acknowledged, a power loss of a
// majority within that window can (docs/reliability.md).
#pragma once

#include "jetstream.hpp"
#include "partition_log.hpp"

#include <memory>
#include <string>

namespace perdure::storage {

class jetstream_log final : public partition_log {
 public:
  /// Opens the log of `partition` of hub `hub`, creating its stream with `replicas` replicas when
  /// it does not exist (an existing stream keeps its replica count).
  jetstream_log(jetstream_connection& connection, std::string_view hub, uint32_t partition, int replicas);

  uint64_t append(std::string_view bytes, uint64_t expected_last, std::string_view record_id) override;
  uint64_t last_seq() override;
  std::vector<log_record> read(uint64_t from, size_t max) override;
  size_t max_record_bytes() const override;
  /// A purge of the stream up to `seq` (JetStream keeps the sequence numbers of what it purged).
  void trim_before(uint64_t seq) override;
  uint64_t first_seq() override;

  const std::string& stream() const noexcept { return stream_; }

 private:
  struct last_record {
    uint64_t seq = 0;
    std::string record_id;
  };
  struct unsubscribe {
    void operator()(natsSubscription* s) const noexcept;
  };
  using subscription = std::unique_ptr<natsSubscription, unsubscribe>;

  last_record last();
  struct seq_bounds {
    uint64_t first = 0;
    uint64_t last = 0;
  };
  seq_bounds bounds();
  void create_stream(int replicas);
  subscription subscribe_from(uint64_t seq);
  void read_from_leader(std::vector<log_record>& out, uint64_t from, uint64_t last_seq, size_t max,
                        std::chrono::steady_clock::time_point deadline);

  jetstream_connection& connection_;
  std::string stream_;
  std::string subject_;
  // A follower reads the log every few hundred ms from where it stopped: one consumer kept across
  // reads (creating an ephemeral consumer is a change to the JetStream cluster's metadata, agreed
  // by every server) while it delivers the record due next; made again otherwise.
  subscription tail_;
  uint64_t tail_next_ = 0;  // the record tail_ delivers next
};

}  // namespace perdure::storage
