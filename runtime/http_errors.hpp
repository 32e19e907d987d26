// How the management API reports errors: every failure becomes one status code and a JSON body
// {"error": <code>, "message": <text>}. The mapping from exceptions lives here, in one place.
#pragma once

#include <perdure/error_code.hpp>

#include <exception>
#include <stdexcept>
#include <string>

namespace perdure {

/// A request the API refuses before reaching the client (bad parameter, malformed body, ...).
class http_error : public std::runtime_error {
 public:
  /// `retry_after_seconds`, when positive, is sent as Retry-After (a 503 that will pass).
  http_error(int status, std::string code, const std::string& message, int retry_after_seconds = 0)
      : std::runtime_error(message), status_(status), code_(std::move(code)), retry_after_seconds_(retry_after_seconds) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  int retry_after_seconds() const noexcept { return retry_after_seconds_; }

 private:
  int status_;
  std::string code_;
  int retry_after_seconds_;
};

struct api_error {
  int status = 500;
  std::string code;  // stable, machine-readable: "InstanceNotFound", "InvalidArgument", ...
  std::string message;
  int retry_after_seconds = 0;  // sent as Retry-After when positive (a 503 that will pass)
  bool internal() const noexcept { return status >= 500 && status != 503; }
};

/// The response to a failure of kind `code` (410 InstanceFinished for a command to an instance
/// that has ended, 500 StorageError for a record the store cannot read, ...).
api_error api_error_of(errc code, const std::string& message);

/// Maps an exception thrown while serving a request to the response it deserves: an http_error as
/// it says, a perdure::error by its kind (store failures through actors::client_errc_of).
api_error map_exception(std::exception_ptr failure) noexcept;

/// The JSON error body.
std::string error_body(const std::string& code, const std::string& message);

}  // namespace perdure
