#include "node_flags.hpp"

#include <CLI/CLI.hpp>

namespace perdure {

std::optional<int> parse_node_flags(int argc, char** argv, node_options& options) {
  CLI::App app{"Perdure node: runs this program's orchestrations and activities"};
  std::string data_dir = options.data_dir.string();
  app.add_option("--data", data_dir, "Data directory of the task hub (created if absent)")->capture_default_str();
  app.add_option("--partitions", options.partitions, "Partition count, fixed when the hub is created")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--workers", options.activity_workers, "Activity worker threads")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{4096}));
  app.add_option("--cache", options.max_cached_instances, "Live orchestration instances kept in memory")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  std::string sync = options.sync ? "on" : "off";
  app.add_option("--sync", sync, "fsync every commit (on) or only write it (off: survives a process crash, not a power loss)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--max-payload", options.max_payload_bytes, "Largest payload in bytes")->capture_default_str();
  app.add_option("--log-level", options.log_level, "Log level")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--threads", options.scheduler_threads, "Actor scheduler threads (0 = cores)")->capture_default_str();
  app.add_option("--http-address", options.http_address, "Management API address")->capture_default_str();
  app.add_option("--http-port", options.http_port, "Management API port (-1: off, 0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  options.data_dir = data_dir;
  options.sync = sync == "on";
  return std::nullopt;
}

}  // namespace perdure
