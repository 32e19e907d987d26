#include "cluster_client.hpp"

#include "start_trace.hpp"

#include <perdure/host.hpp>

#include "actors/basp_transport.hpp"
#include "actors/protocol.hpp"
#include "partition/activity_token.hpp"
#include "cluster_tls.hpp"
#include "call_channel.hpp"
#include "connection_watch.hpp"
#include "instance_ids.hpp"
#include "restart_command.hpp"
#include "purge_by_filter.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace perdure {
namespace {

using namespace std::chrono_literals;

// Commands wait for a durable commit on the owning node; this bounds the wait for a stuck one.
constexpr auto command_timeout = 60s;

// One request to the node actor, blocking this (non-actor) thread; errors become exceptions. The
// watch answers it with an error if the node goes down meanwhile.
template <class Reply, class... Ts>
Reply ask(caf::actor_system& system, const caf::actor& node, detail::connection_watch& watch,
          std::chrono::milliseconds timeout, const std::string& instance_id, Ts&&... xs) {
  caf::scoped_actor self{system};
  Reply result{};
  auto response = self->request(node, timeout, std::forward<Ts>(xs)...);
  const auto watching = watch.watch(self, response.id());
  response.receive([&](Reply& reply) { result = std::move(reply); },
                   [&](caf::error& err) { actors::throw_client_error(err, instance_id); });
  return result;
}

}  // namespace

struct node_client::owned_system {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<actors::basp_guard> basp;  // destroyed first: it stops actors the system would wait for
};

node_client::node_client(caf::actor_system& system, caf::actor node)
    : system_(&system),
      node_(std::move(node)),
      watch_(std::make_unique<detail::connection_watch>(system, node_)),
      calls_(std::make_unique<detail::call_channel>(system, node_)) {}

node_client::node_client(std::unique_ptr<owned_system> owned, caf::actor node)
    : owned_(std::move(owned)),
      system_(owned_->system.get()),
      node_(std::move(node)),
      watch_(std::make_unique<detail::connection_watch>(*system_, node_)),
      calls_(std::make_unique<detail::call_channel>(*system_, node_)) {}

node_client::~node_client() = default;

std::unique_ptr<node_client> node_client::connect(const std::string& host, uint16_t port, const tls_credentials& tls) {
  auto owned = std::make_unique<owned_system>();
  actors::register_types(owned->config);
  owned->config.load<caf::io::middleman>();
  if (!tls.empty()) use_cluster_tls(owned->config, tls);
  owned->config.set("scheduler.max-threads", 2);
  // Idle threads block instead of polling (see runtime/host.cpp): a process with a client per
  // thread otherwise spends its cores on the pollers' 50 us sleeps.
  owned->config.set("scheduler.policy", caf::atom("sharing"));
  owned->system = std::make_unique<caf::actor_system>(owned->config);
  const node_options defaults;
  owned->basp = std::make_unique<actors::basp_guard>(
      *owned->system, actors::member_port_limits{defaults.member_max_frame_bytes,
                                                 defaults.member_max_connections_per_address,
                                                 defaults.member_handshake_timeout});
  auto node = actors::connect_to_node(*owned->system, host, port);
  if (!node)
    throw error("cannot connect to a Perdure node at " + host + ":" + std::to_string(port) + ": " +
                owned->system->render(node.error()) +
                (tls.empty() ? " (a hub whose members use --tls-cert takes TLS connections only)"
                             : " (over TLS: is the node's certificate signed by " + tls.ca.string() +
                                   ", and ours by the node's --tls-ca?)"));
  auto handle = std::move(*node);
  return std::unique_ptr<node_client>(new node_client(std::move(owned), std::move(handle)));
}

std::string node_client::start(std::string_view name, std::string input_json, const start_options& options) {
  const std::string id = start_instance_id(options.instance_id);
  auto trace = checked_start_trace(options, id);
  return ask<std::string>(*system_, node_, *watch_, command_timeout, id, actors::start_atom::value, std::string{name},
                          std::move(input_json), id, options.when_running == if_running::return_existing,
                          options.version.value_or(events::execution_started::any_version),
                          std::move(trace.traceparent), std::move(trace.tracestate));
}

void node_client::start_async(std::string_view name, std::string input_json, const start_options& options,
                              std::function<void(start_result)> done) {
  const std::string id = start_instance_id(options.instance_id);
  auto trace = checked_start_trace(options, id);
  calls_->call<std::string, std::string>(
      command_timeout, id, [](std::string& started) { return std::move(started); }, std::move(done),
      actors::start_atom::value, std::string{name}, std::move(input_json), id,
      options.when_running == if_running::return_existing,
      options.version.value_or(events::execution_started::any_version), std::move(trace.traceparent),
      std::move(trace.tracestate));
}

std::optional<instance_record> node_client::status(std::string_view instance_id) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  auto bytes = ask<std::string>(*system_, node_, *watch_, command_timeout, id, actors::status_atom::value, id);
  if (bytes.empty()) return std::nullopt;
  return actors::decode_record(bytes);
}

instance_record node_client::wait_for_completion(std::string_view instance_id, std::chrono::milliseconds timeout) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  // The node times out first, so a timeout is reported as such rather than as a lost reply.
  auto bytes = ask<std::string>(*system_, node_, *watch_, timeout + 2s, id, actors::wait_atom::value, id,
                                static_cast<int64_t>(timeout.count()));
  return actors::decode_record(bytes);
}

cancel_wait node_client::wait_for_completion_async(std::string_view instance_id, std::chrono::milliseconds timeout,
                                                  std::function<void(wait_result)> done) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  // As above: the node times out first.
  return calls_->call<std::string, instance_record>(
      timeout + 2s, id, [](const std::string& bytes) { return actors::decode_record(bytes); }, std::move(done),
      actors::wait_atom::value, id, static_cast<int64_t>(timeout.count()));
}

