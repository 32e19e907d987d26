#include "local_client.hpp"

#include "start_trace.hpp"

#include "actors/client_errors.hpp"
#include "actors/protocol.hpp"
#include "async_request.hpp"
#include "partition/activity_token.hpp"
#include "instance_ids.hpp"
#include "restart_command.hpp"
#include "purge_by_filter.hpp"

#include <perdure/detail/json_payload.hpp>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

namespace perdure {
namespace {

using namespace std::chrono_literals;

// Commands wait for a durable commit; this bounds how long a client waits for a partition that is
// stuck (e.g. on a dying disk) before reporting it.
constexpr auto command_timeout = 60s;

}  // namespace

local_client::local_client(caf::actor_system& system, storage::hub_store& store, const registry& functions,
                           std::shared_ptr<actors::partition_directory> directory, size_t max_payload_bytes)
    : system_(system),
      store_(store),
      functions_(functions),
      directory_(std::move(directory)),
      max_payload_bytes_(max_payload_bytes) {}

const caf::actor& local_client::partition_for(std::string_view instance_id) const {
  return directory_->partitions.at(store_.partition_of(instance_id));
}

void local_client::check_payload(std::string_view what, std::string_view json) const {
  try {
    detail::check_json_payload(what, json, max_payload_bytes_);
  } catch (const payload_error& e) {
    throw invalid_argument_error(e.what());  // a client's bad argument, as on a cluster
  }
}

// The checks a start makes before anything is sent; returns the instance id.
std::string local_client::checked_start_id(std::string_view name, std::string_view input_json,
                                           const start_options& options) const {
  const std::string id = start_instance_id(options.instance_id);
  check_payload("the input", input_json);
  if (!functions_.has_orchestration(name))
    throw unknown_function_error("no orchestration named '" + std::string{name} + "' is registered");
  return id;
}

std::string local_client::start(std::string_view name, std::string input_json, const start_options& options) {
  const std::string id = checked_start_id(name, input_json, options);
  caf::scoped_actor self{system_};
  std::string result;
  auto trace = checked_start_trace(options, id);
  self->request(partition_for(id), command_timeout, actors::start_atom::value, std::string{name},
                std::move(input_json), id, options.when_running == if_running::return_existing,
                options.version.value_or(events::execution_started::any_version), std::move(trace.traceparent),
                std::move(trace.tracestate))
      .receive([&](std::string& started) { result = std::move(started); },
               [&](caf::error& err) { actors::throw_client_error(err, id); });
  return result;
}

void local_client::start_async(std::string_view name, std::string input_json, const start_options& options,
                               std::function<void(start_result)> done) {
  const std::string id = checked_start_id(name, input_json, options);
  auto trace = checked_start_trace(options, id);
  detail::spawn_request<std::string, std::string>(
      system_, partition_for(id), command_timeout, id, [](std::string& started) { return std::move(started); },
      std::move(done), actors::start_atom::value, std::string{name}, std::move(input_json), id,
      options.when_running == if_running::return_existing,
      options.version.value_or(events::execution_started::any_version), std::move(trace.traceparent),
      std::move(trace.tracestate));
}

std::optional<instance_record> local_client::status(std::string_view instance_id) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  return actors::client_read(id, [&] { return store_.instance(id); });
}

instance_record local_client::wait_for_completion(std::string_view instance_id, std::chrono::milliseconds timeout) {
  require_valid_instance_id(instance_id);
  caf::scoped_actor self{system_};
  instance_record result;
  const std::string id{instance_id};
  self->request(partition_for(id), timeout, actors::wait_atom::value, id, static_cast<int64_t>(timeout.count()))
      .receive([&](instance_record& record) { result = std::move(record); },
               [&](caf::error& err) { actors::throw_client_error(err, id); });
  return result;
}

cancel_wait local_client::wait_for_completion_async(std::string_view instance_id, std::chrono::milliseconds timeout,
                                                   std::function<void(wait_result)> done) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  return detail::spawn_request<instance_record, instance_record>(
      system_, partition_for(id), timeout, id, [](instance_record& record) { return std::move(record); },
      std::move(done), actors::wait_atom::value, id, static_cast<int64_t>(timeout.count()));
}

void local_client::send_command(std::string_view instance_id, event_payload event) {
  require_valid_instance_id(instance_id);
  send(message{std::string{instance_id}, {}, history_event{clock::now(), std::move(event)}});
}

