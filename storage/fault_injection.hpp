// A test seam: file writes of the hub store that fail on demand (an injected disk failure), to
// prove that a storage failure stops the partition cleanly, leaves no partial state, and that a node
// refuses to start on a data dir it cannot write. Storage-internal: the public contract
// (include/perdure/storage/store.hpp) does not mention it, and nothing but tests installs it.
//
//   auto faults = std::make_shared<storage::write_faults>();
//   storage::install_write_faults(faults);   // stores opened from now on write through it
//   ... open a store / start a node ...
//   faults->fail_writes(true);               // every file append, sync and creation now fails
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace perdure::storage {

class write_faults {
 public:
  /// From now on (or no longer) every append, flush, sync and creation of a file fails with an
  /// IOError, before anything reaches the file.
  void fail_writes(bool on) noexcept { failing_.store(on, std::memory_order_release); }
  bool failing() const noexcept { return failing_.load(std::memory_order_acquire); }
  /// How many operations failed so far.
  uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
  void count_failure() noexcept { failures_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<bool> failing_{false};
  std::atomic<uint64_t> failures_{0};
};

/// Stores opened while a switch is installed write through it (it stays theirs until they close);
/// nullptr uninstalls. Process-wide, because a node opens its store itself.
void install_write_faults(std::shared_ptr<write_faults> faults);
std::shared_ptr<write_faults> installed_write_faults();

}  // namespace perdure::storage
