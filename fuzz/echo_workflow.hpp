// The orchestration the HTTP fuzzer's node runs, in a TU of its own that is built without UBSan:
// clang 14's backend fails on a coroutine compiled with -fsanitize=undefined ("Cannot represent a
// difference across sections").
#pragma once

#include <perdure/host.hpp>

namespace perdure::fuzzing {

/// Registers `Echo` (calls the activity `Same` with its input and returns the result) and `Same`.
void add_echo_workflow(host& h);

}  // namespace perdure::fuzzing
