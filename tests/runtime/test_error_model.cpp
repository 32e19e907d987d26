// One error model: every perdure::error carries its kind (perdure::errc, or storage::errc for a
// store_error), the wire form between actors keeps it, and the HTTP API answers by it.
#include "actors/client_errors.hpp"
#include "actors/protocol.hpp"
#include "runtime/http_errors.hpp"

#include <perdure/errors.hpp>
#include <perdure/storage/store.hpp>

#include <caf/error.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace perdure;

namespace {

constexpr errc every_errc[] = {errc::failed,
                               errc::invalid_argument,
                               errc::payload,
                               errc::unknown_function,
                               errc::instance_not_found,
                               errc::instance_already_exists,
                               errc::instance_finished,
                               errc::task_failed,
                               errc::nondeterminism,
                               errc::timeout,
                               errc::unavailable,
                               errc::storage_failure,
                               errc::cannot_listen,
                               errc::activity_not_open,
                               errc::instance_status_conflict};

// The code of what `fn` throws, which must be a perdure::error.
std::error_code code_thrown(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const error& e) {
    return e.code();
  }
  FAIL("nothing was thrown");
  return {};
}

api_error http_answer(const std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    return map_exception(std::current_exception());
  }
  FAIL("nothing was thrown");
  return {};
}

}  // namespace

TEST_CASE("every exception class carries its own perdure::errc") {
  CHECK(error("x").code() == errc::failed);
  CHECK(task_failed("Charge", failure_details{"E", "m", "", false}).code() == errc::task_failed);
  CHECK(nondeterminism_error(3, "TaskScheduled", "a timer").code() == errc::nondeterminism);
  CHECK(unknown_function_error("x").code() == errc::unknown_function);
  CHECK(unknown_orchestration_error("x").code() == errc::unknown_function);
  CHECK(payload_error("x").code() == errc::payload);
  CHECK(instance_not_found("i").code() == errc::instance_not_found);
  CHECK(instance_already_exists("i").code() == errc::instance_already_exists);
  CHECK(instance_finished("x").code() == errc::instance_finished);
  CHECK(invalid_argument_error("x").code() == errc::invalid_argument);
  CHECK(timeout_error("x").code() == errc::timeout);
  CHECK(unavailable_error("x").code() == errc::unavailable);
  CHECK(storage_failure("x").code() == errc::storage_failure);
  CHECK(listen_error("x").code() == errc::cannot_listen);
  CHECK(activity_not_open("x").code() == errc::activity_not_open);
  CHECK(instance_status_conflict("x").code() == errc::instance_status_conflict);
}

TEST_CASE("perdure::errc is a std::error_code enum of category perdure, with a message per value") {
  std::vector<std::string> messages;
  for (auto code : every_errc) {
    const std::error_code ec = code;  // implicit, as for std::errc-like enums
    CHECK(ec.category().name() == std::string("perdure"));
    CHECK(ec.value() == static_cast<int>(code));
    CHECK(ec.message().find("unknown perdure error") == std::string::npos);
    messages.push_back(ec.message());
  }
  std::sort(messages.begin(), messages.end());
  CHECK(std::unique(messages.begin(), messages.end()) == messages.end());
}

TEST_CASE("a store_error is a perdure::error whose code is its storage::errc") {
  const storage::store_error e(storage::errc::corrupt_record, "bad bytes under key x");
  const error& as_error = e;
  CHECK(e.code() == storage::errc::corrupt_record);  // the storage API callers already use
  CHECK(as_error.code() == storage::errc::corrupt_record);
  CHECK(as_error.code().category().name() == std::string("perdure.storage"));
  CHECK(as_error.code() != errc::storage_failure);  // another category: the client's kind is mapped
  CHECK(std::string(as_error.what()) == "bad bytes under key x");
}

TEST_CASE("the one mapping of store errors: the store's argument checks are the caller's, its failures storage_failure") {
  using storage::errc;
  CHECK(actors::client_errc_of(errc::invalid_argument) == perdure::errc::invalid_argument);
  CHECK(actors::client_errc_of(errc::payload_too_large) == perdure::errc::invalid_argument);
  CHECK(actors::client_errc_of(errc::not_terminal) == perdure::errc::invalid_argument);
  CHECK(actors::client_errc_of(errc::partition_count_mismatch) == perdure::errc::invalid_argument);
  CHECK(actors::client_errc_of(errc::not_found) == perdure::errc::instance_not_found);
  CHECK(actors::client_errc_of(errc::fenced) == perdure::errc::unavailable);
  CHECK(actors::client_errc_of(errc::unavailable) == perdure::errc::unavailable);
  CHECK(actors::client_errc_of(errc::io_error) == perdure::errc::storage_failure);
  CHECK(actors::client_errc_of(errc::corrupt_record) == perdure::errc::storage_failure);
  // Any perdure::error's code: its own kind, a store's through the mapping, anything else failed.
  CHECK(actors::client_errc_of(make_error_code(perdure::errc::instance_finished)) == perdure::errc::instance_finished);
  CHECK(actors::client_errc_of(make_error_code(errc::corrupt_record)) == perdure::errc::storage_failure);
  CHECK(actors::client_errc_of(std::make_error_code(std::errc::io_error)) == perdure::errc::failed);
}

