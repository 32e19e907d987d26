// The exceptions Perdure's public API throws. All derive from perdure::error (error_code.hpp),
// which carries the kind of failure as a std::error_code: each class below stands for exactly one
// perdure::errc (storage::store_error, declared with the store, carries a storage::errc).
#pragma once

#include <perdure/error_code.hpp>
#include <perdure/history.hpp>

#include <string>

namespace perdure {

/// An activity or sub-orchestration failed (after its retries). Orchestrations catch it to
/// compensate; uncaught, it fails the orchestration with the same details.
class task_failed : public error {
 public:
  task_failed(std::string task_name, failure_details failure, std::string last_heartbeat_details = {})
      : error(errc::task_failed, "task '" + task_name + "' failed: " + failure.error_type + ": " + failure.message),
        task_name_(std::move(task_name)),
        failure_(std::move(failure)),
        last_heartbeat_details_(std::move(last_heartbeat_details)) {}
  const std::string& task_name() const noexcept { return task_name_; }
  const failure_details& failure() const noexcept { return failure_; }
  /// An activity's last heartbeat before it failed (JSON; empty if it sent none), as Temporal's
  /// TimeoutError.last_heartbeat_details. A retry hands it to the next attempt.
  const std::string& last_heartbeat_details() const noexcept { return last_heartbeat_details_; }

 private:
  std::string task_name_;
  failure_details failure_;
  std::string last_heartbeat_details_;
};

/// The orchestration's code no longer matches its history.
class nondeterminism_error : public error {
 public:
  nondeterminism_error(size_t position, std::string in_history, std::string in_code)
      : error(errc::nondeterminism, "non-deterministic orchestration at history position " + std::to_string(position) +
              ": the history holds " + in_history + " but the code did " + in_code),
        position_(position),
        in_history_(std::move(in_history)),
        in_code_(std::move(in_code)) {}
  size_t position() const noexcept { return position_; }
  const std::string& in_history() const noexcept { return in_history_; }
  const std::string& in_code() const noexcept { return in_code_; }

 private:
  size_t position_;
  std::string in_history_;
  std::string in_code_;
};

/// No orchestration or activity is registered under that name.
class unknown_function_error : public error {
 public:
  explicit unknown_function_error(const std::string& message) : error(errc::unknown_function, message) {}
};

/// No orchestration is registered under that name (the executor's constructor throws it).
class unknown_orchestration_error : public unknown_function_error {
 public:
  using unknown_function_error::unknown_function_error;
};

/// The orchestration is registered, but not in the version an instance runs (or a start asked
/// for). A running instance waits for a node that has it rather than fail (docs/programming-model.md,
/// "Changing code under running instances").
class orchestration_version_unavailable : public unknown_orchestration_error {
 public:
  orchestration_version_unavailable(std::string name, int32_t version, const std::string& registered)
      : unknown_orchestration_error("orchestration '" + name + "' version " + std::to_string(version) +
                                    " is not registered on this node (registered: " + registered +
                                    "); deploy a node that registers it"),
        name_(std::move(name)),
        version_(version) {}
  const std::string& name() const noexcept { return name_; }
  int32_t version() const noexcept { return version_; }

 private:
  std::string name_;
  int32_t version_;
};

/// A payload could not be encoded or decoded to the type the code asked for.
class payload_error : public error {
 public:
  explicit payload_error(const std::string& message) : error(errc::payload, message) {}
};

/// Client-side errors about instances.
class instance_not_found : public error {
 public:
  explicit instance_not_found(const std::string& instance_id)
      : error(errc::instance_not_found, "no orchestration instance '" + instance_id + "'") {}
};
class instance_already_exists : public error {
 public:
  explicit instance_already_exists(const std::string& instance_id)
      : error(errc::instance_already_exists,
              "orchestration instance '" + instance_id + "' already exists and is not finished") {}
};
/// A command (terminate, raise an event, suspend, resume) for an instance that has already ended
/// (completed, failed or terminated): nothing was done. HTTP answers 410 Gone.
class instance_finished : public error {
 public:
  explicit instance_finished(const std::string& message) : error(errc::instance_finished, message) {}
};
/// A completion by task token (client::complete_activity, fail_activity) for an attempt that is no
/// longer open: it was completed or failed already (a second completion is refused), it timed out,
/// or its execution was replaced (continue-as-new). Nothing was done. HTTP answers 409 Conflict.
class activity_not_open : public error {
 public:
  explicit activity_not_open(const std::string& message) : error(errc::activity_not_open, message) {}
};
/// A rewind of an instance that has not failed, or a restart of one that has not ended: nothing was
/// done. HTTP answers 409 Conflict.
class instance_status_conflict : public error {
 public:
  explicit instance_status_conflict(const std::string& message) : error(errc::instance_status_conflict, message) {}
};
class invalid_argument_error : public error {
 public:
  explicit invalid_argument_error(const std::string& message) : error(errc::invalid_argument, message) {}
};
class timeout_error : public error {
 public:
  explicit timeout_error(const std::string& message) : error(errc::timeout, message) {}
};
/// The node that owns the instance's partition (or holds part of a listing) cannot be reached
/// now; the same call succeeds once it is back.
class unavailable_error : public error {
 public:
  explicit unavailable_error(const std::string& message) : error(errc::unavailable, message) {}
};
/// The node's store could not read or write what the call needed: an I/O error, or a record that
/// cannot be decoded (the message names its key). Other instances are not affected.
class storage_failure : public error {
 public:
  explicit storage_failure(const std::string& message) : error(errc::storage_failure, message) {}
};

/// A node cannot listen where it was told to (the management API's --http-port, a cluster
/// member's address): the port is taken, or the address is not this machine's. The message names
/// the address and port.
class listen_error : public error {
 public:
  explicit listen_error(const std::string& message) : error(errc::cannot_listen, message) {}
};

}  // namespace perdure
