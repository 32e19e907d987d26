#include "http_errors.hpp"

#include <perdure/errors.hpp>
#include <perdure/storage/store.hpp>

#include <nlohmann/json.hpp>

#include <new>

namespace perdure {
namespace {

// A node found unreachable is re-tried by its peers' heartbeats every second or so; a client that
// comes back after a few seconds finds it back or gets the same answer cheaply.
constexpr int unavailable_retry_seconds = 5;

}  // namespace

api_error map_exception(std::exception_ptr failure) noexcept {
  try {
    std::rethrow_exception(failure);
  } catch (const http_error& e) {
    return {e.status(), e.code(), e.what()};
  } catch (const instance_not_found& e) {
    return {404, "InstanceNotFound", e.what()};
  } catch (const instance_already_exists& e) {
    return {409, "InstanceAlreadyExists", e.what()};
  } catch (const unknown_function_error& e) {
    return {404, "OrchestrationNotFound", e.what()};
  } catch (const invalid_argument_error& e) {
    return {400, "InvalidArgument", e.what()};
  } catch (const payload_error& e) {
    return {400, "InvalidPayload", e.what()};
  } catch (const unavailable_error& e) {
    return {503, "Unavailable", e.what(), unavailable_retry_seconds};
  } catch (const timeout_error& e) {
    return {504, "Timeout", e.what()};
  } catch (const storage::store_error& e) {
    switch (e.code()) {
      case storage::errc::payload_too_large: return {413, "PayloadTooLarge", e.what()};
      case storage::errc::invalid_argument: return {400, "InvalidArgument", e.what()};
      case storage::errc::not_found: return {404, "InstanceNotFound", e.what()};
      case storage::errc::not_terminal: return {409, "InstanceNotTerminal", e.what()};
      default: return {500, "StorageError", e.what()};
    }
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
