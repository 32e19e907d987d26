// The CLI's exit codes (docs/cli.md): scripts rely on them, so their values never change.
#pragma once

#include <stdexcept>
#include <string>

namespace perdure::cli {

enum class exit_code : int {
  ok = 0,
  failed = 1,       // the node could not do it (5xx), or `wait` saw the instance fail or be terminated
  usage = 2,        // bad flags or input (invalid JSON, id, time), or the node refused the input (400/413)
  not_found = 3,    // unknown instance or orchestration (404)
  unreachable = 4,  // no node answers at the endpoint, or its answer is not the management API's
  timeout = 5,      // `wait --timeout` elapsed, or the node timed out (504)
  conflict = 6,     // the instance already exists, or still runs; the activity attempt already ended (409)
  finished = 7,     // terminate, raise, suspend or resume of an instance that has already ended: nothing done (410)
  denied = 8,       // the node wants a token (401), or one with the admin role for a change (403): nothing done
  mismatch = 9,     // replay-check: the node's code no longer replays some instances' histories
};

/// Ends the command with a message for stderr and an exit code.
class failure : public std::runtime_error {
 public:
  failure(exit_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  exit_code code() const noexcept { return code_; }

 private:
  exit_code code_;
};

}  // namespace perdure::cli
