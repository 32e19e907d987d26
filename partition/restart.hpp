// The history a restarted execution begins with (client::restart): the rule for which prefixes of
// a finished execution's history may begin a new one, and how it is built. The state machine
// checks a request with it before accepting it; the episode builds the history with it.
#pragma once

#include <perdure/history.hpp>

#include <optional>
#include <span>
#include <string>

namespace perdure::partition {

/// Why the first `from_event` events of `previous` cannot begin a new execution; nullopt if they
/// can. 0 restarts from the start. Otherwise the prefix must be whole episodes: `from_event` is the
/// position of an EpisodeStarted after the first one. An episode is the code's one run on its
/// inputs (inputs first, then what the code did); a cut inside one would keep the inputs without
/// the actions the code took for them, or part of those actions, and the replay could not tell
/// which of the code's actions to expect. The prefix must also leave the execution running (a
/// failure it holds is superseded by a rewind it holds too).
std::optional<std::string> invalid_restart_prefix(std::span<const history_event> previous, int32_t from_event);

/// The new execution's history: the prefix of `previous` (restart.from_event events, checked by
/// invalid_restart_prefix) whose ExecutionStarted names `execution_id` and `restart.version` and
/// no parent, then ExecutionRestarted, in an episode of its own at `now` (a restart from the start
/// records it in the first episode).
history restart_history(std::span<const history_event> previous, const events::execution_restarted& restart,
                        const std::string& execution_id, time_point now);

}  // namespace perdure::partition
