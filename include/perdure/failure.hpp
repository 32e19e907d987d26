// Turning exceptions into the failure_details recorded in histories.
#pragma once

#include <perdure/history.hpp>

#include <exception>

namespace perdure {

/// error_type is the demangled type of the exception ("std::runtime_error", "perdure::payload_error"),
/// message its what(). A perdure::task_failed keeps the failure it carries (so an uncaught activity
/// failure fails the orchestration with the activity's details) and names the task in `details`.
/// payload_error and unknown_function_error are marked non_retriable: a retry cannot fix them.
failure_details to_failure_details(std::exception_ptr error);

}  // namespace perdure
