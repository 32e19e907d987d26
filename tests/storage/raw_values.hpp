// Bytes written under a key of a closed hub, past the store: how tests put a corrupt record (a bad
// disk, a bug in an older version) where the store will read it.
#pragma once

#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace perdure::storage::test {

/// A closed hub's RocksDB opened directly, every column family with it, closed at scope end.
struct raw_hub {
  std::vector<std::string> names;  // column family names, in the order of handles
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;

  raw_hub(const std::filesystem::path& dir, bool read_only) {
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, dir.string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
    const auto opened = read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions{}, dir.string(), cfs, &handles, &db)
                                  : rocksdb::DB::Open(rocksdb::DBOptions{}, dir.string(), cfs, &handles, &db);
    REQUIRE(opened.ok());
  }
  raw_hub(const raw_hub&) = delete;
  raw_hub& operator=(const raw_hub&) = delete;
  ~raw_hub() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
    delete db;
  }
};

/// Writes `value` under `key` in the column family `cf_name` of the hub in `dir`, which must be
/// closed.
inline void put_raw(const std::filesystem::path& dir, const std::string& cf_name, const std::string& key,
                    const std::string& value) {
  raw_hub hub(dir, /*read_only=*/false);
  bool found = false;
  for (size_t i = 0; i < hub.names.size(); ++i) {
    if (hub.names[i] != cf_name) continue;
    found = true;
    CHECK(hub.db->Put(rocksdb::WriteOptions{}, hub.handles[i], key, value).ok());
  }
  CHECK_MESSAGE(found, "no column family '" << cf_name << "' in " << dir);
}

/// Every key and value of the closed hub in `dir` that belongs to `partition` (keys starting
/// with its 4-byte big-endian number), by column family name, in key order.
using raw_keys = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;
inline raw_keys raw_partition_keys(const std::filesystem::path& dir, uint32_t partition) {
  raw_hub hub(dir, /*read_only=*/true);
  const std::string prefix{static_cast<char>(partition >> 24), static_cast<char>(partition >> 16),
                           static_cast<char>(partition >> 8), static_cast<char>(partition)};
  raw_keys out;
  for (size_t i = 0; i < hub.names.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(hub.db->NewIterator(rocksdb::ReadOptions{}, hub.handles[i]));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      out[hub.names[i]].emplace_back(it->key().ToString(), it->value().ToString());
  }
  return out;
}

}  // namespace perdure::storage::test
