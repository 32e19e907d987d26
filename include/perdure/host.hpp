// perdure::host: a Perdure node. Register the orchestrations and activities, then run it as a
// program (run(argc, argv): flags, Ctrl-C/SIGTERM shut it down cleanly; a program with flags of its
// own uses perdure::node_flags) or embedded (start(), use client(), stop()).
//
// Shutdown: stop() lets in-flight commits finish and stops taking work; activities that are still
// running are abandoned and run again at the next start (activities run at least once).
#pragma once

#include <perdure/client.hpp>
#include <perdure/executor.hpp>
#include <perdure/nats_access.hpp>
#include <perdure/queue_trigger.hpp>
#include <perdure/registry.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace perdure {

struct node_options {
  std::filesystem::path data_dir = "perdure-data";
  uint32_t partitions = 8;         // fixed when the hub's data dir is created
  size_t activity_workers = 16;    // threads running activities (they may block)
  size_t max_cached_instances = 10'000;  // live coroutines kept in memory; the rest replay on demand
  bool sync = true;                // fsync every commit (durable against power loss)
  size_t max_payload_bytes = 4u << 20;
  // Actions (activities, timers, sub-orchestrations, events sent) one episode of an orchestration
  // may take; more fails that orchestration, so one request cannot take the node's memory.
  size_t max_actions_per_episode = episode_limits{}.max_actions;
  // An operator's deliberate recovery from a write-ahead log damaged before its end (the node
  // refuses to start on one): keep every commit before the damage, drop every one after it,
  // acknowledged ones included. See docs/reliability.md, "A corrupt write-ahead log".
  bool drop_commits_after_wal_damage = false;
  // Shadow replay before serving (docs/programming-model.md, "A safe deploy"): replay the history
  // of every Running and Suspended instance in this node's store against the registered code, and
  // refuse to start (start() throws, naming each instance that no longer replays) when one fails.
  bool check_before_serving = false;
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  std::string log_format = "text";  // text, or json: one object per line with instance_id and trace_id
  // Trace spans (episodes, activity attempts, timers, instances; docs/tracing.md) go to this OTLP
  // collector over HTTP/JSON ("http://host:4318": POST {endpoint}/v1/traces), batched in the
  // background; when it is down they are dropped and counted. Empty: no export.
  std::string otlp_endpoint;
  // With an https:// otlp_endpoint: the PEM CAs the collector's certificate may chain to; empty:
  // the system's.
  std::string otlp_ca_file;
  size_t scheduler_threads = 0;    // CAF scheduler threads; 0 = number of cores
  std::string http_address = "127.0.0.1";  // management API (HTTP/JSON); loopback by default
  int http_port = -1;                      // -1: no management API; 0: any free port
  // Requests of the management API that may wait for an instance to end at once (start-and-wait,
  // long-polls); each holds a connection and a callback in its partition, no thread. Past it: 503.
  size_t http_max_waiters = 10'000;
  // Connections the management API holds at once (idle keep-alive ones included); past it, a new
  // connection is answered 503 and closed. Each costs a socket (mind `ulimit -n`) and a timer.
  size_t http_max_connections = 10'000;
  // Access to the management API (docs/security.md). With a token file, every request but health
  // and the web view's static files needs `Authorization: Bearer <token>`, and a request that
  // changes something needs an admin token. With a certificate and key (PEM), the API serves HTTPS
  // only. A node whose API is bound to an address other than loopback refuses to start without
  // both, and one whose cluster port is without `cluster_tls`, unless `insecure` is set.
  std::filesystem::path api_token_file;  // lines of `read TOKEN` or `admin TOKEN`; empty: no tokens
  std::filesystem::path api_tls_cert;    // the certificate chain, leaf first; empty: plain HTTP
  std::filesystem::path api_tls_key;     // its private key, unencrypted
  bool insecure = false;                 // allow exposed ports without TLS (and, for the API, tokens)

