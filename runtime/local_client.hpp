// The client of a node in the same process: commands go to the owning partition actor, reads go
// straight to the store (they see the durable state).
#pragma once

#include "actors/partition_actor.hpp"

#include <perdure/client.hpp>
#include <perdure/registry.hpp>

#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>

namespace perdure {

class local_client final : public client {
 public:
  local_client(caf::actor_system& system, storage::hub_store& store, const registry& functions,
               std::shared_ptr<actors::partition_directory> directory, size_t max_payload_bytes);

  std::string start(std::string_view name, std::string input_json, const start_options& options) override;
  void start_async(std::string_view name, std::string input_json, const start_options& options,
                   std::function<void(start_result)> done) override;
  std::optional<instance_record> status(std::string_view instance_id) override;
  instance_record wait_for_completion(std::string_view instance_id, std::chrono::milliseconds timeout) override;
  cancel_wait wait_for_completion_async(std::string_view instance_id, std::chrono::milliseconds timeout,
                                        std::function<void(wait_result)> done) override;
  void raise_event(std::string_view instance_id, std::string_view event_name, std::string payload_json,
                   std::string traceparent = {}) override;
  void complete_activity(std::string_view task_token, std::string result_json) override;
  void fail_activity(std::string_view task_token, failure_details failure) override;
  void heartbeat_activity(std::string_view task_token, std::string details_json) override;
  void terminate(std::string_view instance_id, std::string reason) override;
  void suspend(std::string_view instance_id, std::string reason) override;
  void resume(std::string_view instance_id, std::string reason) override;
  void rewind(std::string_view instance_id, std::string reason) override;
  void restart(std::string_view instance_id, const restart_options& options) override;
  bool purge(std::string_view instance_id) override;
  size_t purge(const instance_query& filter) override;
  instance_page list(const instance_query& query) override;
  perdure::history history(std::string_view instance_id) override;
  void signal_entity(const entity_id& entity, std::string_view operation, std::string input_json,
                     time_point deliver_at = {}, std::string traceparent = {}) override;
  std::optional<entity_record> get_entity(const entity_id& entity) override;
  entity_page list_entities(const entity_query& query) override;
  void delete_entity(const entity_id& entity) override;

 private:
  const caf::actor& partition_for(std::string_view instance_id) const;
  void send_command(std::string_view instance_id, event_payload event);
  /// A command to the partition of msg.instance_id; returns once it is durable there.
  void send(message msg);
  void check_payload(std::string_view what, std::string_view json) const;
  std::string checked_start_id(std::string_view name, std::string_view input_json, const start_options& options) const;

  caf::actor_system& system_;
  storage::hub_store& store_;
  const registry& functions_;
  std::shared_ptr<actors::partition_directory> directory_;
  size_t max_payload_bytes_;
};

}  // namespace perdure
