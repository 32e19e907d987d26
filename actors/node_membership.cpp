#include "node_membership.hpp"

#include "basp_transport.hpp"
#include "node_routing.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

namespace perdure::actors::node_impl {

using namespace std::chrono_literals;

namespace {

constexpr auto hello_timeout = 5s;

// remote_actor() blocks its thread: a blocking actor of its own does every connection attempt.
// (A class, not a function: CAF 0.17's spawn of an argument-less blocking function dereferences a
// null shared_ptr, which UBSan reports.)
class connector : public caf::blocking_actor {
 public:
  explicit connector(caf::actor_config& cfg) : caf::blocking_actor(cfg) {}

  void act() override {
    bool running = true;
    receive_while(running)(
        [&](caf::connect_atom, const std::string& host, uint16_t port) {
          auto rp = make_response_promise();
          auto handle = connect_to_node(system(), host, port);
          if (handle)
            rp.deliver(*handle);
          else
            rp.deliver(handle.error());
        },
        [&](caf::exit_msg&) { running = false; });
  }
};

// A TLS member and a plain one, or members of different CAs, close each other's connections in
// the handshake: the likely cause when a connection ends there.
std::string tls_hint(caf::actor_system& system, const caf::error& err) {
  if (err != caf::sec::disconnect_during_handshake) return {};
  return system.has_openssl_manager()
             ? " (over TLS: does that member use --tls-cert too, with a certificate signed by this member's --tls-ca?)"
             : " (if the other members use --tls-cert, this member needs it too)";
}

node_hello my_hello(node_actor* self) {
  const auto& c = self->state.config;
  return node_hello{c.membership.self().id, c.partitions, c.membership.canonical(), c.workers};
}

// Why a peer's hello is refused, or empty when it fits this hub.
std::string hello_problem(node_actor* self, const node_hello& h) {
  const auto& c = self->state.config;
  const auto& me = c.membership.self().id;
  if (h.partitions != c.partitions)
    return "partition count mismatch: node '" + me + "' has " + std::to_string(c.partitions) + " partitions, node '" +
           h.node_id + "' has " + std::to_string(h.partitions) + "; start every node with the same --partitions";
  // A replicated hub's members register themselves (member_registry.hpp): its member lists grow
  // while it runs and need not agree.
  if (c.replicated) return h.node_id == me ? "node id '" + h.node_id + "' is this node's own" : std::string{};
  if (h.members != c.membership.canonical())
    return "member list mismatch: node '" + me + "' has --members " + c.membership.canonical() + ", node '" +
           h.node_id + "' has " + h.members + "; start every node with the same --members";
  if (!c.membership.index_of(h.node_id) || h.node_id == me)
    return "node id '" + h.node_id + "' is not another member of this hub (" + c.membership.canonical() + ")";
  return {};
}

// Adds a member of a replicated hub (its address may be unknown yet: port 0) under the index the
// view gives it; returns that index.
size_t admit(node_actor* self, const member& m) {
  auto& st = self->state;
  const size_t index = st.config.view->add_member(m.id);
  const size_t same = st.config.membership.add(m);
  if (same != index) throw std::logic_error("member '" + m.id + "' has index " + std::to_string(same) +
                                            " in the membership and " + std::to_string(index) + " in the view");
  st.peers.resize(st.config.membership.size());
  return index;
}

bool has_address(node_actor* self, size_t index) { return self->state.config.membership.members()[index].port != 0; }

// The members this node connects to: every other one with an address, but those an operator
// removed (one that starts again says hello itself).
std::vector<bool> to_connect(node_actor* self) {
  const auto& st = self->state;
  const auto removed = st.config.view->removed();
  std::vector<bool> out(st.peers.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = i != st.config.membership.self_index() && has_address(self, i) && !(i < removed.size() && removed[i]);
  return out;
}

void tell_member(node_actor* self, size_t index, const caf::actor& node, uint32_t workers) {
  auto& c = self->state.config;
  c.view->set_reachable(index, static_cast<bool>(node));
  for (const auto& router : c.routers) self->send(router, member_atom::value, static_cast<uint32_t>(index), node);
  self->send(c.dispatcher, member_atom::value, static_cast<uint32_t>(index), node, workers);
}

void finish_join(node_actor* self, caf::error err) {
  auto& st = self->state;
  for (auto& rp : st.join_waiters) {
    if (err)
      rp.deliver(err);
    else
      rp.deliver(true);
  }
  st.join_waiters.clear();
  st.joining = false;
}

void mark_up(node_actor* self, size_t index, const caf::actor& node, uint32_t workers) {
  auto& p = self->state.peers[index];
  if (p.node == node) return;
  if (p.node)
    self->demonitor(p.node);
  else
    self->state.config.cluster->members_up.fetch_add(1, std::memory_order_relaxed);
  p.node = node;
  p.workers = workers;
  p.last_error.clear();
  self->monitor(node);
  spdlog::info("member '{}' is up", self->state.config.membership.members()[index].id);
  tell_member(self, index, node, workers);
  if (!self->state.joined) {
    self->state.joined = true;
    finish_join(self, caf::none);
  }
}

void mark_down(node_actor* self, size_t index, const caf::actor& node, const std::string& why) {
  auto& p = self->state.peers[index];
  if (!p.node || p.node != node) return;  // stale: that incarnation was already replaced
  self->demonitor(p.node);
  self->state.config.cluster->members_up.fetch_sub(1, std::memory_order_relaxed);
  p.node = nullptr;
  p.last_error = why;
  spdlog::warn("member '{}' is down: {}", self->state.config.membership.members()[index].id, why);
  tell_member(self, index, caf::actor{}, p.workers);
  fail_forwards_to(self, index, why);
}

void handshake(node_actor* self, size_t index, const caf::actor& node) {
  self->request<caf::message_priority::high>(node, hello_timeout, hello_atom::value, my_hello(self))
      .then(
          [self, index, node](node_hello& theirs) {
            auto& p = self->state.peers[index];
            p.connecting = false;
            if (auto problem = hello_problem(self, theirs); !problem.empty()) {
              p.last_error = problem;
              spdlog::error("refusing member '{}': {}", self->state.config.membership.members()[index].id, problem);
              if (self->state.joining) finish_join(self, unavailable("cannot join the hub: " + problem));
              return;
            }
            mark_up(self, index, node, theirs.workers);
          },
          [self, index](caf::error& err) {
            auto& p = self->state.peers[index];
            p.connecting = false;
            const bool refused = err.category() == caf::atom("perdure");
            p.last_error = refused ? err.context().get_as<std::string>(0) : self->system().render(err);
            if (refused) {
              spdlog::error("member '{}' refused this node: {}", self->state.config.membership.members()[index].id,
                            p.last_error);
              if (self->state.joining) finish_join(self, unavailable("cannot join the hub: " + p.last_error));
            }
          });
}

void connect_to(node_actor* self, size_t index) {
  auto& p = self->state.peers[index];
  const auto& m = self->state.config.membership.members()[index];
  p.connecting = true;
  self->state.config.cluster->connection_attempts.fetch_add(1, std::memory_order_relaxed);
  self->request(self->state.connector, caf::infinite, caf::connect_atom::value, m.host, m.port)
      .then([self, index](const caf::actor& node) { handshake(self, index, node); },
            [self, index](caf::error& err) {
              auto& p = self->state.peers[index];
              p.connecting = false;
              p.last_error = self->system().render(err) + tls_hint(self->system(), err);
            });
}

void heartbeat(node_actor* self, size_t index) {
  auto node = self->state.peers[index].node;
  // Urgent, and so is the answer: a peer whose mailbox is deep in forwarded calls and outbox
  // re-sends still answers within the timeout instead of looking dead while it works, and the
  // coordinator's view agrees with everyone else's (see "Membership and heartbeats").
  self->request<caf::message_priority::high>(node, self->state.config.heartbeat_timeout, caf::ping_atom::value)
      .then([](caf::pong_atom) {},
            [self, index, node](caf::error& err) {
              mark_down(self, index, node, "no heartbeat answer: " + self->system().render(err));
            });
}

}  // namespace

caf::actor spawn_connector(caf::actor_system& system) { return system.spawn<connector>(); }

caf::result<bool> join(node_actor* self, int64_t timeout_ms) {
  auto& st = self->state;
  if (st.joined || st.config.membership.size() == 1) {
    st.joined = true;
    return true;
  }
  st.join_waiters.push_back(self->make_response_promise());
  if (!st.joining) {
    st.joining = true;
    st.join_deadline = steady::now() + std::chrono::milliseconds{timeout_ms};
    const auto wanted = to_connect(self);
    for (size_t i = 0; i < st.peers.size(); ++i)
      if (wanted[i] && !st.peers[i].connecting) connect_to(self, i);
  }
  return caf::delegated<bool>{};
}

void take_roster(node_actor* self, member_roster& roster) {
  auto& st = self->state;
  auto& view = *st.config.view;
  const auto self_index = st.config.membership.self_index();
  const auto was_removed = view.removed();
  for (const auto& m : roster.members) {
    const bool known = st.config.membership.index_of(m.id).has_value();
    const size_t index = admit(self, m);
    if (!known || (index < was_removed.size() && was_removed[index]))
      spdlog::info("member '{}' ({}:{}) registered in the hub", m.id, m.host, m.port);
    view.set_removed(index, false);
    const bool draining = std::find(roster.draining.begin(), roster.draining.end(), m.id) != roster.draining.end();
    view.set_draining(index, draining);
    if (index == self_index && draining != st.draining) {
      st.draining = draining;
      spdlog::warn(draining ? "this node is draining: it takes no more leased activities"
                            : "this node is active again");
    }
  }
  // A removed member this node never knew stays unknown; one it knew keeps its index, hidden.
  for (const auto& id : roster.removed) {
    const auto index = st.config.membership.index_of(id);
    if (!index || (*index < was_removed.size() && was_removed[*index])) continue;
    view.set_removed(*index, true);
    if (*index != self_index) {
      spdlog::info("member '{}' was removed from the hub: this node forgets it", id);
      continue;
    }
    // Removed while it runs (it was unreachable from the node that removed it): it owns nothing and
    // takes nothing until it starts again, which enrolls it again.
    st.draining = true;
    spdlog::error("this node was removed from the hub by an operator: it takes no partitions and no leased "
                  "activities; restart it to enroll it again");
  }
}

caf::result<node_hello> answer_hello(node_actor* self, node_hello& h) {
  self->state.config.cluster->messages_in.fetch_add(1, std::memory_order_relaxed);
  if (auto problem = hello_problem(self, h); !problem.empty()) {
    spdlog::error("refusing node '{}': {}", h.node_id, problem);
    // Both sides of a mismatch are told: a joining node stops rather than run half a hub.
    if (self->state.joining) finish_join(self, unavailable("cannot join the hub: " + problem));
    return unavailable(problem);
  }
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (!sender) return unavailable("a hello from node '" + h.node_id + "' came without a sender");
  const auto index = self->state.config.membership.index_of(h.node_id);
  mark_up(self, index ? *index : admit(self, member{h.node_id, "", 0}), sender, h.workers);
  return my_hello(self);
}

void connection_lost(node_actor* self, const caf::down_msg& dm) {
  auto& peers = self->state.peers;
  for (size_t i = 0; i < peers.size(); ++i)
    if (peers[i].node && peers[i].node.address() == dm.source)
      mark_down(self, i, peers[i].node, "connection lost (" + self->system().render(dm.reason) + ")");
}

void tick(node_actor* self) {
  auto& st = self->state;
  const auto self_index = st.config.membership.self_index();
  if (st.joining || st.joined) {
    const auto wanted = to_connect(self);
    for (size_t i = 0; i < st.peers.size(); ++i) {
      if (i == self_index) continue;
      if (st.peers[i].node)
        heartbeat(self, i);
      else if (wanted[i] && !st.peers[i].connecting)
        connect_to(self, i);
    }
  }
  if (st.joining && steady::now() >= st.join_deadline) {
    std::string why;
    for (size_t i = 0; i < st.peers.size(); ++i) {
      if (i == self_index) continue;
      const auto& m = st.config.membership.members()[i];
      why += "; " + m.id + "@" + m.host + ":" + std::to_string(m.port) + ": " + st.peers[i].last_error;
    }
    finish_join(self, unavailable("cannot join the hub: no other member answered in time" + why));
  }
  self->delayed_send<caf::message_priority::high>(self, st.config.heartbeat_interval, tick_atom::value);
}

}  // namespace perdure::actors::node_impl
