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
  const auto result = parse(flags, {"--data", "/tmp/hub", "--sync", "off", "--lease", "2500", "--check-before-serving"});
  CHECK_FALSE(result.exit_code);
  CHECK(flags.options().data_dir == std::filesystem::path{"/tmp/hub"});
  CHECK_FALSE(flags.options().sync);
  CHECK(flags.options().check_before_serving);
  CHECK_FALSE(defaults.check_before_serving);
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

TEST_CASE("a node joins a replicated hub with --advertise and --nats, without --members") {
  {
    node_flags flags;
    const auto joined = parse(flags, {"--nats", "nats://127.0.0.1:4222", "--node-id", "d", "--advertise", "127.0.0.1:7004"});
    CHECK_MESSAGE(!joined.exit_code, joined.err);
    CHECK(flags.options().advertise == "127.0.0.1:7004");
    CHECK(flags.options().members.empty());
  }
  const std::vector<std::pair<std::vector<const char*>, std::string>> refused{
      {{"--nats", "nats://127.0.0.1:4222", "--node-id", "d"}, "--nats needs --node-id and --advertise"},
      {{"--nats", "nats://127.0.0.1:4222", "--advertise", "127.0.0.1:7004"}, "--advertise needs --node-id"},
      {{"--node-id", "d", "--advertise", "127.0.0.1:7004"}, "--advertise is for a node joining a replicated hub"},
      {{"--nats", "nats://127.0.0.1:4222", "--node-id", "d", "--advertise", "127.0.0.1:7004", "--members",
        "d@127.0.0.1:7004"},
       "--advertise is for a node joining a replicated hub"}};
  for (const auto& [args, message] : refused) {
    node_flags flags;
    std::vector<const char*> argv{"program"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out, err;
    CHECK(flags.parse(static_cast<int>(argv.size()), argv.data(), out, err) == 2);
    CHECK_MESSAGE(err.str().find(message) != std::string::npos, err.str());
  }
}

TEST_CASE("the member port's bounds are flags with the defaults docs/security.md lists") {
  node_flags defaults;
  CHECK_FALSE(parse(defaults, {}).exit_code);
  CHECK(defaults.options().member_max_frame_bytes == 64u << 20);
  CHECK(defaults.options().member_max_connections_per_address == 64);
  CHECK(defaults.options().member_handshake_timeout == std::chrono::milliseconds{10'000});

  node_flags flags;
  const auto result = parse(flags, {"--member-max-frame", "8388608", "--member-max-connections-per-address", "4",
                                    "--member-handshake-timeout", "2500"});
  CHECK_FALSE(result.exit_code);
  CHECK(flags.options().member_max_frame_bytes == 8u << 20);
  CHECK(flags.options().member_max_connections_per_address == 4);
  CHECK(flags.options().member_handshake_timeout == std::chrono::milliseconds{2500});

  // Below 1 MiB the bound would close members' connections on ordinary messages.
  node_flags too_small;
  const auto refused = parse(too_small, {"--member-max-frame", "65536"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("--member-max-frame") != std::string::npos);
}

TEST_CASE("NATS TLS and credential flags set the node's NATS access, and need NATS servers to go to") {
  node_flags flags;
  const auto result =
      parse(flags, {"--members", "a@127.0.0.1:7001,b@127.0.0.1:7002", "--node-id", "a", "--nats", "nats://10.0.0.5:4222",
                    "--nats-tls-ca", "/etc/nats/ca.pem", "--nats-tls-cert", "a.pem", "--nats-tls-key", "a.key",
                    "--nats-user", "perdure", "--nats-password", "pw"});
  CHECK_FALSE(result.exit_code);
  const auto& access = flags.options().nats_security;
  CHECK(access.tls());
  CHECK(access.tls_ca == std::filesystem::path{"/etc/nats/ca.pem"});
  CHECK(access.tls_cert == std::filesystem::path{"a.pem"});
  CHECK(access.tls_key == std::filesystem::path{"a.key"});
  CHECK(access.user == "perdure");
  CHECK(access.password == "pw");

  node_flags without_servers;
  const auto refused = parse(without_servers, {"--nats-token", "secret-token"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("--nats or --trigger-nats") != std::string::npos);
}
