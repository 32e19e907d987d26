#include "client_errors.hpp"

namespace perdure::actors {

errc client_errc_of(storage::errc code) noexcept {
  switch (code) {
    case storage::errc::invalid_argument:
    case storage::errc::payload_too_large:
    case storage::errc::not_terminal:
    case storage::errc::partition_count_mismatch: return errc::invalid_argument;
    case storage::errc::not_found: return errc::instance_not_found;
    case storage::errc::fenced:
    case storage::errc::unavailable: return errc::unavailable;
    case storage::errc::io_error:
    case storage::errc::corrupt_record:
    case storage::errc::log_lost_records: return errc::storage_failure;
  }
  return errc::storage_failure;
}

errc client_errc_of(const std::error_code& code) noexcept {
  if (code.category() == error_category()) return static_cast<errc>(code.value());
  if (code.category() == storage::store_category()) return client_errc_of(static_cast<storage::errc>(code.value()));
  return errc::failed;
}

void throw_error(errc code, const std::string& message, const std::string& instance_id) {
  switch (code) {
    case errc::invalid_argument: throw invalid_argument_error(message);
    case errc::payload: throw payload_error(message);
    case errc::unknown_function: throw unknown_function_error(message);
    case errc::instance_not_found: throw instance_not_found(instance_id);
    case errc::instance_already_exists: throw instance_already_exists(instance_id);
    case errc::instance_finished: throw instance_finished(message);
    case errc::instance_status_conflict: throw instance_status_conflict(message);
    case errc::timeout: throw timeout_error(message);
    case errc::unavailable: throw unavailable_error(message);
    case errc::storage_failure: throw storage_failure(message);
    case errc::cannot_listen: throw listen_error(message);
    case errc::activity_not_open: throw activity_not_open(message);
    // task_failed and nondeterminism_error carry more than a message, which a client never gets:
    // it sees their text as a failure of no more specific kind.
    case errc::task_failed:
    case errc::nondeterminism:
    case errc::failed: break;
  }
  throw error(message);
}

}  // namespace perdure::actors
