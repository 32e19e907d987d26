// The RocksDB side of write_faults: a FileSystemWrapper whose writable files fail on demand.
#pragma once

#include "fault_injection.hpp"

#include <rocksdb/env.h>

#include <memory>

namespace perdure::storage {

/// An Env over the default file system that consults `faults` before every write.
std::unique_ptr<rocksdb::Env> make_fault_env(std::shared_ptr<write_faults> faults);

}  // namespace perdure::storage
