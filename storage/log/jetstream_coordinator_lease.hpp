// The coordinator lease in a JetStream key-value bucket (`perdure_<hub>_coordinator`, one key,
// `coordinator`, whose value is the holder's node id). The bucket's max age is the lease's expiry:
// a holder that stops renewing loses the key to the server's expiry, with no clock of ours
// involved. Taking is a create (it succeeds only while the key is absent, deleted or aged out),
// renewing an update on the revision of our last write.
#pragma once

#include "coordinator_lease.hpp"
#include "jetstream.hpp"

#include <cstdint>
#include <optional>

namespace perdure::storage {

class jetstream_coordinator_lease final : public coordinator_lease {
 public:
  /// Opens the hub's lease bucket, creating it with `replicas` replicas and `expiry` as its max age
  /// when it does not exist (an existing bucket keeps its own expiry). `expiry` must be at least
  /// 100 ms, JetStream's shortest max age. Throws store_error(unavailable, invalid_argument).
  jetstream_coordinator_lease(jetstream_connection& connection, std::string_view hub, int replicas,
                              std::chrono::milliseconds expiry);
  ~jetstream_coordinator_lease() override;
  jetstream_coordinator_lease(const jetstream_coordinator_lease&) = delete;
  jetstream_coordinator_lease& operator=(const jetstream_coordinator_lease&) = delete;

  bool hold(std::string_view node) override;
  /// Throws store_error(unavailable) when the bucket cannot be reached; the lease then expires.
  void release(std::string_view node) override;

 private:
  struct holder {
    std::string node;
    uint64_t revision = 0;
  };
  std::optional<holder> read();  // nullopt: nobody holds the role

  jetstream_connection& connection_;
  std::string bucket_;
  kvStore* kv_ = nullptr;
  std::mutex mutex_;
  holder written_;  // what our last successful write stored; node empty when we hold nothing
};

}  // namespace perdure::storage
