// The error codes of Perdure's public API, and perdure::error, the base of every exception it
// throws, which carries one (error::code()): a caller can tell failures apart without a catch
// clause per class, and a code travels where an exception cannot: between actors and nodes, into
// an HTTP status, into the CLI's exit code. The exception classes are in errors.hpp.
//
// perdure::errc names the kind of failure a user of the API sees; storage::errc (declared with
// the store, include/perdure/storage/store.hpp) is the store's own, finer vocabulary.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace perdure {

/// One value per kind of failure; the exception class that carries it is named beside it. The
/// values are stable: logs and programs may keep them.
enum class errc {
  failed = 1,               // error: no more specific kind applies (the message says what failed)
  invalid_argument,         // invalid_argument_error: a bad instance id, event name, query, payload size, ...
  payload,                  // payload_error: a payload does not convert to the type the code asked for
  unknown_function,         // unknown_function_error, unknown_orchestration_error
  instance_not_found,       // instance_not_found
  instance_already_exists,  // instance_already_exists
  instance_finished,        // instance_finished: a command for an instance that has ended did nothing
  task_failed,              // task_failed: an activity or sub-orchestration failed after its retries
  nondeterminism,           // nondeterminism_error: the code no longer matches the history
  timeout,                  // timeout_error
  unavailable,              // unavailable_error: the owner of the instance cannot be reached now
  storage_failure,          // storage_failure: the node's store could not read or write a record
  cannot_listen,            // listen_error: a port is taken, or the address is not this machine's
  activity_not_open,        // activity_not_open: a task token's attempt already ended (completed, failed, timed out)
  instance_status_conflict, // instance_status_conflict: a rewind of an instance that has not failed, a restart of a running one
};

namespace detail {

class errc_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "perdure"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::failed: return "operation failed";
      case errc::invalid_argument: return "invalid argument";
      case errc::payload: return "payload cannot be converted";
      case errc::unknown_function: return "no orchestration or activity registered under that name";
      case errc::instance_not_found: return "orchestration instance not found";
      case errc::instance_already_exists: return "orchestration instance already exists and is not finished";
      case errc::instance_finished: return "orchestration instance has already ended";
      case errc::task_failed: return "task failed";
      case errc::nondeterminism: return "orchestration code does not match its history";
      case errc::timeout: return "timed out";
      case errc::unavailable: return "unavailable: the owner cannot be reached now";
      case errc::storage_failure: return "the store could not read or write a record";
      case errc::cannot_listen: return "cannot listen on the address";
      case errc::activity_not_open: return "the activity attempt has already ended";
      case errc::instance_status_conflict: return "the instance's status does not allow the command";
    }
    return "unknown perdure error " + std::to_string(code);
  }
};

}  // namespace detail

/// The category of perdure::errc, named "perdure".
inline const std::error_category& error_category() noexcept {
  static const detail::errc_category category;
  return category;
}

inline std::error_code make_error_code(errc code) noexcept { return {static_cast<int>(code), error_category()}; }

}  // namespace perdure

template <>
struct std::is_error_code_enum<perdure::errc> : std::true_type {};

namespace perdure {

/// The base of every exception Perdure's API throws.
class error : public std::runtime_error {
 public:
  /// A failure of no more specific kind (errc::failed).
  explicit error(const std::string& message) : error(errc::failed, message) {}
  error(std::error_code code, const std::string& message) : std::runtime_error(message), code_(code) {}

  /// The kind of failure: a perdure::errc, or a storage::errc for storage::store_error.
  const std::error_code& code() const noexcept { return code_; }

 private:
  std::error_code code_;
};

}  // namespace perdure
