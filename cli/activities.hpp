// `perdure activity ...`: complete, fail or heartbeat an activity attempt that awaits completion by its task
// token, through the management API's /api/activities routes (docs/cli.md, "Activities").
#pragma once

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace perdure::cli {

/// Adds the `activity` subcommand and its own subcommands to `app`; the one the command line names
/// sets `action`.
void add_activity_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action);

}  // namespace perdure::cli
