#include <perdure/host.hpp>

#include "../actors/activity_pool.hpp"
#include "../actors/partition_actor.hpp"
#include "../actors/protocol.hpp"
#include "http_api.hpp"
#include "local_client.hpp"
#include "node_flags.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

namespace perdure {

struct host::node {
  node_options options;
  std::unique_ptr<storage::hub_store> store;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  actors::node_metrics metrics;
  actors::activity_pool pool;
  std::shared_ptr<actors::partition_directory> directory = std::make_shared<actors::partition_directory>();
  std::unique_ptr<local_client> client;
  std::unique_ptr<http_api> http;
  int http_port = -1;
};

host::host() = default;

host::~host() { stop(); }

bool host::running() const noexcept { return node_ != nullptr; }

void host::start(const node_options& options) {
  if (node_) throw error("the node is already running");
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  auto n = std::make_unique<node>();
  n->options = options;
  try {
    n->store = storage::hub_store::open(options.data_dir,
                                        storage::store_options{options.partitions, options.sync, options.max_payload_bytes});
  } catch (const storage::store_error& e) {
    throw error("cannot open the data directory " + options.data_dir.string() + ": " + e.what());
  }
  actors::register_types(n->config);
  if (options.scheduler_threads > 0) n->config.set("scheduler.max-threads", options.scheduler_threads);
  n->system = std::make_unique<caf::actor_system>(n->config);

  n->pool = actors::spawn_activity_pool(*n->system, functions_, options.activity_workers, n->metrics);
  const uint32_t partitions = n->store->partition_count();
  n->directory->partitions.reserve(partitions);
  for (uint32_t p = 0; p < partitions; ++p) {
    n->directory->partitions.push_back(actors::spawn_partition(
        *n->system, actors::partition_config{p, n->store.get(), &functions_, n->pool.dispatcher, n->directory,
                                             options.max_cached_instances, &n->metrics}));
  }
  for (const auto& partition : n->directory->partitions) caf::anon_send(partition, actors::recover_atom::value);
  n->client = std::make_unique<local_client>(*n->system, *n->store, functions_, n->directory, options.max_payload_bytes);
  if (options.http_port >= 0) {
    n->http = std::make_unique<http_api>(*n->client, n->metrics, http_api_options{options.max_payload_bytes * 2 + 4096});
    n->http_port = n->http->start(options.http_address, options.http_port);
    spdlog::info("management API on http://{}:{}", options.http_address, n->http_port);
  }
  spdlog::info("perdure node started: data {}, {} partitions, {} activity workers, sync {}", options.data_dir.string(),
               partitions, options.activity_workers, options.sync ? "on" : "off");
  node_ = std::move(n);
}

void host::stop() {
  if (!node_) return;
  auto& n = *node_;
  if (n.http) n.http->stop();
  // Partitions first: a commit in progress finishes (handlers run to completion), then no new work
  // is accepted. Workers finish the activity they run; their results are not applied and the
  // activity runs again at the next start.
  for (const auto& partition : n.directory->partitions) caf::anon_send_exit(partition, caf::exit_reason::user_shutdown);
  for (const auto& worker : n.pool.workers) caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(n.pool.dispatcher, caf::exit_reason::user_shutdown);
  n.client.reset();
  n.directory->partitions.clear();
  n.pool = {};
  n.system.reset();  // waits for every actor to finish
  n.store.reset();
  node_.reset();
  spdlog::info("perdure node stopped");
}

int host::http_port() const noexcept { return node_ ? node_->http_port : -1; }

client& host::client() {
  if (!node_) throw error("the node is not running");
  return *node_->client;
}

int host::run(int argc, char** argv) {
  node_options options;
  if (auto exit_code = parse_node_flags(argc, argv, options)) return *exit_code;

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
