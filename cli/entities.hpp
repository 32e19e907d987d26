// `perdure entity ...`: signal, get, list and delete durable entities through the management
// API's /api/entities routes (docs/cli.md, "Entities").
#pragma once

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace perdure::cli {

/// Adds the `entity` subcommand and its own subcommands to `app`; the one the command line names
/// sets `action`.
void add_entity_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action);

}  // namespace perdure::cli