  // Cluster. With no members the node is a hub of its own (single-node mode). Otherwise every
  // node of the hub is started with the same `members` and `partitions`. Without `nats`, partition
  // p belongs to member p mod N of the members sorted by id and lives on that node's disk only.
  // With `nats`, every partition's commits go to a replicated log on NATS JetStream first, and
  // ownership follows an assignment table there: a lost node's partitions move to their
  // followers, and members may join (`advertise` instead of `members`) and drain while it runs.
  // See docs/architecture.md, "Cluster" and "The replicated cluster".
  std::string node_id;                      // this node's id in `members`
  std::string members;                      // "id@host:port,id@host:port,..."
  std::string listen_address;               // empty: the host of this node's entry in `members`
  // A replicated hub's node that joins without `members`: the host:port it listens on and the
  // other members connect to (it registers itself in the hub's member bucket on the NATS servers).
  std::string advertise;
  // Mutual TLS between the members (--tls-cert/--tls-key/--tls-ca, docs/security.md): a member
  // accepts and dials only peers whose certificate `cluster_tls.ca` signed. Empty: plain TCP,
  // allowed on loopback only (or with `insecure`). All members of a hub use the same mode.
  tls_credentials cluster_tls;
  // Bounds of the member port, which hold before any TLS or authentication (docs/security.md,
  // "Limits on the member port"): the largest BASP message a peer may send once it handshook (a
  // larger one closes its connection; before the handshake, 64 KiB), the connections one peer
  // address may hold open, and the time from a connection to the peer's BASP handshake (TLS
  // included) after which it is closed. perdure::connect's clients use these defaults.
  size_t member_max_frame_bytes = 64u << 20;
  size_t member_max_connections_per_address = 64;
  std::chrono::milliseconds member_handshake_timeout{10'000};
  std::chrono::milliseconds join_timeout{15'000};     // start fails if no other member answers by then
  std::chrono::milliseconds activity_lease{10'000};   // a lost node's activities run again after it
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds heartbeat_timeout{3'000};  // a member that misses it is down
  std::string nats;            // "nats://host:port,...": a replicated hub on these JetStream servers; empty: static
  std::string hub = "perdure"; // the hub's name on the servers (streams perdure_<hub>_p<n>); letters, digits, - and _
  int replicas = 3;            // replicas of each partition log and of the assignment table (new streams only)
  size_t followers = 1;        // nodes that keep a warm copy of each partition
  // A partition's owner stores a snapshot of it every this many log records and then trims the
  // log below it (docs/architecture.md, "Snapshots and trimming"); 0: never (logs grow for ever).
  uint64_t snapshot_every = 10'000;
  // TLS and credentials for the NATS servers of `nats` and `trigger_nats` (docs/security.md,
  // "NATS"); none: plain TCP without authentication, for servers on the members' private network.
  nats_access nats_security;

  // Queue triggers (include/perdure/queue_trigger.hpp): messages on JetStream subjects start
  // instances. Every node of a hub may run the same triggers: they share each durable consumer.
  std::vector<queue_trigger_options> queue_triggers;
  std::string trigger_nats;  // "nats://host:port,..." the triggers consume from; empty: `nats`
};

class host {
 public:
  host();
  ~host();
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  /// Several versions of one name may be registered side by side (registry.hpp).
  template <class F>
  host& add_orchestration(std::string name, F&& fn, orchestration_options options = {}) {
    functions_.add_orchestration(std::move(name), std::forward<F>(fn), options);
    return *this;
  }
  template <class F>
  host& add_activity(std::string name, F&& fn) {
    functions_.add_activity(std::move(name), std::forward<F>(fn));
    return *this;
  }
  host& add_entity(std::string name, registry::entity_fn fn) {
    functions_.add_entity(std::move(name), std::move(fn));
    return *this;
  }
  perdure::registry& functions() noexcept { return functions_; }

  /// A queue trigger that start() runs besides node_options::queue_triggers (call it before
  /// start()). start() throws perdure::error when the orchestration is not registered, no NATS
  /// server is given (trigger_nats or nats) or the subject's stream cannot be found.
  host& add_queue_trigger(queue_trigger_options trigger) {
    queue_triggers_.push_back(std::move(trigger));
    return *this;
  }

  /// Parses the node flags (--help lists them), runs until SIGINT/SIGTERM, stops; the exit code.
  /// A program with flags of its own parses them with perdure::node_flags (<perdure/node_flags.hpp>)
  /// and calls run(flags.options()).
  int run(int argc, char** argv);
  /// Starts with `options`, runs until SIGINT/SIGTERM, stops; the exit code (1 when it cannot start).
  int run(const node_options& options);

  /// Embedded use. Throws perdure::error (e.g. an unusable data dir) when the node cannot start.
  void start(const node_options& options);
  void stop();
  bool running() const noexcept;

  /// The client of this node; valid between start() and stop(). In a cluster it is a
  /// cluster_client: it reaches every partition, wherever it lives.
  perdure::client& client();
  /// The port the management API listens on, or -1 when it is off.
  int http_port() const noexcept;

  struct node;  // the running node's state (opaque)

 private:
  perdure::registry functions_;
  std::vector<queue_trigger_options> queue_triggers_;
  std::unique_ptr<node> node_;
};

}  // namespace perdure
