// Random orchestrations for the torture test: a program is a small JSON data structure that one
// generic orchestration ("Program") interprets and that an oracle evaluates without running
// anything, so the expected final status and output of every instance are known in advance.
//
// program = {"steps": [step...], "rounds": R, "tail": "none" | "fail" | "forever"}
// step    = {"k":"act", "v":n, "mode":"ok"|"flaky"|"fail", "att":max_attempts}  -> v*2+1 or "F<v>"
//         | {"k":"timer", "ms":n}                                                -> "t"
//         | {"k":"event", "n":count}       (top level only; raised by the driver) -> [payloads]
//         | {"k":"sub", "p":program}       (no events, no "forever" tail)         -> its output or "SF"
//         | {"k":"all", "b":[act|timer|sub...]}   (when_all)                      -> [results]
//         | {"k":"any", "v":n}             (when_any of an activity and a 1 h timer) -> ["any", 0, v*2+1]
// With generation_options::more_steps (the differential test), also:
//         | {"k":"send", "n":count}  (not in when_all) events sent to itself       -> [payloads]
//         | {"k":"nosub"}            a sub-orchestration nobody registered          -> "SF"
//         | {"k":"dup", "p":program} (not in when_all) two sub-orchestrations with one instance id,
//                                    at once: the second cannot start  -> [its output or "SF", "SF"]
//         | {"k":"stuck"}            (top level only) a sub-orchestration that waits forever; the
//                                    driver terminates it                           -> "SF"
// Every round runs all steps; rounds before the last end in continue_as_new carrying the outputs.
// Tails: "fail" ends in an uncaught failing activity (Failed), "forever" waits for an event
// nobody sends (the driver terminates it), "none" completes with the rounds' outputs.
//
// "flaky" activities fail transiently, decided by a hash of (instance id, task id): retried up to
// 25 times, their chance to exhaust the retries is below 1e-13, so the oracle counts on success.
#pragma once

#include <perdure/instance.hpp>
#include <perdure/registry.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace perdure::torture {

using nlohmann::json;

inline constexpr const char* orchestration_name = "Program";
inline constexpr const char* activity_name = "Work";
inline constexpr const char* terminate_reason = "torture";

/// One top-level instance and what the driver does to it from outside.
struct instance_plan {
  std::string id;
  json program;
  bool suspend = false;  // the driver suspends it, then resumes it
  int event_pass = 0;    // the driver pass from which it raises this instance's events
  int terminate_pass = 0;  // for tail "forever": the pass at which the driver terminates it
};

/// What generate() may put in a program beyond the torture test's steps. The defaults give the
/// torture test's programs, the same for every seed as before these options existed.
struct generation_options {
  // A failing activity retried inside when_all takes the ids of its retry timer and next attempt in
  // the order the branches' results arrive, which a real node does not fix. Off: inside when_all,
  // activities get one attempt ("flaky" ones become "ok"), so every id is the same on every runtime.
  bool retries_in_when_all = true;
  // The steps "send", "nosub", "dup" and "stuck" (above).
  bool more_steps = false;
};

/// The plan of instance `index` of a run with `seed`; the same on every call and process.
instance_plan generate(uint64_t seed, int index, const generation_options& options = {});

/// The start input of a program: {"p": program, "r": 0, "acc": []}.
json start_input(const json& program);

/// The name of the event a top-level step waits for in a round, and the payload of its j-th event.
std::string event_name(size_t step_index, int round);
std::string event_payload(const std::string& instance_id, const std::string& name, int j);

/// The instance id of the sub-orchestration that the top-level "stuck" step at `step_index` starts
/// in a round: the driver terminates it once it waits (its custom status is "tail").
std::string stuck_instance_id(const std::string& root_id, size_t step_index, int round);

struct expectation {
  runtime_status status = runtime_status::completed;
  json output;                  // completed: the output; terminated: the reason
  std::string failure_message;  // failed: the failure's message
};

/// What an instance running `program` ends with (the oracle).
expectation expected(const std::string& instance_id, const json& program);

/// What decides, with the task id, whether a "flaky" activity attempt fails.
enum class flaky_key {
  instance_id,  // the activity's instance id
  // The instance id up to its first ':': a generated sub-orchestration id embeds its parent's
  // execution id, which differs from runtime to runtime, and so would the failures.
  root_id,
};

/// Registers "Program" and "Work".
void register_functions(registry& functions, flaky_key key = flaky_key::instance_id);

}  // namespace perdure::torture
