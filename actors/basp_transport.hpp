// How nodes (and perdure::connect) reach a node actor: CAF's BASP over plain TCP, or over TLS with
// mutual certificate authentication when the actor system loaded CAF's OpenSSL module
// (runtime/cluster_tls.hpp). One place decides, so a node never publishes on TLS and dials plain.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace perdure::actors {

/// Publishes `node` on address:port (port 0: any free one); the bound port.
caf::expected<uint16_t> publish_node(caf::actor_system& system, const caf::actor& node, uint16_t port,
                                     const std::string& address);

/// Connects to the node actor published at host:port; blocks the calling thread until it answers
/// or the connection fails (over TLS: also when either side's certificate is refused).
caf::expected<caf::actor> connect_to_node(caf::actor_system& system, const std::string& host, uint16_t port);

}  // namespace perdure::actors
