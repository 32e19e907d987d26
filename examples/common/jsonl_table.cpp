#include "jsonl_table.hpp"

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace examples {

namespace {
[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& file) {
  throw std::system_error(errno, std::generic_category(), what + " " + file.string());
}
}  // namespace

jsonl_table::file_lock::file_lock(int fd) : fd_(fd) {
  while (::flock(fd_, LOCK_EX) != 0)
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "flock");
}

jsonl_table::file_lock::~file_lock() { ::flock(fd_, LOCK_UN); }

jsonl_table::jsonl_table(std::filesystem::path file, std::string key_field)
    : file_(std::move(file)), key_field_(std::move(key_field)) {
  if (file_.has_parent_path()) std::filesystem::create_directories(file_.parent_path());
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno("cannot open", file_);
  drop_torn_tail();
}

// A process killed inside write() can leave a partial last line; later appends would extend it
// into garbage, so it goes.
void jsonl_table::drop_torn_tail() {
  file_lock lock(fd_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", file_);
  off_t end = st.st_size;
  char c = '\n';
  while (end > 0) {
    if (::pread(fd_, &c, 1, end - 1) != 1) throw_errno("cannot read", file_);
    if (c == '\n') break;
    --end;
  }
  if (end != st.st_size && ::ftruncate(fd_, end) != 0) throw_errno("cannot truncate", file_);
}

jsonl_table::~jsonl_table() { ::close(fd_); }

std::string jsonl_table::key_of(const json& row) const {
  auto key = row.find(key_field_);
  if (key == row.end() || !key->is_string())
    throw std::invalid_argument(file_.string() + ": row without a string '" + key_field_ + "': " + row.dump());
  return key->get<std::string>();
}

// Only whole lines are applied: a writer appends a line with one write() while holding the lock.
void jsonl_table::catch_up() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", file_);
  if (st.st_size <= offset_) return;
  std::string text(static_cast<size_t>(st.st_size - offset_), '\0');
  ssize_t got = ::pread(fd_, text.data(), text.size(), offset_);
  if (got < 0) throw_errno("cannot read", file_);
  text.resize(static_cast<size_t>(got));
  size_t start = 0;
  for (size_t eol; (eol = text.find('\n', start)) != std::string::npos; start = eol + 1) {
    json row = json::parse(text.begin() + static_cast<std::ptrdiff_t>(start),
                           text.begin() + static_cast<std::ptrdiff_t>(eol));
    std::string key = key_of(row);
    rows_[std::move(key)] = std::move(row);
  }
  offset_ += static_cast<off_t>(start);
}

void jsonl_table::append(const json& row) {
  std::string key = key_of(row);
  std::string line = row.dump() + '\n';
  ssize_t written = ::write(fd_, line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) throw_errno("cannot append to", file_);
  offset_ += written;
  rows_[std::move(key)] = row;
}

std::optional<jsonl_table::json> jsonl_table::view::get(const std::string& key) const {
  auto it = table_.rows_.find(key);
  if (it == table_.rows_.end()) return std::nullopt;
  return it->second;
}

const std::map<std::string, jsonl_table::json>& jsonl_table::view::rows() const { return table_.rows_; }

bool jsonl_table::view::insert(const json& row) {
  if (table_.rows_.contains(table_.key_of(row))) return false;
  table_.append(row);
  return true;
}

void jsonl_table::view::put(const json& row) {
  auto current = table_.rows_.find(table_.key_of(row));
  if (current == table_.rows_.end() || current->second != row) table_.append(row);
}

std::optional<jsonl_table::json> jsonl_table::get(const std::string& key) {
  return transact([&](view& v) { return v.get(key); });
}

std::map<std::string, jsonl_table::json> jsonl_table::rows() {
  return transact([](view& v) { return v.rows(); });
}

bool jsonl_table::insert(const json& row) {
  return transact([&](view& v) { return v.insert(row); });
}

void jsonl_table::put(const json& row) {
  transact([&](view& v) { v.put(row); });
}

std::vector<jsonl_table::json> jsonl_table::log() {
  std::lock_guard guard(mutex_);
  file_lock lock(fd_);
  std::ifstream in(file_);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace examples
