#include "node_flags.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

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
  app.add_option("--max-actions-per-episode", options.max_actions_per_episode,
                 "Activities, timers, sub-orchestrations and events one orchestration may start in one episode; "
                 "more fails that orchestration")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  app.add_flag("--drop-commits-after-wal-damage", options.drop_commits_after_wal_damage,
               "Open a hub whose write-ahead log is damaged before its end, dropping every commit after the "
               "damage, acknowledged ones included (docs/reliability.md)");
  app.add_option("--log-level", options.log_level, "Log level")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--threads", options.scheduler_threads, "Actor scheduler threads (0 = cores)")->capture_default_str();
  app.add_option("--http-address", options.http_address, "Management API address")->capture_default_str();
  app.add_option("--http-port", options.http_port, "Management API port (-1: off, 0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  app.add_option("--http-max-waiters", options.http_max_waiters,
                 "Management API requests that may wait for an instance to end at once (waitForCompletion); "
                 "past it they get 503")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app.add_option("--http-max-connections", options.http_max_connections,
                 "Connections the management API holds at once, idle keep-alive ones included (mind ulimit -n); "
                 "past it a new connection gets 503")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  auto* cluster = "Cluster (all nodes of a hub get the same --members and --partitions)";
  app.add_option("--node-id", options.node_id, "This node's id in --members")->group(cluster);
  app.add_option("--members", options.members,
                 "Every node of the hub: id@host:port,... (the node listens on its own entry's address); "
                 "empty: a single node")
      ->group(cluster);
  app.add_option("--listen", options.listen_address, "Listen on this address instead of the one in --members")
      ->group(cluster);
  auto join_ms = options.join_timeout.count();
  app.add_option("--join-timeout", join_ms, "Milliseconds to reach another member at start before giving up")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}))
      ->group(cluster);
  auto lease_ms = options.activity_lease.count();
  app.add_option("--lease", lease_ms, "Milliseconds after which a lost node's activities run elsewhere")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}))
      ->group(cluster);
  auto heartbeat_ms = options.heartbeat_timeout.count();
  app.add_option("--heartbeat-timeout", heartbeat_ms, "Milliseconds without a heartbeat answer before a member is down")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{600'000}))
      ->group(cluster);
  auto* replicated = "Replicated cluster (NATS JetStream; docs/architecture.md, \"The replicated cluster\")";
  app.add_option("--nats", options.nats,
                 "JetStream servers nats://host:port,...: every commit goes to a replicated log there and a lost "
                 "node's partitions move to another member; empty: each partition on its owner's disk only")
      ->group(replicated);
  app.add_option("--hub", options.hub, "The hub's name on the NATS servers")->capture_default_str()->group(replicated);
  app.add_option("--replicas", options.replicas, "Replicas of each partition log (1-5; streams that exist keep theirs)")
      ->capture_default_str()
      ->check(CLI::Range(1, 5))
      ->group(replicated);
  app.add_option("--followers", options.followers, "Members that keep a warm copy of each partition")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{16}))
      ->group(replicated);
  auto* triggers = "Queue triggers (NATS JetStream; docs/queue-triggers.md)";
  std::vector<std::string> trigger_specs;
  app.add_option("--trigger", trigger_specs,
                 "Start an instance for each message on a JetStream subject (repeatable): "
                 "subject=SUBJECT,orchestration=NAME[,stream=S][,durable=D][,header=H][,event=E]"
                 "[,max-deliveries=N][,ack-wait=SECONDS][,workers=N]")
      ->group(triggers);
  app.add_option("--trigger-nats", options.trigger_nats,
                 "JetStream servers nats://host:port,... the triggers consume from; empty: those of --nats")
      ->group(triggers);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!options.nats.empty() && options.members.empty()) {
    std::cerr << "--nats needs --members and --node-id (a replicated hub is a cluster)\n";
    return 2;
  }
  if (!options.members.empty() && options.node_id.empty()) {
    std::cerr << "--members needs --node-id (this node's id in the list)\n";
    return 2;
  }
  try {
    for (const auto& spec : trigger_specs) options.queue_triggers.push_back(parse_queue_trigger(spec));
  } catch (const invalid_argument_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (!options.queue_triggers.empty() && options.trigger_nats.empty() && options.nats.empty()) {
    std::cerr << "--trigger needs --trigger-nats (or --nats): the JetStream servers to consume from\n";
    return 2;
  }
  options.data_dir = data_dir;
  options.sync = sync == "on";
  options.join_timeout = std::chrono::milliseconds{join_ms};
  options.activity_lease = std::chrono::milliseconds{lease_ms};
  options.heartbeat_timeout = std::chrono::milliseconds{heartbeat_ms};
  return std::nullopt;
}

}  // namespace perdure
