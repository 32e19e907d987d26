// The command-line flags of a node program (host::run).
#pragma once

#include <perdure/host.hpp>

#include <optional>
#include <string>

namespace perdure {

/// Parses argv into `options`. Returns an exit code when the program should stop right away
/// (0 after --help, 2 after a bad flag, with the message printed), nullopt to go on.
std::optional<int> parse_node_flags(int argc, char** argv, node_options& options);

}  // namespace perdure
