// What a history means to the code after rewinds: the one rule, applied by every replay (the
// partition's, the tester's, replay-check's) and shown by history displays.
//
// A stored history is never edited: a rewind appends ExecutionRewound and the failures it undoes
// stay where they were, *superseded*. An ExecutionRewound supersedes
//   - the ExecutionFailed before it (the latest one not yet superseded);
//   - every failure result (TaskFailed, SubOrchestrationFailed, EntityCallFailed) the code recorded
//     nothing after before it failed: no step, patch or end the code recorded can depend on it, so
//     running it again cannot contradict the history, and an uncaught one led to the failure (a
//     when_all waits for all its tasks, then throws the first failure, maybe episodes later, on a
//     result that is not a failure). A failure the code took a step after stays: it handled it;
//   - in the failing episode, where the code did take steps (recorded after all the episode's
//     inputs, so they may answer any of them), only its last input if it is a failure: the engine
//     applies an episode's inputs one by one and the execution ended on that one;
//   - the failure results that arrived while the instance was Failed (between the ExecutionFailed
//     and the ExecutionRewound: a Failed execution records the results of its steps, so a rewind
//     finds them), which run again like the others.
// When nothing is superseded but the ExecutionFailed (the code itself threw, or a wait timed out),
// the replay runs the code again from there, which fixed code gets past.
// The code replays the history without the superseded events, so the failed step is pending
// again and runs again.
#pragma once

#include <perdure/history.hpp>

#include <span>
#include <vector>

namespace perdure {

/// superseded[p] is true for each event at position p that no longer counts (see above).
std::vector<bool> superseded_events(std::span<const history_event> events);

}  // namespace perdure
