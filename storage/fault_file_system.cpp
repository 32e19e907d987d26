#include "fault_file_system.hpp"

#include <rocksdb/file_system.h>

#include <mutex>

namespace perdure::storage {
namespace {

std::mutex installed_mutex;
std::shared_ptr<write_faults> installed;

rocksdb::IOStatus injected(write_faults& faults) {
  faults.count_failure();
  return rocksdb::IOStatus::IOError("injected write fault");
}

class fault_file final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  fault_file(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<write_faults> faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(std::move(faults)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  std::shared_ptr<write_faults> faults_;
};

class fault_file_system final : public rocksdb::FileSystemWrapper {
 public:
  explicit fault_file_system(std::shared_ptr<write_faults> faults)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), faults_(std::move(faults)) {}

  const char* Name() const override { return "PerdureFaultFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return wrap(FileSystemWrapper::NewWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return wrap(FileSystemWrapper::ReopenWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    if (faults_->failing()) return injected(*faults_);
    return wrap(FileSystemWrapper::ReuseWritableFile(name, old_name, options, result, dbg), result);
  }

 private:
  rocksdb::IOStatus wrap(rocksdb::IOStatus opened, std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (!opened.ok()) return opened;
    *result = std::make_unique<fault_file>(std::move(*result), faults_);
    return opened;
  }

  std::shared_ptr<write_faults> faults_;
};

}  // namespace

void install_write_faults(std::shared_ptr<write_faults> faults) {
  std::lock_guard lock(installed_mutex);
  installed = std::move(faults);
}

std::shared_ptr<write_faults> installed_write_faults() {
  std::lock_guard lock(installed_mutex);
  return installed;
}

std::unique_ptr<rocksdb::Env> make_fault_env(std::shared_ptr<write_faults> faults) {
  return rocksdb::NewCompositeEnv(std::make_shared<fault_file_system>(std::move(faults)));
}

}  // namespace perdure::storage
