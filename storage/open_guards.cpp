#include "open_guards.hpp"

#include <rocksdb/env.h>
#include <rocksdb/listener.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <unistd.h>

namespace perdure::storage {
namespace {

class info_log final : public rocksdb::Logger {
 public:
  info_log(const std::filesystem::path& dir, rocksdb::InfoLogLevel level, std::shared_ptr<wal_damage_report> report)
      : Logger(level), report_(std::move(report)) {
    std::error_code ignored;  // no previous LOG, or none to keep: a diagnostics file is no reason to stop
    std::filesystem::rename(dir / "LOG", dir / "LOG.old", ignored);
    fd_ = ::open((dir / "LOG").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  }
  ~info_log() override { close_file(); }
  info_log(const info_log&) = delete;
  info_log& operator=(const info_log&) = delete;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char text[2048];
    va_list copy;
    va_copy(copy, ap);
    const int length = std::vsnprintf(text, sizeof text, format, copy);
    va_end(copy);
    if (length < 0) return;
    const std::string_view message(text, std::min(static_cast<size_t>(length), sizeof text - 1));
    // The reporter of WAL replay (db_impl_open.cc): "[source:line] %s%s: dropping %d bytes; %s".
    if (std::strstr(format, ": dropping %d bytes; %s")) report_->add(std::string(without_source(message)));
    write_line(message);
  }

 protected:
  rocksdb::Status CloseImpl() override {
    close_file();
    return rocksdb::Status::OK();
  }

 private:
  /// Without the "[WARN] " and "[source:line] " prefixes.
  static std::string_view without_source(std::string_view line) {
    for (auto end = line.find("] "); line.starts_with('[') && end != std::string_view::npos; end = line.find("] "))
      line.remove_prefix(end + 2);
    return line;
  }

  void write_line(std::string_view message) {
    if (fd_ < 0) return;
    const auto now = std::chrono::system_clock::now();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[48];
    const size_t stamp_length = std::strftime(stamp, sizeof stamp, "%Y/%m/%d-%H:%M:%S", &utc);
    std::string line(stamp, stamp_length);
    line += "." + std::to_string(1'000'000 + micros % 1'000'000).substr(1) + " ";
    line.append(message).push_back('\n');
    if (const auto lost = lost_lines_.load(std::memory_order_relaxed); lost > 0)
      line.insert(0, "(" + std::to_string(lost) + " lines lost before this one: no room on the disk) ");
    // One write per line (O_APPEND: lines of several threads do not interleave). A line the disk
    // has no room for is lost, and counted: the failure that filled it reaches the writer as a store_error.
    if (::write(fd_, line.data(), line.size()) < 0)
      lost_lines_.fetch_add(1, std::memory_order_relaxed);
    else
      lost_lines_.store(0, std::memory_order_relaxed);
  }

  void close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  std::atomic<uint64_t> lost_lines_{0};
  std::shared_ptr<wal_damage_report> report_;
};

class no_automatic_resume final : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "PerdureNoAutomaticResume"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

}  // namespace

std::shared_ptr<wal_damage_report> guard_open_options(rocksdb::DBOptions& options, const std::filesystem::path& dir,
                                                      wal_damage on_damage) {
  options.wal_recovery_mode = on_damage == wal_damage::drop_after ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                                                                  : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options.listeners.push_back(std::make_shared<no_automatic_resume>());
  options.max_bgerror_resume_count = 0;  // the same for errors a file system marks retryable
  auto report = std::make_shared<wal_damage_report>();
  options.info_log = std::make_shared<info_log>(dir, options.info_log_level, report);
  return report;
}

}  // namespace perdure::storage
