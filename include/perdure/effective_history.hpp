// What a history means to the code after rewinds: the one rule, applied by every replay (the
// partition's, the tester's, replay-check's) and shown by history displays.
//
// A stored history is never edited: a rewind appends ExecutionRewound and the failure it undoes
// stays where it was, *superseded*. An ExecutionRewound supersedes
//   - the ExecutionFailed before it (the latest one not yet superseded), and
//   - the failure result the failing episode took last before that ExecutionFailed (a TaskFailed,
//     SubOrchestrationFailed or EntityCallFailed): the engine applies an episode's inputs one by
//     one and the execution ended on the one it applied last, so that is the failure the code did
//     not handle. A failure the code caught earlier, in that episode or before, stays: the code
//     handled it. When the failing episode's last input is not a failure (the code itself threw,
//     or a timer fired), only the ExecutionFailed is superseded: the replay then runs the code again
//     from there, which fixed code gets past.
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