void node_client::send_command(std::string_view instance_id, event_payload event) {
  require_valid_instance_id(instance_id);
  send(message{std::string{instance_id}, {}, history_event{clock::now(), std::move(event)}});
}

void node_client::send(const message& msg) {
  ask<std::string>(*system_, node_, *watch_, command_timeout, msg.instance_id, actors::command_atom::value,
                   actors::encode_message(msg));
}

void node_client::raise_event(std::string_view instance_id, std::string_view event_name, std::string payload_json,
                              std::string traceparent) {
  require_valid_event_name(event_name);
  send_command(instance_id, events::event_raised{std::string{event_name}, std::move(payload_json),
                                                 checked_traceparent(std::move(traceparent), instance_id)});
}

void node_client::complete_activity(std::string_view task_token, std::string result_json) {
  send(partition::activity_completion(task_token, std::move(result_json), clock::now()));  // the node checks the result
}

void node_client::fail_activity(std::string_view task_token, failure_details failure) {
  send(partition::activity_failure(task_token, std::move(failure), clock::now()));
}

void node_client::heartbeat_activity(std::string_view task_token, std::string details_json) {
  auto attempt = partition::attempt_of_task_token(task_token);
  ask<std::string>(*system_, node_, *watch_, command_timeout, attempt.instance_id,
                   actors::heartbeat_by_token_atom::value, attempt.instance_id, attempt.execution_id, attempt.task_id,
                   std::move(details_json));  // the node checks the details
}

void node_client::terminate(std::string_view instance_id, std::string reason) {
  send_command(instance_id, events::execution_terminated{std::move(reason)});
}

void node_client::suspend(std::string_view instance_id, std::string reason) {
  send_command(instance_id, events::execution_suspended{std::move(reason)});
}

void node_client::resume(std::string_view instance_id, std::string reason) {
  send_command(instance_id, events::execution_resumed{std::move(reason)});
}

void node_client::rewind(std::string_view instance_id, std::string reason) {
  send_command(instance_id, events::execution_rewound{std::move(reason)});
}

void node_client::restart(std::string_view instance_id, const restart_options& options) {
  send_command(instance_id, restart_command(options));
}

bool node_client::purge(std::string_view instance_id) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  return ask<bool>(*system_, node_, *watch_, command_timeout, id, actors::purge_atom::value, id);
}

size_t node_client::purge(const instance_query& filter) { return purge_finished(*this, filter); }

instance_page node_client::list(const instance_query& query) {
  auto wire = ask<actors::wire_page>(*system_, node_, *watch_, command_timeout, {}, actors::list_atom::value, actors::to_wire(query));
  instance_page page;
  page.continuation_token = std::move(wire.continuation_token);
  for (const auto& bytes : wire.records) page.records.push_back(actors::decode_record(bytes));
  return page;
}

perdure::history node_client::history(std::string_view instance_id) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  auto wire = ask<actors::wire_history>(*system_, node_, *watch_, command_timeout, id, actors::history_atom::value, id);
  perdure::history events;
  for (const auto& bytes : wire.events) events.push_back(actors::decode_event(bytes));
  return events;
}

void node_client::signal_entity(const entity_id& entity, std::string_view operation, std::string input_json,
                                time_point deliver_at, std::string traceparent) {
  require_valid_entity_id(entity);
  require_valid_operation_name(operation);
  send(message{entity.instance_id(), {},
               history_event{clock::now(), events::entity_operation{std::string{operation}, std::move(input_json), {}, {},
                                                                    -1, deliver_at,
                                                                    checked_traceparent(std::move(traceparent),
                                                                                        entity.instance_id())}}});
}

void node_client::delete_entity(const entity_id& entity) {
  require_valid_entity_id(entity);
  send(message{entity.instance_id(), {},
               history_event{clock::now(),
                             events::entity_operation{std::string{detail::delete_entity_operation}, {}, {}, {}, -1}}});
}

std::optional<entity_record> node_client::get_entity(const entity_id& entity) {
  require_valid_entity_id(entity);
  const std::string id = entity.instance_id();
  auto bytes = ask<std::string>(*system_, node_, *watch_, command_timeout, id, actors::entity_atom::value, id);
  if (bytes.empty()) return std::nullopt;
  return actors::decode_entity(bytes);
}

entity_page node_client::list_entities(const entity_query& query) {
  auto wire = ask<actors::wire_page>(*system_, node_, *watch_, command_timeout, {}, actors::list_atom::value,
                                     actors::entity_atom::value, actors::to_wire(query));
  entity_page page;
  page.continuation_token = std::move(wire.continuation_token);
  for (const auto& bytes : wire.records) page.records.push_back(actors::decode_entity(bytes));
  return page;
}

std::vector<node_stats> node_client::cluster_stats() {
  auto wire = ask<std::vector<actors::wire_stats>>(*system_, node_, *watch_, command_timeout, {}, actors::stats_atom::value);
  std::vector<node_stats> out;
  for (auto& s : wire)
    out.push_back(node_stats{std::move(s.node_id), s.partitions_owned, s.activities_executed, s.activities_leased_out,
                             s.activities_redispatched, s.activities_rejected, s.messages_out, s.messages_in,
                             s.episodes, std::move(s.members_up)});
  return out;
}

std::unique_ptr<cluster_client> connect(const std::string& host, uint16_t port, const tls_credentials& tls) {
  return node_client::connect(host, port, tls);
}

}  // namespace perdure
