// perdure::node_flags: the command line of a node program. host::run(argc, argv) parses the node's
// flags only; a program with flags of its own adds them to app() (a CLI11 app, libcli11-dev), parses,
// then runs the node with the options the flags gave:
//
//   perdure::node_flags flags;
//   std::filesystem::path systems;
//   flags.app().add_option("--systems", systems, "Directory of the external systems' files");
//   if (auto exit_code = flags.parse(argc, argv)) return *exit_code;   // --help, or a bad flag
//   perdure::host host;
//   ... register functions, which may depend on the program's flags ...
//   return host.run(flags.options());
//
// --help lists the program's flags with the node's. A flag the program adds under a name the node
// already has throws CLI::OptionAlreadyAdded from add_option.
#pragma once

#include <perdure/host.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace perdure {

class node_flags {
 public:
  /// The flags' defaults are `defaults`' fields (--help shows them).
  explicit node_flags(node_options defaults = {});
  node_flags(const node_flags&) = delete;  // app() holds pointers into this object
  node_flags& operator=(const node_flags&) = delete;

  /// Add the program's own options, flags and checks here before parse().
  CLI::App& app() noexcept { return app_; }

  /// Parses argv: the node's flags into options(), the program's into their targets. Returns an
  /// exit code when the program should stop right away (0 after --help, printed on `out`; 2 after
  /// a flag that is unknown, malformed or inconsistent with another, explained on `err`), nullopt
  /// to go on.
  std::optional<int> parse(int argc, const char* const* argv, std::ostream& out = std::cout,
                           std::ostream& err = std::cerr);

  /// The node's options; complete after a parse() that returned nullopt.
  const node_options& options() const noexcept { return options_; }

 private:
  // Flags whose command-line form differs from their node_options field; parse() converts them.
  struct text_flags {
    std::string data_dir;
    std::string sync;  // on, off
    int64_t join_timeout_ms = 0;
    int64_t activity_lease_ms = 0;
    int64_t heartbeat_timeout_ms = 0;
    int64_t member_handshake_timeout_ms = 0;
    std::vector<std::string> trigger_specs;
  };

  std::optional<std::string> check_and_convert();

  CLI::App app_;
  node_options options_;
  text_flags text_;
};

}  // namespace perdure
