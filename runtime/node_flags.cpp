#include <perdure/node_flags.hpp>

#include <algorithm>
#include <numeric>
#include <string_view>
#include <utility>

namespace perdure {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

// For each unknown "--flag" (or "--flag=value") left over by the parse, the node's or the program's
// flag at most two edits away: a typo's most likely meaning.
void suggest_flags(const CLI::App& app, std::ostream& err) {
  for (const auto& arg : app.remaining()) {
    if (!arg.starts_with("--")) continue;
    std::string_view typed = arg;
    typed.remove_prefix(2);
    typed = typed.substr(0, typed.find('='));
    std::string_view best;
    size_t best_distance = 3;
    for (const CLI::Option* option : app.get_options())
      for (const auto& name : option->get_lnames())
        if (const size_t d = edit_distance(typed, name); d < best_distance) {
          best_distance = d;
          best = name;
        }
    if (!best.empty()) err << "--" << typed << ": did you mean --" << best << "?\n";
  }
}

}  // namespace

node_flags::node_flags(node_options defaults)
    : app_{"Perdure node: runs this program's orchestrations and activities"}, options_{std::move(defaults)} {
  text_.data_dir = options_.data_dir.string();
  app_.add_option("--data", text_.data_dir, "Data directory of the task hub (created if absent)")->capture_default_str();
  app_.add_option("--partitions", options_.partitions, "Partition count, fixed when the hub is created")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app_.add_option("--workers", options_.activity_workers, "Activity worker threads")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{4096}));
  app_.add_option("--cache", options_.max_cached_instances, "Live orchestration instances kept in memory")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  text_.sync = options_.sync ? "on" : "off";
  app_.add_option("--sync", text_.sync, "fsync every commit (on) or only write it (off: survives a process crash, not a power loss)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app_.add_option("--max-payload", options_.max_payload_bytes, "Largest payload in bytes")->capture_default_str();
  app_.add_option("--max-actions-per-episode", options_.max_actions_per_episode,
                  "Activities, timers, sub-orchestrations and events one orchestration may start in one episode; "
                  "more fails that orchestration")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  app_.add_flag("--drop-commits-after-wal-damage", options_.drop_commits_after_wal_damage,
               "Open a hub whose write-ahead log is damaged before its end, dropping every commit after the "
               "damage, acknowledged ones included (docs/reliability.md)");
  app_.add_flag("--check-before-serving", options_.check_before_serving,
               "Replay the running instances' histories in this node's store against its code first, and refuse "
               "to start if some no longer replay (docs/programming-model.md, \"A safe deploy\")");
  app_.add_option("--log-level", options_.log_level, "Log level")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app_.add_option("--log-format", options_.log_format,
                  "Log lines as text, or as one JSON object per line with instance_id and trace_id (docs/tracing.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app_.add_option("--otlp-endpoint", options_.otlp_endpoint,
                  "Export trace spans by OTLP over HTTP/JSON to this collector, e.g. http://127.0.0.1:4318 "
                  "(docs/tracing.md); empty: no export")
      ->capture_default_str();
  app_.add_option("--otlp-ca-file", options_.otlp_ca_file,
                  "With an https:// --otlp-endpoint: PEM CAs the collector's certificate may chain to "
                  "(default: the system's)");
  app_.add_option("--threads", options_.scheduler_threads, "Actor scheduler threads (0 = cores)")->capture_default_str();
  app_.add_option("--http-address", options_.http_address, "Management API address")->capture_default_str();
  app_.add_option("--http-port", options_.http_port, "Management API port (-1: off, 0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  app_.add_option("--http-max-waiters", options_.http_max_waiters,
                  "Management API requests that may wait for an instance to end at once (waitForCompletion); "
                  "past it they get 503")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app_.add_option("--http-max-connections", options_.http_max_connections,
                  "Connections the management API holds at once, idle keep-alive ones included (mind ulimit -n); "
                  "past it a new connection gets 503")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  auto* security = "Security (docs/security.md)";
  app_.add_option("--api-token-file", options_.api_token_file,
                  "Bearer tokens of the management API, one 'read TOKEN' or 'admin TOKEN' per line: every request "
                  "but health and /ui then needs one, and changes need an admin token")
      ->group(security);
  app_.add_option("--api-tls-cert", options_.api_tls_cert,
                  "The management API's certificate chain (PEM, leaf first): it serves HTTPS only")
      ->group(security);
  app_.add_option("--api-tls-key", options_.api_tls_key, "The private key of --api-tls-cert (PEM, unencrypted)")
      ->group(security);
  app_.add_option("--tls-cert", options_.cluster_tls.certificate,
                  "This member's certificate (PEM, leaf first) for mutual TLS between the hub's members")
      ->group(security);
  app_.add_option("--tls-key", options_.cluster_tls.private_key, "The private key of --tls-cert (PEM, unencrypted)")
      ->group(security);
  app_.add_option("--tls-ca", options_.cluster_tls.ca,
                  "The CA that signs every member's certificate: a peer without one it signed is refused")
      ->group(security);
  app_.add_flag("--insecure", options_.insecure,
                "Start even though the management API or the cluster port is bound to an address other than "
                "loopback without TLS (and tokens, for the API): a network you trust entirely")
      ->group(security);
  auto* cluster = "Cluster (all nodes of a hub get the same --members and --partitions)";
  app_.add_option("--node-id", options_.node_id, "This node's id in --members")->group(cluster);
  app_.add_option("--members", options_.members,
                  "Every node of the hub: id@host:port,... (the node listens on its own entry's address); "
                  "empty: a single node")
      ->group(cluster);
  app_.add_option("--listen", options_.listen_address, "Listen on this address instead of the one in --members")
      ->group(cluster);
  app_.add_option("--advertise", options_.advertise,
                  "With --nats and no --members: this node's host:port, which it listens on and registers in the "
                  "hub for the other members to connect to (a node joining a running hub)")
      ->group(cluster);
  text_.join_timeout_ms = options_.join_timeout.count();
  app_.add_option("--join-timeout", text_.join_timeout_ms, "Milliseconds to reach another member at start before giving up")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}))
      ->group(cluster);
  app_.add_option("--member-max-frame", options_.member_max_frame_bytes,
                  "Largest BASP message in bytes a member or client may send once it handshook; a larger one "
                  "closes its connection")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1} << 20, size_t{4'000'000'000}))
      ->group(cluster);
  app_.add_option("--member-max-connections-per-address", options_.member_max_connections_per_address,
                  "Connections one peer address may hold open on the member port; more are closed at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->group(cluster);
  text_.member_handshake_timeout_ms = options_.member_handshake_timeout.count();
  app_.add_option("--member-handshake-timeout", text_.member_handshake_timeout_ms,
                  "Milliseconds from a connection on the member port to the peer's BASP handshake (TLS included); "
                  "a peer that is not done by then is disconnected")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{600'000}))
      ->group(cluster);
  text_.activity_lease_ms = options_.activity_lease.count();
  app_.add_option("--lease", text_.activity_lease_ms, "Milliseconds after which a lost node's activities run elsewhere")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}))
      ->group(cluster);
  text_.heartbeat_timeout_ms = options_.heartbeat_timeout.count();
  app_.add_option("--heartbeat-timeout", text_.heartbeat_timeout_ms, "Milliseconds without a heartbeat answer before a member is down")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{600'000}))
      ->group(cluster);
  auto* replicated = "Replicated cluster (NATS JetStream; docs/architecture.md, \"The replicated cluster\")";
  app_.add_option("--nats", options_.nats,
                  "JetStream servers nats://host:port,...: every commit goes to a replicated log there and a lost "
                  "node's partitions move to another member; empty: each partition on its owner's disk only")
      ->group(replicated);
  app_.add_option("--hub", options_.hub, "The hub's name on the NATS servers")->capture_default_str()->group(replicated);
  app_.add_option("--replicas", options_.replicas, "Replicas of each partition log (1-5; streams that exist keep theirs)")
      ->capture_default_str()
      ->check(CLI::Range(1, 5))
      ->group(replicated);
  app_.add_option("--followers", options_.followers, "Members that keep a warm copy of each partition")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{16}))
      ->group(replicated);
  app_.add_option("--snapshot-every", options_.snapshot_every,
                  "Log records between two snapshots of a partition, below which its log is trimmed; 0: no "
                  "snapshots, logs are never trimmed")
      ->capture_default_str()
      ->group(replicated);
  auto* triggers = "Queue triggers (NATS JetStream; docs/queue-triggers.md)";
  app_.add_option("--trigger", text_.trigger_specs,
                  "Start an instance for each message on a JetStream subject (repeatable): "
                  "subject=SUBJECT,orchestration=NAME[,stream=S][,durable=D][,header=H][,event=E]"
                  "[,max-deliveries=N][,ack-wait=SECONDS][,workers=N]")
      ->group(triggers);
  app_.add_option("--trigger-nats", options_.trigger_nats,
                  "JetStream servers nats://host:port,... the triggers consume from; empty: those of --nats")
      ->group(triggers);
  auto* nats = "NATS access, for --nats and --trigger-nats (docs/security.md, \"NATS\")";
  auto& access = options_.nats_security;
  app_.add_option("--nats-tls-ca", access.tls_ca,
                  "The CA that signed the NATS servers' certificates (PEM): the node then speaks TLS to them only")
      ->group(nats);
  app_.add_option("--nats-tls-cert", access.tls_cert,
                  "This node's certificate for NATS servers that verify clients (PEM, leaf first)")
      ->group(nats);
  app_.add_option("--nats-tls-key", access.tls_key, "The private key of --nats-tls-cert (PEM, unencrypted)")->group(nats);
  app_.add_option("--nats-user", access.user, "A user of the NATS servers' authorization block, with --nats-password")
      ->group(nats);
  app_.add_option("--nats-password", access.password, "The password of --nats-user")
      ->envname("PERDURE_NATS_PASSWORD")
      ->group(nats);
  app_.add_option("--nats-token", access.token, "The NATS servers' authorization token")
      ->envname("PERDURE_NATS_TOKEN")
      ->group(nats);
  app_.add_option("--nats-nkey-seed", access.nkey_seed_file,
                  "A file holding a user NKey seed (nk -gen user) whose public key the NATS servers list")
      ->group(nats);
  app_.add_option("--nats-creds", access.credentials_file,
                  "A NATS .creds file (user JWT and NKey seed) for servers in operator mode")
      ->group(nats);
}

