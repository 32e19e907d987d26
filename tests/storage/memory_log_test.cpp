#include "log_contract.hpp"

#include <memory_log.hpp>

#include <memory>

using namespace perdure;
using storage::memory_log;

namespace {

// Handles that share one memory_log, as nodes share one stream.
struct shared_handle final : storage::partition_log {
  std::shared_ptr<memory_log> log;
  uint64_t append(std::string_view b, uint64_t e, std::string_view id) override { return log->append(b, e, id); }
  uint64_t last_seq() override { return log->last_seq(); }
  std::vector<storage::log_record> read(uint64_t from, size_t max) override { return log->read(from, max); }
  size_t max_record_bytes() const override { return log->max_record_bytes(); }
  void trim_before(uint64_t seq) override { log->trim_before(seq); }
  uint64_t first_seq() override { return log->first_seq(); }
};

}  // namespace

TEST_CASE("memory_log keeps the partition_log contract") {
  auto log = std::make_shared<memory_log>();
  testing_support::check_log_contract([&] {
    auto handle = std::make_unique<shared_handle>();
    handle->log = log;
    return handle;
  });
}

TEST_CASE("memory_log: an append whose acknowledgement was lost is stored once when retried") {
  memory_log log;
  log.inject(memory_log::fault::lost_after_append);
  CHECK(testing_support::append_error(log, "batch", 0, "r-1") == storage::errc::unavailable);
  CHECK(log.last_seq() == 1);
  CHECK(log.append("batch", 0, "r-1") == 1);
  CHECK(log.read(1, 10).size() == 1);
}

TEST_CASE("memory_log: an append lost before it reached the log is stored by the retry") {
  memory_log log;
  log.inject(memory_log::fault::lost_before_append, 2);
  CHECK(testing_support::append_error(log, "batch", 0, "r-1") == storage::errc::unavailable);
  CHECK(testing_support::append_error(log, "batch", 0, "r-1") == storage::errc::unavailable);
  CHECK(log.last_seq() == 0);
  CHECK(log.append("batch", 0, "r-1") == 1);
}
