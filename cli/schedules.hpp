// `perdure schedule ...`: create, list, describe, pause, resume, trigger, update and delete
// schedules through the management API's /api/schedules routes (docs/cli.md, "Schedules").
#pragma once

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace perdure::cli {

/// Adds the `schedule` subcommand and its own subcommands to `app`; the one the command line names
/// sets `action`.
void add_schedule_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action);

}  // namespace perdure::cli
