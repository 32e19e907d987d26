// A JSON-lines file used as a small keyed table: the "external systems" of the examples (payment
// gateway, inventory, outbox, warehouse sink, firewall) are real files you can `cat`.
//
// Every change appends one line (one write() under the lock); a key's current row is its last line,
// so the file doubles as an audit log. Safe across threads and processes: each operation takes an
// in-process mutex and a flock(2), and first reads the lines other writers appended since.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace examples {

class jsonl_table {
 public:
  using json = nlohmann::json;

  /// The table while locked: read-modify-write operations run against one.
  class view {
   public:
    std::optional<json> get(const std::string& key) const;
    const std::map<std::string, json>& rows() const;
    /// Appends `row` unless its key exists; false if it did (so a retried call changes nothing).
    bool insert(const json& row);
    /// Makes `row` its key's current row; appends nothing if it already is.
    void put(const json& row);

   private:
    friend class jsonl_table;
    explicit view(jsonl_table& table) : table_(table) {}
    jsonl_table& table_;
  };

  /// Opens (creating) `file`; every row is an object whose `key_field` is a string.
  jsonl_table(std::filesystem::path file, std::string key_field);
  ~jsonl_table();
  jsonl_table(const jsonl_table&) = delete;
  jsonl_table& operator=(const jsonl_table&) = delete;

  /// Runs fn(view&) with the table locked against other threads and processes.
  template <class F>
  decltype(auto) transact(F&& fn) {
    std::lock_guard guard(mutex_);
    file_lock lock(fd_);
    catch_up();
    view v(*this);
    return fn(v);
  }

  std::optional<json> get(const std::string& key);
  std::map<std::string, json> rows();
  bool insert(const json& row);
  void put(const json& row);
  /// Every line ever appended, oldest first.
  std::vector<json> log();

 private:
  class file_lock {
   public:
    explicit file_lock(int fd);
    ~file_lock();
    file_lock(const file_lock&) = delete;
    file_lock& operator=(const file_lock&) = delete;

   private:
    int fd_;
  };

  void drop_torn_tail();
  void catch_up();
  void append(const json& row);
  std::string key_of(const json& row) const;

  std::filesystem::path file_;
  std::string key_field_;
  int fd_ = -1;
  off_t offset_ = 0;  // bytes of the file already applied to rows_
  std::map<std::string, json> rows_;
  std::mutex mutex_;
};

}  // namespace examples
