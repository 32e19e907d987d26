// perdure::node_flags: the node's flags, a program's own flags beside them, and the messages a user
// gets for a flag that is wrong.
#include <perdure/node_flags.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

using namespace perdure;

namespace {

// A command line and what parsing it printed.
struct parsed {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
};

parsed parse(node_flags& flags, std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"program"};
  argv.insert(argv.end(), args);
  std::ostringstream out;
  std::ostringstream err;
  const auto exit_code = flags.parse(static_cast<int>(argv.size()), argv.data(), out, err);
  return {exit_code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("node flags set the node's options, and the others keep their defaults") {
  node_options defaults;
  defaults.partitions = 3;
  defaults.log_level = "warn";
  node_flags flags{defaults};
  const auto result = parse(flags, {"--data", "/tmp/hub", "--sync", "off", "--lease", "2500"});
  CHECK_FALSE(result.exit_code);
  CHECK(flags.options().data_dir == std::filesystem::path{"/tmp/hub"});
  CHECK_FALSE(flags.options().sync);
  CHECK(flags.options().activity_lease == std::chrono::milliseconds{2500});
  CHECK(flags.options().partitions == 3);
  CHECK(flags.options().log_level == "warn");
}

TEST_CASE("a program's own flag is parsed beside the node's and listed by --help") {
  node_flags flags;
  std::filesystem::path systems;
  flags.app().add_option("--systems", systems, "Directory of the external systems' files");

  const auto result = parse(flags, {"--systems", "/srv/systems", "--partitions", "6"});
  CHECK_FALSE(result.exit_code);
  CHECK(systems == std::filesystem::path{"/srv/systems"});
  CHECK(flags.options().partitions == 6);

  node_flags help_flags;
  help_flags.app().add_option("--systems", systems, "Directory of the external systems' files");
  const auto help = parse(help_flags, {"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--systems") != std::string::npos);
  CHECK(help.out.find("--partitions") != std::string::npos);
}

TEST_CASE("a program's flag named like a node flag is refused when it is added") {
  node_flags flags;
  std::string data;
  CHECK_THROWS_AS(flags.app().add_option("--data", data), CLI::OptionAlreadyAdded);
}

TEST_CASE("an unknown flag stops the program with exit code 2, naming the flag and pointing to --help") {
  node_flags flags;
  const auto result = parse(flags, {"--sytems", "/srv/systems"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("--sytems") != std::string::npos);
  CHECK(result.err.find("--help") != std::string::npos);
}

TEST_CASE("a mistyped flag gets the closest flag, the program's or the node's, as a suggestion") {
  node_flags flags;
  std::filesystem::path systems;
  flags.app().add_option("--systems", systems, "Directory of the external systems' files");
  const auto result = parse(flags, {"--sytems", "/srv/systems", "--partition=4", "--colour", "red"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("--sytems: did you mean --systems?") != std::string::npos);
  CHECK(result.err.find("--partition: did you mean --partitions?") != std::string::npos);
  CHECK(result.err.find("--colour: did you mean") == std::string::npos);  // nothing close: no guess
}

TEST_CASE("a bad value names the flag and what it accepts") {
  node_flags flags;
  const auto result = parse(flags, {"--sync", "maybe"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("--sync") != std::string::npos);
  CHECK(result.err.find("maybe") != std::string::npos);
}

TEST_CASE("flags that need each other say which one is missing") {
  node_flags flags;
  const auto result = parse(flags, {"--members", "a@127.0.0.1:7001,b@127.0.0.1:7002"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("--members needs --node-id") != std::string::npos);
  CHECK(result.err.find("--help") != std::string::npos);
}
