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

/// Writes `value` under `key` in the column family `cf_name` of the hub in `dir`, which must be
/// closed.
inline void put_raw(const std::filesystem::path& dir, const std::string& cf_name, const std::string& key,
                    const std::string& value) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions{}, dir.string(), cfs, &handles, &db).ok());
  bool found = false;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != cf_name) continue;
    found = true;
    CHECK(db->Put(rocksdb::WriteOptions{}, handles[i], key, value).ok());
  }
  CHECK_MESSAGE(found, "no column family '" << cf_name << "' in " << dir);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  delete db;
}

/// Every key and value of the closed hub in `dir` that belongs to `partition` (keys starting
/// with its 4-byte big-endian number), by column family name, in key order.
using raw_keys = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;
inline raw_keys raw_partition_keys(const std::filesystem::path& dir, uint32_t partition) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions{}, dir.string(), cfs, &handles, &db).ok());
  const std::string prefix{static_cast<char>(partition >> 24), static_cast<char>(partition >> 16),
                           static_cast<char>(partition >> 8), static_cast<char>(partition)};
  raw_keys out;
  for (size_t i = 0; i < names.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions{}, handles[i]));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      out[names[i]].emplace_back(it->key().ToString(), it->value().ToString());
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  delete db;
  return out;
}

}  // namespace perdure::storage::test