void local_client::send(message msg) {
  const std::string id = msg.instance_id;
  caf::scoped_actor self{system_};
  self->request(partition_for(id), command_timeout, actors::command_atom::value, std::move(msg))
      .receive([](const std::string&) {}, [&](caf::error& err) { actors::throw_client_error(err, id); });
}

void local_client::raise_event(std::string_view instance_id, std::string_view event_name, std::string payload_json,
                               std::string traceparent) {
  require_valid_event_name(event_name);
  check_payload("the event payload", payload_json);
  send_command(instance_id, events::event_raised{std::string{event_name}, std::move(payload_json),
                                                 checked_traceparent(std::move(traceparent), instance_id)});
}

void local_client::complete_activity(std::string_view task_token, std::string result_json) {
  check_payload("the activity's result", result_json);
  send(partition::activity_completion(task_token, std::move(result_json), clock::now()));
}

void local_client::fail_activity(std::string_view task_token, failure_details failure) {
  send(partition::activity_failure(task_token, std::move(failure), clock::now()));
}

void local_client::heartbeat_activity(std::string_view task_token, std::string details_json) {
  check_payload("the heartbeat details", details_json);
  auto attempt = partition::attempt_of_task_token(task_token);
  caf::scoped_actor self{system_};
  self->request(partition_for(attempt.instance_id), command_timeout, actors::heartbeat_by_token_atom::value,
                attempt.instance_id, attempt.execution_id, attempt.task_id, std::move(details_json))
      .receive([](const std::string&) {},
               [&](caf::error& err) { actors::throw_client_error(err, attempt.instance_id); });
}

void local_client::terminate(std::string_view instance_id, std::string reason) {
  check_payload("the reason", nlohmann::json(reason).dump());
  send_command(instance_id, events::execution_terminated{std::move(reason)});
}

void local_client::suspend(std::string_view instance_id, std::string reason) {
  send_command(instance_id, events::execution_suspended{std::move(reason)});
}

void local_client::resume(std::string_view instance_id, std::string reason) {
  send_command(instance_id, events::execution_resumed{std::move(reason)});
}

void local_client::rewind(std::string_view instance_id, std::string reason) {
  check_payload("the reason", nlohmann::json(reason).dump());
  send_command(instance_id, events::execution_rewound{std::move(reason)});
}

void local_client::restart(std::string_view instance_id, const restart_options& options) {
  send_command(instance_id, restart_command(options));
}

bool local_client::purge(std::string_view instance_id) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  caf::scoped_actor self{system_};
  bool purged = false;
  self->request(partition_for(id), command_timeout, actors::purge_atom::value, id)
      .receive([&](bool done) { purged = done; }, [&](caf::error& err) { actors::throw_client_error(err, id); });
  return purged;
}

size_t local_client::purge(const instance_query& filter) { return purge_finished(*this, filter); }

instance_page local_client::list(const instance_query& query) {
  return actors::client_read({}, [&] { return store_.list(query); });
}

perdure::history local_client::history(std::string_view instance_id) {
  require_valid_instance_id(instance_id);
  const std::string id{instance_id};
  return actors::client_read(id, [&] {
    if (!store_.instance(id)) throw instance_not_found(id);
    return store_.history(id);
  });
}

void local_client::signal_entity(const entity_id& entity, std::string_view operation, std::string input_json,
                                 time_point deliver_at, std::string traceparent) {
  require_valid_entity_id(entity);
  require_valid_operation_name(operation);
  check_payload("the operation's input", input_json);
  send(message{entity.instance_id(), {},
               history_event{clock::now(), events::entity_operation{std::string{operation}, std::move(input_json), {}, {},
                                                                    -1, deliver_at,
                                                                    checked_traceparent(std::move(traceparent),
                                                                                        entity.instance_id())}}});
}

void local_client::delete_entity(const entity_id& entity) {
  require_valid_entity_id(entity);
  send(message{entity.instance_id(), {},
               history_event{clock::now(),
                             events::entity_operation{std::string{detail::delete_entity_operation}, {}, {}, {}, -1}}});
}

std::optional<entity_record> local_client::get_entity(const entity_id& entity) {
  require_valid_entity_id(entity);
  const std::string id = entity.instance_id();
  return actors::client_read(id, [&] { return store_.entity(id); });
}

entity_page local_client::list_entities(const entity_query& query) {
  return actors::client_read({}, [&] { return store_.list_entities(query); });
}

}  // namespace perdure