TEST_CASE("a store failure read for a client becomes the client's exception, naming what the store said") {
  const auto corrupt = [] {
    actors::client_read("victim", []() -> int {
      throw storage::store_error(storage::errc::corrupt_record, "corrupt instance record under key 'victim'");
    });
  };
  CHECK_THROWS_AS(corrupt(), storage_failure);
  CHECK_THROWS_WITH(corrupt(), "corrupt instance record under key 'victim'");
  CHECK_THROWS_AS(actors::client_read("", []() -> int {
                    throw storage::store_error(storage::errc::invalid_argument, "bad continuation token");
                  }),
                  invalid_argument_error);
  CHECK(actors::client_read("x", [] { return 7; }) == 7);
}

TEST_CASE("every kind a client can be told survives the wire as client_errc and comes back as its class") {
  for (auto code : every_errc) {
    CAPTURE(static_cast<int>(code));
    const auto wire = actors::to_client_errc(code);
    const auto back = actors::to_errc(wire);
    // Kinds a node never answers with (they carry more than a message, or are not a call's
    // outcome) travel as `failed`; a payload error is the caller's invalid argument.
    if (code == errc::payload) {
      CHECK(back == errc::invalid_argument);
    } else if (wire == actors::client_errc::failed) {
      CHECK(back == errc::failed);
    } else {
      CHECK(back == code);
    }
    CHECK(code_thrown([&] {
            actors::throw_client_error(actors::make_client_error(wire, "text"), "id-1");
          }) == back);
  }
  // What the partition answers a command for an instance that has ended.
  const std::string ended = "orchestration instance 'X' has already ended (completed)";
  const caf::error finished = actors::make_client_error(actors::client_errc::instance_finished, ended);
  CHECK_THROWS_AS(actors::throw_client_error(finished, "X"), instance_finished);
  CHECK_THROWS_WITH(actors::throw_client_error(finished, "X"), ended.c_str());
  CHECK_THROWS_AS(actors::throw_client_error(actors::make_client_error(actors::client_errc::not_found, "?"), "X"),
                  instance_not_found);
  CHECK_THROWS_AS(actors::throw_client_error(actors::make_client_error(actors::client_errc::busy, "busy"), "X"),
                  unavailable_error);
}

TEST_CASE("an exception met serving a client becomes the client error of its kind") {
  const auto wire_of = [](std::exception_ptr failure) {
    const caf::error err = actors::make_client_error(failure);
    CHECK(err.category() == caf::atom("perdure"));
    return static_cast<actors::client_errc>(err.code());
  };
  CHECK(wire_of(std::make_exception_ptr(storage::store_error(storage::errc::corrupt_record, "k"))) ==
        actors::client_errc::storage_failure);
  CHECK(wire_of(std::make_exception_ptr(storage::store_error(storage::errc::invalid_argument, "k"))) ==
        actors::client_errc::invalid_argument);
  CHECK(wire_of(std::make_exception_ptr(instance_finished("x"))) == actors::client_errc::instance_finished);
  CHECK(wire_of(std::make_exception_ptr(instance_status_conflict("x"))) == actors::client_errc::status_conflict);
  CHECK(wire_of(std::make_exception_ptr(std::runtime_error("boom"))) == actors::client_errc::failed);
  CHECK(wire_of(std::make_exception_ptr(42)) == actors::client_errc::failed);
}

TEST_CASE("HTTP answers by the kind of the failure") {
  struct expected {
    std::function<void()> fn;
    int status;
    std::string code;
  };
  const std::vector<expected> cases = {
      {[] { throw instance_finished("orchestration instance 'X' has already ended (completed)"); }, 410,
       "InstanceFinished"},
      {[] { throw instance_not_found("X"); }, 404, "InstanceNotFound"},
      {[] { throw instance_already_exists("X"); }, 409, "InstanceAlreadyExists"},
      {[] { throw activity_not_open("X"); }, 409, "ActivityNotOpen"},
      {[] { throw instance_status_conflict("orchestration instance 'X' is Completed"); }, 409, "InstanceStatusConflict"},
      {[] { throw unknown_function_error("x"); }, 404, "OrchestrationNotFound"},
      {[] { throw invalid_argument_error("x"); }, 400, "InvalidArgument"},
      {[] { throw payload_error("x"); }, 400, "InvalidPayload"},
      {[] { throw unavailable_error("x"); }, 503, "Unavailable"},
      {[] { throw timeout_error("x"); }, 504, "Timeout"},
      {[] { throw storage_failure("x"); }, 500, "StorageError"},
      {[] { throw storage::store_error(storage::errc::corrupt_record, "x"); }, 500, "StorageError"},
      {[] { throw storage::store_error(storage::errc::io_error, "x"); }, 500, "StorageError"},
      {[] { throw storage::store_error(storage::errc::invalid_argument, "x"); }, 400, "InvalidArgument"},
      {[] { throw storage::store_error(storage::errc::payload_too_large, "x"); }, 400, "InvalidArgument"},
      {[] { throw error("x"); }, 500, "InternalError"},
      {[] { throw std::runtime_error("x"); }, 500, "InternalError"},
  };
  for (const auto& c : cases) {
    const api_error answer = http_answer(c.fn);
    CAPTURE(c.code);
    CHECK(answer.status == c.status);
    CHECK(answer.code == c.code);
  }
  CHECK(http_answer(cases.front().fn).message == "orchestration instance 'X' has already ended (completed)");
  CHECK(http_answer([] { throw unavailable_error("x"); }).retry_after_seconds > 0);
}
