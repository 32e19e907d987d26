#include "basp_transport.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/openssl/session.hpp>
#include <caf/policy/tcp.hpp>
#include <openssl/err.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <utility>

namespace perdure::actors::basp_guard_detail {

using caf::io::network::default_multiplexer;
using caf::io::network::native_socket;

// What a connection's handshake deadline needs to know of it: shared by its scribe and the timer.
struct handshake_watch {
  explicit handshake_watch(native_socket socket) : fd(socket) {}
  const native_socket fd;
  std::atomic<bool> handshake_done{false};
  std::atomic<bool> gone{false};  // the scribe is destroyed: the socket is (being) closed
};

}  // namespace perdure::actors::basp_guard_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<perdure::actors::basp_guard_detail::handshake_watch>)

namespace perdure::actors {
namespace basp_guard_detail {
namespace {

namespace basp = caf::io::basp;
using caf::io::receive_policy;
using deadline_atom = caf::atom_constant<caf::atom("pdHsDeadl")>;

// The name of an actor system's guarded middleman actor in its registry.
constexpr caf::atom_value middleman_name = caf::atom("pdBaspMM");

// What every doorman and scribe of one actor system's guard shares.
struct guard_state {
  member_port_limits limits;
  caf::actor timer;
  std::mutex mutex;  // open_by_address: scribes may be destroyed off the multiplexer's thread
  std::map<std::string, size_t> open_by_address;
};

// One of the accepted connections max_connections_per_address counts; given back when its
// scribe is destroyed.
class address_slot {
 public:
  static std::unique_ptr<address_slot> take(std::shared_ptr<guard_state> state, std::string address) {
    std::lock_guard lock(state->mutex);
    auto& open = state->open_by_address[address];
    if (open >= state->limits.max_connections_per_address) return nullptr;
    ++open;
    return std::unique_ptr<address_slot>(new address_slot(std::move(state), std::move(address)));
  }
  ~address_slot() {
    std::lock_guard lock(state_->mutex);
    if (--state_->open_by_address[address_] == 0) state_->open_by_address.erase(address_);
  }
  address_slot(const address_slot&) = delete;
  address_slot& operator=(const address_slot&) = delete;

 private:
  address_slot(std::shared_ptr<guard_state> state, std::string address)
      : state_(std::move(state)), address_(std::move(address)) {}
  std::shared_ptr<guard_state> state_;
  std::string address_;
};

// CAF's stream reading and writing through a TLS session (CAF's OpenSSL module keeps its own
// policy in a source file).
//
// OpenSSL's error queue is per thread, and SSL_get_error reads it: a failed session (a stranger's
// garbage, a handshake cut off by its deadline) leaves its errors there, and the next session's
// harmless "want more data" on the multiplexer's thread was taken for a fatal error, which closed
// a member's connection (seen in member_port_limits_test). CAF's session does not clear the queue,
// so every call here starts with an empty one.
struct tls_policy {
  explicit tls_policy(caf::openssl::session_ptr s) : session(std::move(s)) {}
  caf::io::network::rw_state read_some(size_t& result, native_socket fd, void* buf, size_t len) {
    ERR_clear_error();
    return session->read_some(result, fd, buf, len);
  }
  caf::io::network::rw_state write_some(size_t& result, native_socket fd, const void* buf, size_t len) {
    ERR_clear_error();
    return session->write_some(result, fd, buf, len);
  }
  bool must_read_more(native_socket fd, size_t threshold) { return session->must_read_more(fd, threshold); }
  caf::openssl::session_ptr session;
};

// A BASP connection that keeps the frame bound and the handshake deadline. The broker reads a
// frame header (exactly basp::header_size bytes), then asks for exactly the payload length it
// announces: configure_read is where that length is checked, before the stream allocates it.
template <class Policy>
class guarded_scribe final : public caf::io::scribe {
 public:
  template <class... Ts>
  guarded_scribe(default_multiplexer& mpx, native_socket fd, std::shared_ptr<guard_state> state,
                 basp::message_type peer_handshake, std::unique_ptr<address_slot> slot, Ts&&... policy)
      : caf::io::scribe(caf::io::network::conn_hdl_from_socket(fd)),
        stream_(mpx, fd, std::forward<Ts>(policy)...),
        state_(std::move(state)),
        peer_handshake_(peer_handshake),
        slot_(std::move(slot)),
        watch_(std::make_shared<handshake_watch>(fd)) {
    caf::delayed_anon_send(state_->timer, state_->limits.handshake_timeout, deadline_atom::value, watch_);
  }
  ~guarded_scribe() override { watch_->gone = true; }