std::optional<int> node_flags::parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 numbers its errors (105, 109, ...); every usage error of a node program exits with 2.
    const int exit_code = app_.exit(e, out, err);
    if (dynamic_cast<const CLI::ExtrasError*>(&e)) suggest_flags(app_, err);
    return exit_code == 0 ? 0 : 2;
  }
  if (auto problem = check_and_convert()) {
    err << *problem << "\n" << "Run with --help for more information.\n";
    return 2;
  }
  return std::nullopt;
}

// The rules that span several flags, then the conversions; a message for the user when one fails.
std::optional<std::string> node_flags::check_and_convert() {
  if (!options_.nats.empty() && options_.members.empty() && options_.advertise.empty())
    return "--nats needs --node-id and --advertise (this node's host:port), or --members (a replicated hub is a "
           "cluster)";
  if (!options_.advertise.empty() && (options_.nats.empty() || !options_.members.empty()))
    return "--advertise is for a node joining a replicated hub: give it with --nats and without --members";
  if (!options_.advertise.empty() && options_.node_id.empty()) return "--advertise needs --node-id";
  if (options_.api_tls_cert.empty() != options_.api_tls_key.empty())
    return "--api-tls-cert and --api-tls-key go together: the certificate and its private key";
  const auto& tls = options_.cluster_tls;
  if (!tls.empty() && (tls.certificate.empty() || tls.private_key.empty() || tls.ca.empty()))
    return "--tls-cert, --tls-key and --tls-ca go together: this member's certificate, its key and the hub's CA";
  if (!tls.empty() && options_.members.empty() && options_.advertise.empty())
    return "--tls-cert, --tls-key and --tls-ca are for a cluster's members (--members); the management API's "
           "HTTPS takes --api-tls-cert and --api-tls-key";
  if (!options_.members.empty() && options_.node_id.empty())
    return "--members needs --node-id (this node's id in the list)";
  try {
    for (const auto& spec : text_.trigger_specs) options_.queue_triggers.push_back(parse_queue_trigger(spec));
  } catch (const invalid_argument_error& e) {
    return std::string{e.what()};
  }
  const auto& access = options_.nats_security;
  const bool nats_access_given = access.tls() || !access.user.empty() || !access.password.empty() ||
                                 !access.token.empty() || !access.nkey_seed_file.empty() ||
                                 !access.credentials_file.empty();
  if (nats_access_given && options_.nats.empty() && options_.trigger_nats.empty())
    return "the --nats-* TLS and credential flags are for the NATS servers of --nats or --trigger-nats, and "
           "neither is given";
  if (!options_.queue_triggers.empty() && options_.trigger_nats.empty() && options_.nats.empty())
    return "--trigger needs --trigger-nats (or --nats): the JetStream servers to consume from";
  options_.data_dir = text_.data_dir;
  options_.sync = text_.sync == "on";
  options_.join_timeout = std::chrono::milliseconds{text_.join_timeout_ms};
  options_.activity_lease = std::chrono::milliseconds{text_.activity_lease_ms};
  options_.heartbeat_timeout = std::chrono::milliseconds{text_.heartbeat_timeout_ms};
  options_.member_handshake_timeout = std::chrono::milliseconds{text_.member_handshake_timeout_ms};
  return std::nullopt;
}

}  // namespace perdure
