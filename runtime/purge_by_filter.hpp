// Purge by filter, for any client: the finished instances the filter matches are listed, then
// purged one by one through their partitions (each partition is its instances' single writer, so a
// purge never races with a new execution of the same id).
#pragma once

#include <perdure/client.hpp>

#include <cstddef>

namespace perdure {

/// Purges the finished instances that match `filter` (statuses other than finished ones are
/// ignored); returns how many were purged.
size_t purge_finished(client& hub, const instance_query& filter);

}  // namespace perdure
