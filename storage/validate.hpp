// Checks a commit batch before anything is written: ids, partitions, payload sizes.
#pragma once

#include <perdure/storage/store.hpp>

namespace perdure::storage {

/// Throws store_error(invalid_argument) or store_error(payload_too_large) naming the offending
/// episode, item and sizes.
void validate(const commit_batch& batch, uint32_t partition_count, size_t max_payload_bytes);

}  // namespace perdure::storage
