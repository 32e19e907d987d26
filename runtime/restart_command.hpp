// The command a client sends to restart an instance: every client builds it here, so the local,
// cluster and HTTP ways check a restart's options alike before anything is sent.
#pragma once

#include <perdure/client.hpp>
#include <perdure/history.hpp>

namespace perdure {

/// The execution_restarted command for `options`. Throws invalid_argument_error for a negative
/// from_event or version (whether the prefix fits the history is the owning partition's to say).
events::execution_restarted restart_command(const restart_options& options);

}  // namespace perdure
