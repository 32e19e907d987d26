// The instances a partition keeps in memory: their slots (record, live coroutine), the messages
// queued for their next episode and the callers waiting on them; bounded, least recently used
// first out, and never an instance something still waits on.
#pragma once

#include "actions.hpp"
#include "episode.hpp"

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace perdure::partition {

struct cached_instance {
  instance_slot slot;
  std::vector<message> inbox;  // for the next episode, in arrival order
  bool dirty = false;          // has an inbox the next flush runs
  bool start_pending = false;  // a client's start is queued and not yet committed
  // The next flush replays the instance although no message is queued: its orchestration version
  // became available here, or is missing here (then it starts waiting).
  bool revive = false;
  std::vector<std::pair<request_id, std::string>> acks;  // answered after the commit
  std::vector<request_id> waiters;                       // answered when the instance ends
  std::list<cached_instance*>::iterator lru_position;

  bool busy() const { return !inbox.empty() || revive || start_pending || !acks.empty() || !waiters.empty(); }
};

class instance_cache {
 public:
  explicit instance_cache(size_t max_cached) : max_cached_(max_cached) {}
  instance_cache(const instance_cache&) = delete;
  instance_cache& operator=(const instance_cache&) = delete;

  /// The instance's entry, created when absent, now the most recently used. Entries never move:
  /// a reference stays valid until the entry is forgotten or evicted.
  cached_instance& touch(const std::string& instance_id);
  cached_instance* find(const std::string& instance_id);

  /// Queues a message for the instance's next episode.
  void enqueue(cached_instance& entry, message msg);
  /// Makes the instance's next episode run even with nothing queued (cached_instance::revive).
  void revive(cached_instance& entry);
  bool has_dirty() const { return !dirty_.empty(); }
  /// The entries with queued messages, in the order they became dirty; they are clean afterwards.
  std::vector<cached_instance*> take_dirty();

  /// Drops what is cached of an instance that does not exist (any more). An entry something waits
  /// on stays, emptied (e.g. a late activity result of a purged instance still needs its flush).
  void forget(const std::string& instance_id);
  /// Evicts idle entries, least recently used first, while over the bound; looks at a bounded
  /// number of entries so that many busy ones do not make every flush walk the whole cache.
  void evict_idle(size_t touched);

  /// Every entry, for a partition that stops: the caller answers their waiters.
  std::unordered_map<std::string, cached_instance>& entries() { return entries_; }
  void clear();

 private:
  void mark_dirty(cached_instance& entry);

  size_t max_cached_;
  std::unordered_map<std::string, cached_instance> entries_;
  std::vector<cached_instance*> dirty_;  // a dirty entry is never erased before its flush
  std::list<cached_instance*> lru_;      // most recently used first
};

}  // namespace perdure::partition
