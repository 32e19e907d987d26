// How nodes (and perdure::connect) reach a node actor: CAF's BASP over plain TCP, or over TLS with
// mutual certificate authentication when the actor system loaded CAF's OpenSSL module
// (runtime/cluster_tls.hpp). One place decides, so a node never publishes on TLS and dials plain.
//
// Every BASP connection a process accepts or opens here is bounded before anything on it is
// trusted (docs/security.md, "Limits on the member port"):
// - Frames: CAF allocates the payload a frame header announces before reading it. Until the peer's
//   BASP handshake message arrived (after TLS, when TLS is on), a frame may announce at most
//   pre_handshake_frame_bytes; after it, member_port_limits::max_frame_bytes. A frame over its
//   bound closes the connection before anything is allocated for it.
// - Handshake time: a connection whose peer has not delivered its BASP handshake message within
//   handshake_timeout (TLS handshake included) is closed: silent, slow and half-TLS peers hold a
//   socket for that long at most.
// - Connections per peer address: an accepted connection beyond max_connections_per_address open
//   ones from the same address is closed at once.
//
// Operation: CAF's stock middleman actor cannot take such bounds, so a middleman actor of ours
// (a caf::io::middleman_actor_impl whose open() and connect() make our doorman and scribes, on the
// same BASP broker) serves publish_node and connect_to_node. Its scribes watch the BASP stream the
// broker reads through them; the refusals run on the multiplexer's thread, as the broker does.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace perdure::actors {

/// The largest frame a BASP peer may announce before its handshake message arrived: a handshake
/// carries a node id, application identifiers and the published actor's interface, well under
/// 1 KiB; 64 KiB leaves room without letting a stranger make a node allocate more.
inline constexpr size_t pre_handshake_frame_bytes = 64u << 10;

/// The defaults are node_options' (include/perdure/host.hpp).
struct member_port_limits {
  size_t max_frame_bytes;                       // largest message a handshaken peer may send
  size_t max_connections_per_address;           // open accepted connections from one address
  std::chrono::milliseconds handshake_timeout;  // from connect/accept to the peer's BASP handshake
};

/// Makes publish_node and connect_to_node of one actor system keep `limits`; construct it once the
/// system runs (its middleman loaded) and destroy it before the system (it stops the actors it
/// spawned, which the system would otherwise wait for forever). Connections opened through it keep
/// their frame bounds after it is gone; their handshake deadlines no longer fire.
class basp_guard {
 public:
  basp_guard(caf::actor_system& system, const member_port_limits& limits);
  ~basp_guard();
  basp_guard(const basp_guard&) = delete;
  basp_guard& operator=(const basp_guard&) = delete;

 private:
  caf::actor_system& system_;
  caf::actor middleman_;  // ours: a caf::io::middleman_actor, registered under a name in `system`
  caf::actor timer_;      // fires handshake deadlines
};

/// Publishes `node` on address:port (port 0: any free one); the bound port. Needs the system's
/// basp_guard.
caf::expected<uint16_t> publish_node(caf::actor_system& system, const caf::actor& node, uint16_t port,
                                     const std::string& address);

/// Connects to the node actor published at host:port; blocks the calling thread until it answers
/// or the connection fails (over TLS: also when either side's certificate is refused; in any mode
/// when the node does not complete its handshake within the handshake timeout). Needs the
/// system's basp_guard.
caf::expected<caf::actor> connect_to_node(caf::actor_system& system, const std::string& host, uint16_t port);

}  // namespace perdure::actors
