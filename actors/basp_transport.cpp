#include "basp_transport.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

namespace perdure::actors {

caf::expected<uint16_t> publish_node(caf::actor_system& system, const caf::actor& node, uint16_t port,
                                     const std::string& address) {
  if (system.has_openssl_manager()) return caf::openssl::publish(node, port, address.c_str(), true);
  return system.middleman().publish(node, port, address.c_str(), true);
}

caf::expected<caf::actor> connect_to_node(caf::actor_system& system, const std::string& host, uint16_t port) {
  if (system.has_openssl_manager()) return caf::openssl::remote_actor(system, host, port);
  return system.middleman().remote_actor(host, port);
}

}  // namespace perdure::actors