  void configure_read(receive_policy::config config) override {
    if (refused_) return;
    const bool handshaken = watch_->handshake_done;
    const size_t bound = handshaken ? state_->limits.max_frame_bytes : pre_handshake_frame_bytes;
    if (config.second > bound) {
      refuse(handshaken, "it announced a frame of " + std::to_string(config.second) + " bytes, over the bound of " +
                             std::to_string(bound) +
                             (handshaken ? " (--member-max-frame)" : " before its BASP handshake"));
      return;
    }
    stream_.configure_read(config);
    if (!launched_) launch();
  }
  bool consume(caf::execution_unit* ctx, const void* buf, size_t size) override {
    if (refused_) return true;  // what a refused peer still sends is dropped until its socket closes
    if (!watch_->handshake_done) follow_handshake(ctx, buf, size);
    return caf::io::scribe::consume(ctx, buf, size);
  }
  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }
  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }
  void flush() override { stream_.flush(this); }
  std::string addr() const override {
    auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }
  uint16_t port() const override {
    auto x = caf::io::network::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }
  void add_to_loop() override { stream_.activate(this); }
  void remove_from_loop() override { stream_.passivate(); }

 private:
  static constexpr bool over_tls = std::is_same_v<Policy, tls_policy>;

  void launch() {
    launched_ = true;
    stream_.start(this);
    // A TLS session may have to write first (its part of the handshake): the empty write gets the
    // stream scheduled for writing once, as CAF's OpenSSL scribe does.
    if constexpr (over_tls) stream_.force_empty_write(this);
  }

  // The first frame must be the peer's BASP handshake message (the broker refuses a peer whose
  // handshake does not fit); the handshake is done once its payload, if any, is read.
  void follow_handshake(caf::execution_unit* ctx, const void* buf, size_t size) {
    switch (reading_) {
      case reading::first_header: {
        reading_ = reading::not_a_handshake;
        if (size != basp::header_size) return;
        basp::header header;
        caf::binary_deserializer source{ctx, static_cast<const char*>(buf), size};
        if (source(header) || header.operation != peer_handshake_) return;
        if (header.payload_len == 0)
          watch_->handshake_done = true;
        else
          reading_ = reading::handshake_payload;
        return;
      }
      case reading::handshake_payload:
        watch_->handshake_done = true;
        return;
      case reading::not_a_handshake:
        return;
    }
  }

  // Closes the connection from the multiplexer's thread (the broker's): the stream reads the end
  // of the socket and reports it to the broker as any closed connection.
  void refuse(bool handshaken, const std::string& why) {
    refused_ = true;
    // A stranger's refusals are routine and could flood the log; a handshaken peer's mean a member
    // or client that needs a larger --member-max-frame.
    const auto level = handshaken ? spdlog::level::warn : spdlog::level::debug;
    spdlog::log(level, "closing the BASP connection of {}: {}", addr(), why);
    ::shutdown(stream_.fd(), SHUT_RDWR);
    stream_.configure_read(receive_policy::at_most(4096));
    if (!launched_) launch();
  }

  enum class reading { first_header, handshake_payload, not_a_handshake };

  caf::io::network::stream_impl<Policy> stream_;
  std::shared_ptr<guard_state> state_;
  basp::message_type peer_handshake_;
  std::unique_ptr<address_slot> slot_;  // accepted connections only
  std::shared_ptr<handshake_watch> watch_;
  bool launched_ = false;
  bool refused_ = false;
  reading reading_ = reading::first_header;
};

// A scribe for `fd`: over TLS when the system loaded CAF's OpenSSL module; nullptr when no TLS
// session can be made for it.
caf::io::scribe_ptr make_scribe(caf::actor_system& system, default_multiplexer& mpx, native_socket fd,
                                const std::shared_ptr<guard_state>& state, bool accepted,
                                std::unique_ptr<address_slot> slot) {
  caf::io::network::nonblocking(fd, true);
  const auto peer_handshake = accepted ? basp::message_type::client_handshake : basp::message_type::server_handshake;
  if (!system.has_openssl_manager())
    return caf::make_counted<guarded_scribe<caf::policy::tcp>>(mpx, fd, state, peer_handshake, std::move(slot));
  ERR_clear_error();  // make_session starts the handshake (see tls_policy)
  auto session = caf::openssl::make_session(system, fd, accepted);
  if (!session) return nullptr;
  return caf::make_counted<guarded_scribe<tls_policy>>(mpx, fd, state, peer_handshake, std::move(slot),
                                                       std::move(session));
}

// Accepts the member port's connections, within max_connections_per_address.
class guarded_doorman final : public caf::io::network::doorman_impl {
 public:
  guarded_doorman(default_multiplexer& mpx, native_socket fd, std::shared_ptr<guard_state> state)
      : caf::io::network::doorman_impl(mpx, fd), state_(std::move(state)) {}

  bool new_connection() override {
    // Detached: the broker let go of this doorman while the multiplexer still had its events.
    if (detached()) return false;
    auto& mpx = acceptor_.backend();
    const auto fd = acceptor_.accepted_socket();
    const auto address = caf::io::network::remote_addr_of_fd(fd);
    auto slot = address_slot::take(state_, address ? *address : std::string{});
    if (!slot) {
      spdlog::debug("refusing a BASP connection from {}: it holds {} open connections (--member-max-connections-per-address)",
                    address ? *address : "an unknown address", state_->limits.max_connections_per_address);
      caf::io::network::close_socket(fd);
      return true;
    }
    auto scribe = make_scribe(parent()->system(), mpx, fd, state_, true, std::move(slot));
    if (!scribe) {
      caf::io::network::close_socket(fd);
      return true;
    }
    const auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return doorman::new_connection(&mpx, hdl);
  }

