#include <perdure/host.hpp>
#include <perdure/node_flags.hpp>

#include "actors/activity_pool.hpp"
#include "actors/basp_transport.hpp"
#include "actors/cluster_dispatcher.hpp"
#include "actors/node_actor.hpp"
#include "actors/partition_actor.hpp"
#include "actors/protocol.hpp"
#include "actors/remote_partition.hpp"
#include "actors/replica_manager.hpp"
#include "storage/log/jetstream.hpp"
#include "storage/log/jetstream_assignment_table.hpp"
#include "storage/log/jetstream_coordinator_lease.hpp"
#include "storage/log/jetstream_log.hpp"
#include "storage/log/jetstream_snapshot_store.hpp"
#include "storage/log/member_registry.hpp"
#include "cluster_client.hpp"
#include "cluster_control.hpp"
#include "cluster_tls.hpp"
#include "exposure_check.hpp"
#include "http_api.hpp"
#include "http_metrics.hpp"
#include "log_format.hpp"
#include "otlp_exporter.hpp"
#include "local_client.hpp"
#include "queue_trigger.hpp"
#include "replay_check_source.hpp"
#include "schedule_host.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <thread>

namespace perdure {

struct host::node {
  node_options options;
  std::unique_ptr<storage::hub_store> store;
  storage::replicated_hub* replicated = nullptr;  // the store, in a replicated hub
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<actors::basp_guard> basp;  // cluster mode; stopped before the system
  actors::node_metrics metrics;
  std::unique_ptr<otlp_exporter> spans;  // with an OTLP endpoint; outlives the actors that submit to it
  actors::activity_pool pool;
  std::shared_ptr<actors::partition_directory> directory = std::make_shared<actors::partition_directory>();
  std::unique_ptr<perdure::client> client;
  std::optional<api_tokens> tokens;  // read at start, then handed to the management API
  std::unique_ptr<http_api> http;
  int http_port = -1;
  // Cluster mode only.
  actors::cluster_metrics cluster_metrics;
  caf::actor cluster_dispatcher;
  caf::actor node_actor;
  uint16_t cluster_port = 0;
  std::shared_ptr<actors::cluster_view> view;
  // Replicated cluster only; they outlive the actor system (a partition commits through its log
  // until it stops).
  std::unique_ptr<storage::jetstream_connection> nats;
  actors::replication_resources replication;
  caf::actor replica_manager;
  std::unique_ptr<cluster_control> control;  // drain, remove and move, for the management API
  // Queue triggers: their own connection (a trigger's fetches never queue behind a partition's
  // appends), and the consumers, which use `client`.
  std::unique_ptr<storage::jetstream_connection> trigger_nats;
  std::vector<std::unique_ptr<queue_trigger>> triggers;
};

namespace {

// Stops every actor the node spawned; then ~actor_system can wait for them.
void stop_actors(host::node& n) {
  if (n.replica_manager) caf::anon_send_exit(n.replica_manager, caf::exit_reason::user_shutdown);
  if (n.node_actor) {
    if (n.cluster_port != 0) n.system->middleman().unpublish(n.node_actor, n.cluster_port);
    caf::anon_send_exit(n.node_actor, caf::exit_reason::user_shutdown);
  }
  // Partitions first: a commit in progress finishes (handlers run to completion), then no new work
  // is accepted. Workers finish the activity they run; their results are not applied and the
  // activity runs again at the next start.
  for (const auto& partition : n.directory->partitions) caf::anon_send_exit(partition, caf::exit_reason::user_shutdown);
  for (const auto& worker : n.pool.workers) caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(n.pool.dispatcher, caf::exit_reason::user_shutdown);
  if (n.cluster_dispatcher) caf::anon_send_exit(n.cluster_dispatcher, caf::exit_reason::user_shutdown);
  n.client.reset();
  n.directory->partitions.clear();
  n.pool = {};
  n.node_actor = nullptr;
  n.cluster_dispatcher = nullptr;
  n.replica_manager = nullptr;
}

// Undoes whatever part of a start happened, in reverse: the management API, the actors, the actor
// system (its destructor waits for every actor and joins every thread), the store.
void shut_down(host::node& n) {
  n.http.reset();
  n.triggers.clear();  // each worker finishes its message; the rest go back to JetStream
  n.trigger_nats.reset();
  if (n.system) {
    stop_actors(n);
    n.basp.reset();
    n.system.reset();
  }
  n.spans.reset();
  n.store.reset();
}

actors::span_sink span_sink_of(host::node& n) {
  if (!n.spans) return {};
  return [exporter = n.spans.get()](detail::span_records spans) { exporter->submit(std::move(spans)); };
}

actors::partition_config partition_settings(host::node& n, const registry& functions, uint32_t p, caf::actor dispatcher) {
  const auto& o = n.options;
  return actors::partition_config{p,
                                  n.store.get(),
                                  &functions,
                                  std::move(dispatcher),
                                  n.directory,
                                  o.max_cached_instances,
                                  &n.metrics,
                                  episode_limits{o.max_actions_per_episode},
                                  o.max_payload_bytes,
                                  span_sink_of(n)};
}

// Static cluster: the partitions this node owns (p mod N) run here for good, proxies stand in for
// the others.
void start_static_partitions(host::node& n, const registry& functions, const actors::cluster_membership& membership,
                             std::vector<caf::actor>& routers) {
  auto& system = *n.system;
  for (uint32_t p = 0; p < n.view->partitions(); ++p) {
    if (membership.owns(p)) {
      n.directory->partitions.push_back(
          actors::spawn_partition(system, partition_settings(n, functions, p, n.cluster_dispatcher)));
    } else {
      n.directory->partitions.push_back(actors::spawn_remote_partition(system, p, n.view, n.cluster_metrics));
      routers.push_back(n.directory->partitions.back());
    }
  }
  // Recovery is queued before the node actor exists, so no message from another node can reach a
  // partition before it has loaded its de-duplication marks.
  for (uint32_t p = 0; p < n.view->partitions(); ++p) {
    const bool here = membership.owns(p);
    if (here) caf::anon_send(n.directory->partitions[p], actors::recover_atom::value);
    n.view->set_owner(p, actors::partition_owner{membership.owner_of(p), 0,
                                                 here ? n.directory->partitions[p] : caf::actor{}, {}});
  }
}

// "nats://a:4222,nats://b:4222" -> its URLs.
std::vector<std::string> server_list(const std::string& urls) {
  std::vector<std::string> servers;
  for (size_t start = 0; start <= urls.size();) {
    const auto end = std::min(urls.find(',', start), urls.size());
    if (end > start) servers.push_back(urls.substr(start, end - start));
    start = end + 1;
  }
  return servers;
}

// The settings of a connection to the NATS servers `urls`, with the node's TLS and credentials:
// the one place every NATS connection of a node is configured.
storage::jetstream_options nats_connection_settings(const node_options& o, const std::string& urls,
                                                    std::string name) {
  storage::jetstream_options js;
  js.servers = server_list(urls);
  js.name = std::move(name);
  js.access = o.nats_security;
  return js;
}

// Replicated cluster: every partition is addressed through a proxy that follows the cluster view;
// the replica manager starts and stops the partition actors as the assignment table says.
void prepare_replication(host::node& n, const actors::cluster_membership& membership, std::vector<caf::actor>& routers) {
  const auto& o = n.options;
  n.nats = std::make_unique<storage::jetstream_connection>(
      nats_connection_settings(o, o.nats, "perdure-" + membership.self().id));
  auto& r = n.replication;
  r.table = std::make_unique<storage::jetstream_assignment_table>(*n.nats, o.hub, o.replicas);
  r.lease = std::make_unique<storage::jetstream_coordinator_lease>(*n.nats, o.hub, o.replicas, o.heartbeat_timeout);
  r.registry = std::make_unique<storage::member_registry>(*n.nats, o.hub, o.replicas);
  const auto& self = membership.self();
  r.registry->enroll(self.id, self.host + ":" + std::to_string(self.port));
  n.control = std::make_unique<cluster_control>(*r.registry, *r.table, *n.view, self.id);
  r.open_log = [&nats = *n.nats, hub = o.hub, replicas = o.replicas](uint32_t p) {
    return std::make_unique<storage::jetstream_log>(nats, hub, p, replicas);
  };
  r.snapshots = std::make_unique<storage::jetstream_snapshot_store>(*n.nats, o.hub, o.replicas);
  n.cluster_metrics.partition_log_count = n.view->partitions();
  n.cluster_metrics.partition_logs =
      std::make_unique<actors::cluster_metrics::partition_log_gauges[]>(n.cluster_metrics.partition_log_count);
  for (uint32_t p = 0; p < n.view->partitions(); ++p) {
    n.directory->partitions.push_back(actors::spawn_remote_partition(*n.system, p, n.view, n.cluster_metrics));
    routers.push_back(n.directory->partitions.back());
  }
}

void start_replica_manager(host::node& n, const registry& functions, const actors::cluster_membership& membership) {
  const auto& o = n.options;
  actors::replica_manager_config config;
  config.self_id = membership.self().id;
  config.self_index = membership.self_index();
  config.node = n.node_actor;
  config.store = n.replicated;
  config.resources = &n.replication;
  config.view = n.view;
  config.spawn_partition = [&n, &functions](uint32_t p) {
    return actors::spawn_partition(*n.system, partition_settings(n, functions, p, n.cluster_dispatcher));
  };
  config.followers = o.followers;
  config.snapshot_every = o.snapshot_every;
  config.grace = o.heartbeat_timeout;
  config.initial_grace = o.join_timeout;
  config.metrics = &n.cluster_metrics;
  n.replica_manager = actors::spawn_replica_manager(*n.system, std::move(config));
  // Start returns once every partition has an owner and this node leads its own, so the node's
  // first clients find them.
  const auto deadline = std::chrono::steady_clock::now() + o.join_timeout;
  const auto settled = [&] { return n.view->settled(membership.self_index()); };
  while (!settled() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!settled())
    spdlog::warn("not every partition had an owner after {} ms; calls for them are refused until they have one",
                 o.join_timeout.count());
}

// Cluster mode: the partitions (fixed, or as the replicated hub's assignment table says), the
// cluster dispatcher and the published node actor; returns once the node reached another member
// (or throws).
void start_cluster(host::node& n, const registry& functions) {
  const auto& o = n.options;
  auto membership = actors::cluster_membership::parse(o.members, o.node_id);
  auto& system = *n.system;
  const uint32_t partitions = n.store->partition_count();
  std::vector<std::string> ids;
  for (const auto& member : membership.members()) ids.push_back(member.id);
  n.view = std::make_shared<actors::cluster_view>(partitions, std::move(ids));
  n.cluster_dispatcher = actors::spawn_cluster_dispatcher(
      system, actors::cluster_dispatcher_config{membership.self_index(), membership.size(), n.pool.dispatcher,
                                                static_cast<uint32_t>(o.activity_workers), o.activity_lease,
                                                &n.cluster_metrics});
  std::vector<caf::actor> routers;
  if (n.replicated)
    prepare_replication(n, membership, routers);
  else
    start_static_partitions(n, functions, membership, routers);
  const auto self = membership.self();
  const auto size = membership.size();
  n.node_actor = actors::spawn_node_actor(
      system, actors::node_actor_config{membership, partitions, static_cast<uint32_t>(o.activity_workers),
                                        n.store.get(), n.replicated, n.view, std::move(routers), n.cluster_dispatcher, n.pool.dispatcher, o.activity_workers,
                                        o.max_payload_bytes, o.heartbeat_interval, o.heartbeat_timeout, &n.metrics,
                                        &n.cluster_metrics});
  const auto address = o.listen_address.empty() ? self.host : o.listen_address;
  auto port = actors::publish_node(system, n.node_actor, self.port, address);
  if (!port)
    throw listen_error("node '" + self.id + "' cannot listen on " + address + ":" + std::to_string(self.port) + ": " +
                       system.render(port.error()) + " (is another node using that port?)");
  n.cluster_port = *port;
  caf::scoped_actor waiter{system};
  waiter->request(n.node_actor, o.join_timeout + std::chrono::seconds(5), actors::join_atom::value,
                  static_cast<int64_t>(o.join_timeout.count()))
      .receive([](bool) {},
               [&](caf::error& err) {
                 throw error(err.category() == caf::atom("perdure") ? err.context().get_as<std::string>(0)
                                                                    : "cannot join the hub: " + system.render(err));
               });
  if (n.replicated) start_replica_manager(n, functions, membership);
  n.client = std::make_unique<node_client>(system, n.node_actor);
  spdlog::info("node '{}' joined the hub: {} members, {} partitions{}, listening on {}:{}", self.id, size, partitions,
               n.replicated ? " replicated on " + o.nats : std::string{}, address, n.cluster_port);
}

// The queue triggers, once the client is there; a trigger that cannot run fails the start, so a
// typo in a subject or a missing stream is seen at once.
void start_queue_triggers(host::node& n, const registry& functions) {
  const auto& o = n.options;
  if (o.queue_triggers.empty()) return;
  const auto& urls = o.trigger_nats.empty() ? o.nats : o.trigger_nats;
  if (urls.empty()) throw invalid_argument_error("queue triggers need NATS servers: give --trigger-nats (or --nats)");
  for (const auto& t : o.queue_triggers)
    if (!functions.has_orchestration(t.orchestration))
      throw unknown_function_error("queue trigger on subject '" + t.subject + "': no orchestration named '" +
                                   t.orchestration + "' is registered in this program");
  try {
    n.trigger_nats = std::make_unique<storage::jetstream_connection>(nats_connection_settings(o, urls, "perdure-triggers"));
  } catch (const storage::store_error& e) {
    throw error(make_error_code(e.code()), std::string{"queue triggers: "} + e.what());
  }
  for (const auto& t : o.queue_triggers)
    n.triggers.push_back(std::make_unique<queue_trigger>(*n.trigger_nats, *n.client, t));
}

// Everything that runs on the actor system: the activity pool, the partitions (and in a cluster
// the proxies, the dispatcher and the node actor), the client, the management API.
void start_services(host::node& n, const registry& functions) {
  const auto& options = n.options;
  if (!options.otlp_endpoint.empty())
    n.spans = std::make_unique<otlp_exporter>(
        otlp_exporter_options{options.otlp_endpoint, options.otlp_ca_file, "perdure", options.node_id}, n.metrics);
  n.pool = actors::spawn_activity_pool(*n.system, functions, options.activity_workers, n.metrics, span_sink_of(n));
  const uint32_t partitions = n.store->partition_count();
  n.directory->partitions.reserve(partitions);
  if (!options.members.empty()) {
    start_cluster(n, functions);
  } else {
    for (uint32_t p = 0; p < partitions; ++p) {
      n.directory->partitions.push_back(
          actors::spawn_partition(*n.system, partition_settings(n, functions, p, n.pool.dispatcher)));
    }
    for (const auto& partition : n.directory->partitions) caf::anon_send(partition, actors::recover_atom::value);
    n.client = std::make_unique<local_client>(*n.system, *n.store, functions, n.directory, options.max_payload_bytes);
  }
  start_queue_triggers(n, functions);
  if (options.http_port >= 0) {
    std::optional<http::tls_files> tls;
    if (!options.api_tls_cert.empty()) tls = http::tls_files{options.api_tls_cert, options.api_tls_key};
    n.http = std::make_unique<http_api>(
        *n.client, n.metrics,
        http_api_options{options.max_payload_bytes * 2 + 4096,
                         [&n](const instance_query& q) {
                           // A replicated node lists the partitions it owns; its copies of the others may lag.
                           return n.replicated ? n.replicated->list(q, n.view->local_partitions()) : n.store->list(q);
                         },
                         n.node_actor ? &n.cluster_metrics : nullptr, n.view,
                         !options.nats.empty(), n.control.get(), options.http_max_waiters, options.http_max_connections,
                         [&n] { return queue_trigger_metrics(n.triggers); }, std::move(n.tokens), tls, &functions});
    n.http_port = n.http->start(options.http_address, options.http_port);
    spdlog::info("management API on {}://{}:{}{}", tls ? "https" : "http", options.http_address, n.http_port,
                 options.api_token_file.empty() ? "" : ", bearer tokens from " + options.api_token_file.string());
  }
}

// --check-before-serving: before any partition runs, so that no instance is touched by code that
// cannot replay it. Reads this node's store only (in a cluster, what its data directory holds).
void refuse_code_that_does_not_replay(storage::hub_store& store, const registry& functions) {
  const auto report =
      replay_check(instance_source{[&](const instance_query& q) { return store.list(q); },
                                   [&](std::string_view id) { return store.history(id); }},
                   functions, instances_to_replay_check());
  if (!report.passed()) throw error(make_error_code(errc::nondeterminism), replay_check_refusal(report));
  spdlog::info("--check-before-serving: this code replays all {} running instance(s) in the store ({} of an "
               "orchestration it does not register)",
               report.checked, report.not_registered.size());
}

}  // namespace

// Every host runs schedules: the schedule orchestration is registered before the user's functions.
host::host() {
  register_schedules(functions_, [this]() -> perdure::client& { return client(); });
}

host::~host() { stop(); }

bool host::running() const noexcept { return node_ != nullptr; }

namespace {

// A node joining a replicated hub with --advertise is a member list of one: itself. It learns the
// others from the hub's member bucket.
node_options with_advertised_member(const node_options& given) {
  node_options options = given;
  if (options.members.empty() && !options.advertise.empty()) options.members = options.node_id + "@" + options.advertise;
  return options;
}

}  // namespace

void host::start(const node_options& given) {
  if (node_) throw error("the node is already running");
  const node_options options = with_advertised_member(given);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  if (auto problem = log_format_problem(options.log_format)) throw invalid_argument_error(*problem);
  use_log_format(options.log_format);
  refuse_exposed_ports(options);
  auto n = std::make_unique<node>();
  // Read before anything starts, so that a mistake in the file stops the node at once.
  if (!options.api_token_file.empty()) n->tokens = api_tokens::load(options.api_token_file);
  n->options = options;
  n->options.queue_triggers.insert(n->options.queue_triggers.end(), queue_triggers_.begin(), queue_triggers_.end());
  try {
    const storage::store_options store_options{
        options.partitions, options.sync, options.max_payload_bytes,
        options.drop_commits_after_wal_damage ? storage::wal_damage::drop_after : storage::wal_damage::refuse};
    if (options.nats.empty()) {
      n->store = storage::hub_store::open(options.data_dir, store_options);
    } else {
      auto replicated = storage::replicated_hub::open(options.data_dir, store_options);
      n->replicated = replicated.get();
      n->store = std::move(replicated);
    }
  } catch (const storage::store_error& e) {
    throw error(make_error_code(e.code()), "cannot open the data directory " + options.data_dir.string() + ": " + e.what());
  }
  if (options.check_before_serving) refuse_code_that_does_not_replay(*n->store, functions_);
  actors::register_types(n->config);
  if (!options.members.empty()) n->config.load<caf::io::middleman>();
  if (!options.members.empty() && !options.cluster_tls.empty()) use_cluster_tls(n->config, options.cluster_tls);
  if (options.scheduler_threads > 0) n->config.set("scheduler.max-threads", options.scheduler_threads);
  // The work-stealing scheduler's idle threads poll (sleeping 50 us between attempts), which on a
  // small machine takes the cores the detached partitions and workers need: a profile of a
  // loaded node showed 40% of all context switches in those sleeps. The scheduled actors here
  // (dispatchers, node actor, proxies) do little work each, so one shared queue whose idle
  // threads block on a condition variable serves them better.
  n->config.set("scheduler.policy", caf::atom("sharing"));
  n->system = std::make_unique<caf::actor_system>(n->config);
  if (!options.members.empty())
    n->basp = std::make_unique<actors::basp_guard>(
        *n->system, actors::member_port_limits{options.member_max_frame_bytes, options.member_max_connections_per_address,
                                               options.member_handshake_timeout});
  try {
    start_services(*n, functions_);
  } catch (...) {
    shut_down(*n);
    throw;
  }
  spdlog::info("perdure node started: data {}, {} partitions, {} activity workers, durability {}",
               options.data_dir.string(), n->store->partition_count(), options.activity_workers,
               !options.nats.empty() ? "replicated log on JetStream" : options.sync ? "fsync" : "no fsync");
  node_ = std::move(n);
}

void host::stop() {
  if (!node_) return;
  shut_down(*node_);
  node_.reset();
  spdlog::info("perdure node stopped");
}

int host::http_port() const noexcept { return node_ ? node_->http_port : -1; }

client& host::client() {
  if (!node_) throw error("the node is not running");
  return *node_->client;
}

int host::run(int argc, char** argv) {
  node_flags flags;
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  return run(flags.options());
}

int host::run(const node_options& options) {
  // Block the stop signals in every thread (threads inherit the mask), then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    start(options);
  } catch (const std::exception& e) {
    std::cerr << "perdure: " << e.what() << "\n";
    return 1;
  }
  std::cout << "perdure node ready (data " << options.data_dir.string() << ", " << options.partitions
            << " partitions); Ctrl-C stops it" << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("received signal {}, stopping", received);
  stop();
  return 0;
}

}  // namespace perdure
