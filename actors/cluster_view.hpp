// What a cluster node knows of its hub right now: its members (by a local index that only grows:
// indexes are this process's own and never cross the network; a removed member keeps its index,
// hidden), which member owns each partition
// (in which epoch, and the local partition actor when it is this node), and which members are
// reachable.
// Written by the node actor (reachability) and by the replica manager (ownership, in a replicated
// hub; fixed at start in a static one); read on any thread: the node actor's routing, the
// partition routers, the management API.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace perdure::actors {

inline constexpr size_t no_member = std::numeric_limits<size_t>::max();

struct partition_owner {
  size_t member = no_member;  // index into the membership's members; no_member while unassigned
  uint64_t epoch = 0;
  caf::actor local;  // this node's partition actor, once it runs (only where member is this node)
  std::vector<size_t> followers;  // members keeping a warm copy (a replicated hub)
  size_t moving_to = no_member;   // the target of a move under way
  std::optional<uint64_t> move_lag{};  // records the move's target has still to apply, once reported
  bool pinned = false;                 // an operator placed it (storage::partition_assignment)
};

class cluster_view {
 public:
  cluster_view(uint32_t partitions, std::vector<std::string> members);

  uint32_t partitions() const noexcept { return partitions_; }
  partition_owner owner(uint32_t partition) const;
  void set_owner(uint32_t partition, partition_owner owner);
  /// The partitions whose partition actor runs on this node.
  std::vector<uint32_t> local_partitions() const;
  /// Whether every partition has an owner, and the ones this node owns run here.
  bool settled(size_t self) const;

  void set_reachable(size_t member, bool reachable);
  std::vector<bool> reachable() const;

  /// The member's index, added (unreachable, active) when it is new.
  size_t add_member(const std::string& id);
  std::optional<size_t> index_of(const std::string& id) const;
  std::vector<std::string> member_ids() const;  // by index
  void set_draining(size_t member, bool draining);
  std::vector<bool> draining() const;  // by index
  /// A removed member (an operator's `perdure cluster remove`) is neither connected to nor shown.
  void set_removed(size_t member, bool removed);
  std::vector<bool> removed() const;  // by index

 private:
  // The local actor is held weakly: a detached actor's thread ends only once nothing references
  // it, and the view lives as long as the host.
  struct entry {
    size_t member = no_member;
    uint64_t epoch = 0;
    caf::actor_addr local;
    std::vector<size_t> followers;
    size_t moving_to = no_member;
    std::optional<uint64_t> move_lag{};
    bool pinned = false;
  };
  const uint32_t partitions_;
  mutable std::mutex mutex_;
  std::vector<entry> owners_;
  std::vector<std::string> members_;
  std::vector<bool> reachable_;
  std::vector<bool> draining_;
  std::vector<bool> removed_;
};

}  // namespace perdure::actors