 private:
  std::shared_ptr<guard_state> state_;
};

// CAF's middleman actor (publish, connect, unpublish, ...) with our doorman and scribes.
class guarded_middleman final : public caf::io::middleman_actor_impl {
 public:
  guarded_middleman(caf::actor_config& cfg, caf::actor broker, std::shared_ptr<guard_state> state)
      : caf::io::middleman_actor_impl(cfg, std::move(broker)), state_(std::move(state)) {}

  const char* name() const override { return "perdure_basp_guard"; }

 protected:
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host, uint16_t port) override {
    auto fd = caf::io::network::new_tcp_connection(host, port);
    if (!fd) return std::move(fd.error());
    auto scribe = make_scribe(system(), mpx(), *fd, state_, false, nullptr);
    if (!scribe) {
      caf::io::network::close_socket(*fd);
      return caf::make_error(caf::sec::cannot_connect_to_node, "cannot start a TLS session with " + host);
    }
    return scribe;
  }

  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* address, bool reuse) override {
    auto fd = caf::io::network::new_tcp_acceptor_impl(port, address, reuse);
    if (!fd) return std::move(fd.error());
    return caf::make_counted<guarded_doorman>(mpx(), *fd, state_);
  }

 private:
  default_multiplexer& mpx() { return static_cast<default_multiplexer&>(system().middleman().backend()); }
  std::shared_ptr<guard_state> state_;
};

// Closes, on the multiplexer's thread, each connection whose peer has not handshaken by its
// deadline (checked there too: the broker may have closed it meanwhile). It takes the multiplexer
// as an argument because CAF 0.17.6 dereferences a null argument tuple when it starts an actor
// spawned without arguments (UBSan: "reference binding to null pointer").
caf::behavior handshake_timer(caf::event_based_actor*, caf::io::network::multiplexer* mpx) {
  return {[mpx](deadline_atom, const std::shared_ptr<handshake_watch>& watch) {
    if (watch->handshake_done) return;
    mpx->post([watch] {
      if (watch->handshake_done || watch->gone) return;
      spdlog::debug("closing a BASP connection whose peer did not handshake in time (--member-handshake-timeout)");
      ::shutdown(watch->fd, SHUT_RDWR);
    });
  }};
}

caf::expected<caf::io::middleman_actor> guarded_middleman_of(caf::actor_system& system) {
  auto handle = caf::actor_cast<caf::io::middleman_actor>(system.registry().get(middleman_name));
  if (!handle)
    return caf::make_error(caf::sec::runtime_error, "no perdure::actors::basp_guard runs on this actor system");
  return handle;
}

}  // namespace
}  // namespace basp_guard_detail

using namespace basp_guard_detail;

basp_guard::basp_guard(caf::actor_system& system, const member_port_limits& limits) : system_(system) {
  auto state = std::make_shared<guard_state>();
  state->limits = limits;
  timer_ = system.spawn<caf::hidden>(handshake_timer, &system.middleman().backend());
  state->timer = timer_;
  // Detached, as CAF's own: connect() blocks its thread until the TCP connection is made.
  auto broker = system.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  auto middleman = system.spawn<guarded_middleman, caf::detached + caf::hidden>(std::move(broker), std::move(state));
  middleman_ = caf::actor_cast<caf::actor>(middleman);
  system.registry().put(middleman_name, caf::actor_cast<caf::strong_actor_ptr>(middleman));
}

basp_guard::~basp_guard() {
  system_.registry().erase(middleman_name);
  caf::anon_send_exit(middleman_, caf::exit_reason::kill);
  caf::anon_send_exit(timer_, caf::exit_reason::kill);
}

caf::expected<uint16_t> publish_node(caf::actor_system& system, const caf::actor& node, uint16_t port,
                                     const std::string& address) {
  auto middleman = guarded_middleman_of(system);
  if (!middleman) return std::move(middleman.error());
  auto f = caf::make_function_view(*middleman);
  return f(caf::publish_atom::value, port, caf::actor_cast<caf::strong_actor_ptr>(node), std::set<std::string>{},
           address, true);
}

caf::expected<caf::actor> connect_to_node(caf::actor_system& system, const std::string& host, uint16_t port) {
  auto middleman = guarded_middleman_of(system);
  if (!middleman) return std::move(middleman.error());
  auto f = caf::make_function_view(*middleman);
  auto reply = f(caf::connect_atom::value, host, port);
  if (!reply) return std::move(reply.error());
  auto& [node, handle, interface] = *reply;
  if (!handle) return caf::make_error(caf::sec::no_actor_published_at_port, port);
  // A node actor is dynamically typed: a typed actor published there is another program.
  if (!interface.empty()) return caf::make_error(caf::sec::unexpected_actor_messaging_interface);
  return caf::actor_cast<caf::actor>(std::move(handle));
}

}  // namespace perdure::actors
