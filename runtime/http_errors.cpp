#include "http_errors.hpp"

#include "actors/client_errors.hpp"

#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

#include <new>

namespace perdure {
namespace {

// A node found unreachable is re-tried by its peers' heartbeats every second or so; a client that
// comes back after a few seconds finds it back or gets the same answer cheaply.
constexpr int unavailable_retry_seconds = 5;

}  // namespace

api_error api_error_of(errc code, const std::string& message) {
  switch (code) {
    case errc::invalid_argument: return {400, "InvalidArgument", message};
    case errc::payload: return {400, "InvalidPayload", message};
    case errc::unknown_function: return {404, "OrchestrationNotFound", message};
    case errc::instance_not_found: return {404, "InstanceNotFound", message};
    case errc::instance_already_exists: return {409, "InstanceAlreadyExists", message};
    case errc::instance_finished: return {410, "InstanceFinished", message};
    case errc::activity_not_open: return {409, "ActivityNotOpen", message};
    case errc::instance_status_conflict: return {409, "InstanceStatusConflict", message};
    case errc::unavailable: return {503, "Unavailable", message, unavailable_retry_seconds};
    case errc::timeout: return {504, "Timeout", message};
    case errc::storage_failure: return {500, "StorageError", message};
    case errc::failed:
    case errc::task_failed:
    case errc::nondeterminism:
    case errc::cannot_listen: break;
  }
  return {500, "InternalError", message};
}

api_error map_exception(std::exception_ptr failure) noexcept {
  try {
    std::rethrow_exception(failure);
  } catch (const http_error& e) {
    return {e.status(), e.code(), e.what(), e.retry_after_seconds()};
  } catch (const error& e) {  // a store_error too: client_errc_of is the one mapping of store failures
    return api_error_of(actors::client_errc_of(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return {500, "InternalError", "out of memory"};
  } catch (const std::exception& e) {
    return {500, "InternalError", e.what()};
  } catch (...) {
    return {500, "InternalError", "unknown exception"};
  }
}

std::string error_body(const std::string& code, const std::string& message) {
  // Messages may quote user input that is not UTF-8; replace rather than throw while reporting.
  return nlohmann::json{{"error", code}, {"message", message}}.dump(-1, ' ', false,
                                                                    nlohmann::json::error_handler_t::replace);
}

}  // namespace perdure
