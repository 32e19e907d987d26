// Options that keep a failing disk or a damaged write-ahead log from costing acknowledged commits
// or the process: which WAL damage recovery tolerates, an info log that survives a full disk and
// reports WAL damage, and no automatic resume after a failed write.
#pragma once

#include <perdure/storage/store.hpp>

#include <rocksdb/options.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

namespace perdure::storage {

/// The first damage RocksDB reported while replaying a WAL (its Status does not name the file;
/// its info log does): "<file>: dropping N bytes; Corruption: ...", or empty.
class wal_damage_report {
 public:
  std::string first() const {
    std::lock_guard lock(mutex_);
    return first_;
  }
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    if (first_.empty()) first_ = std::move(line);
  }

 private:
  mutable std::mutex mutex_;
  std::string first_;
};

/// Sets on `options`, before DB::Open of the hub in `dir`:
/// - recovery tolerates only a torn last record (a write that never returned, so was never
///   acknowledged); any other damage fails the open, where RocksDB's default (point-in-time
///   recovery) silently drops every later commit, acknowledged ones included; unless `on_damage`
///   is drop_after, which is that point-in-time recovery, asked for;
/// - the info log (`dir`/LOG, the previous one kept as LOG.old) writes each line with write(2) and
///   drops lines a full disk has no room for: RocksDB's own writes through a file writer that, in
///   Debian's build with assertions, aborts the process on the first line after a failed one
///   (`sync_without_flush_called_`), which a full disk makes the line reporting the failure;
///   it feeds the returned damage report;
/// - no automatic resume after a background error such as a full disk: RocksDB would go on
///   writing into the WAL whose last append failed half-way, leaving damage in its middle.
std::shared_ptr<wal_damage_report> guard_open_options(rocksdb::DBOptions& options, const std::filesystem::path& dir,
                                                      wal_damage on_damage);

}  // namespace perdure::storage
