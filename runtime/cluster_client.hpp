// The client of a cluster node: every call is a request to a node actor (this process's, or a
// remote one reached through CAF's middleman), which routes it to the owning partition's node.
// A blocking call waits in a scoped actor of its own (connection_watch.hpp); the asynchronous
// calls share one actor per client, with any number in flight (call_channel.hpp).
// Perdure values travel as storage codec bytes (see actors/protocol.hpp).
#pragma once

#include <perdure/client.hpp>
#include <perdure/message.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace perdure {
namespace detail {
class call_channel;
class connection_watch;
}

class node_client final : public cluster_client {
 public:
  /// A client of `node` in `system` (which must outlive it).
  node_client(caf::actor_system& system, caf::actor node);
  /// Connects to a node over the network, with an actor system of its own.
  static std::unique_ptr<node_client> connect(const std::string& host, uint16_t port, const tls_credentials& tls);
  ~node_client() override;

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
  std::vector<node_stats> cluster_stats() override;

 private:
  struct owned_system;
  node_client(std::unique_ptr<owned_system> owned, caf::actor node);
  void send_command(std::string_view instance_id, event_payload event);
  /// A command to the node that owns msg.instance_id's partition; returns once it is durable there.
  void send(const message& msg);

  std::unique_ptr<owned_system> owned_;  // first: destroyed after the handle below
  caf::actor_system* system_;
  caf::actor node_;
  std::unique_ptr<detail::connection_watch> watch_;  // the blocking calls'; destroyed before the system
  std::unique_ptr<detail::call_channel> calls_;      // the asynchronous calls'; destroyed first
};

}  // namespace perdure
