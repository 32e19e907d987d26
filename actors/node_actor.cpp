#include "node_actor.hpp"

#include "actor_state.hpp"
#include "guarded_behavior.hpp"
#include "protocol.hpp"

#include <perdure/detail/json_payload.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "../storage/keys.hpp"

#include <algorithm>

namespace perdure::actors {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Bounds a forwarded command; the client's own timeout is usually shorter.
constexpr auto forward_timeout = 60s;
constexpr auto hello_timeout = 5s;

struct peer {
  caf::actor node;     // invalid while down
  uint32_t workers = 0;
  bool connecting = false;
  std::string last_error = "not contacted yet";
};

struct node_state {
  static inline const char* name = "perdure.node";
  node_actor_config config;
  caf::actor connector;
  std::vector<peer> peers;  // by member index; the entry of this node stays empty
  bool joining = false;
  bool joined = false;
  steady::time_point join_deadline{};
  std::vector<caf::response_promise> join_waiters;
};

using node_actor = stateful_actor<node_state>;

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
          auto handle = system().middleman().remote_actor(host, port);
          if (handle)
            rp.deliver(*handle);
          else
            rp.deliver(handle.error());
        },
        [&](caf::exit_msg&) { running = false; });
  }
};

// Stands in for the owning partition of a leased activity: the worker's result becomes the answer
// to the lease request.
caf::behavior result_relay(caf::event_based_actor* self, caf::response_promise rp) {
  return {[=](deliver_atom, const message& result) mutable {
    rp.deliver(encode_message(result));
    self->quit();
  }};
}

caf::error unavailable(const std::string& why) { return make_client_error(client_errc::unavailable, why); }

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
  if (h.members != c.membership.canonical())
    return "member list mismatch: node '" + me + "' has --members " + c.membership.canonical() + ", node '" +
           h.node_id + "' has " + h.members + "; start every node with the same --members";
  if (!c.membership.index_of(h.node_id) || h.node_id == me)
    return "node id '" + h.node_id + "' is not another member of this hub (" + c.membership.canonical() + ")";
  return {};
}

void tell_member(node_actor* self, size_t index, const caf::actor& node, uint32_t workers) {
  auto& c = self->state.config;
  for (uint32_t p = 0; p < c.partitions; ++p)
    if (c.membership.owner_of(p) == index) self->send(c.directory->partitions[p], member_atom::value, node);
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
}

void handshake(node_actor* self, size_t index, const caf::actor& node) {
  self->request(node, hello_timeout, hello_atom::value, my_hello(self))
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
  self->request(self->state.connector, caf::infinite, caf::connect_atom::value, m.host, m.port)
      .then([self, index](const caf::actor& node) { handshake(self, index, node); },
            [self, index](caf::error& err) {
              auto& p = self->state.peers[index];
              p.connecting = false;
              p.last_error = self->system().render(err);
            });
}

void heartbeat(node_actor* self, size_t index) {
  auto node = self->state.peers[index].node;
  self->request(node, self->state.config.heartbeat_timeout, caf::ping_atom::value)
      .then([](caf::pong_atom) {},
            [self, index, node](caf::error& err) {
              mark_down(self, index, node, "no heartbeat answer: " + self->system().render(err));
            });
}

void tick(node_actor* self) {
  auto& st = self->state;
  const auto self_index = st.config.membership.self_index();
  if (st.joining || st.joined) {
    for (size_t i = 0; i < st.peers.size(); ++i) {
      if (i == self_index) continue;
      if (st.peers[i].node)
        heartbeat(self, i);
      else if (!st.peers[i].connecting)
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
  self->delayed_send(self, st.config.heartbeat_interval, tick_atom::value);
}

bool owns(node_actor* self, uint32_t partition) {
  return partition < self->state.config.partitions && self->state.config.membership.owns(partition);
}

uint32_t partition_of(node_actor* self, const std::string& instance_id) {
  return self->state.config.store->partition_of(instance_id);
}

// The owner's node actor, or the error a client gets while it is unreachable.
caf::expected<caf::actor> owner_node(node_actor* self, uint32_t partition) {
  const auto& c = self->state.config;
  const auto index = c.membership.owner_of(partition);
  const auto& p = self->state.peers[index];
  if (p.node) return p.node;
  const auto& m = c.membership.members()[index];
  return unavailable("partition " + std::to_string(partition) + " is owned by node '" + m.id + "' (" + m.host + ":" +
                     std::to_string(m.port) + "), which is unreachable: " + p.last_error + "; retry when it is back");
}

// Answers `rp` with what the owner's node actor answers to the same request.
template <class Reply, class... Ts>
caf::result<Reply> forward(node_actor* self, uint32_t partition, std::chrono::milliseconds timeout, Ts&&... xs) {
  auto node = owner_node(self, partition);
  if (!node) return node.error();
  auto rp = self->make_response_promise();
  self->state.config.cluster->messages_out.fetch_add(1, std::memory_order_relaxed);
  self->request(*node, timeout, std::forward<Ts>(xs)...)
      .then([rp](Reply& reply) mutable { rp.deliver(std::move(reply)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return caf::delegated<Reply>{};
}

// Asks the local partition and answers `rp` with the reply converted by `convert`.
template <class Reply, class Local, class Convert, class... Ts>
caf::result<Reply> ask_local(node_actor* self, uint32_t partition, std::chrono::milliseconds timeout, Convert convert,
                             Ts&&... xs) {
  auto rp = self->make_response_promise();
  self->request(self->state.config.directory->partitions[partition], timeout, std::forward<Ts>(xs)...)
      .then([rp, convert](Local& reply) mutable { rp.deliver(convert(reply)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return caf::delegated<Reply>{};
}

caf::error check_payload(node_actor* self, const std::string& what, const std::string& json) {
  try {
    detail::check_json_payload(what, json, self->state.config.max_payload_bytes);
  } catch (const payload_error& e) {
    return make_client_error(client_errc::invalid_argument, e.what());
  }
  return caf::none;
}

// The store's continuation token for "after this record" (storage/query.cpp, token version 1):
// a merged page continues after its last record on every node.
std::string token_after(const instance_record& last) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string raw(1, '\1');
  storage::keys::put_be64(raw, storage::keys::encode_time(last.created_at));
  raw += last.instance_id;
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xf]);
  }
  return out;
}

wire_page local_page(node_actor* self, const wire_query& query) {
  auto page = self->state.config.store->list(from_wire(query));
  wire_page out;
  out.continuation_token = std::move(page.continuation_token);
  for (const auto& r : page.records) out.records.push_back(encode_record(r));
  return out;
}

struct list_gather {
  caf::response_promise rp;
  size_t page_size = 0;
  size_t pending = 0;
  bool more = false;
  bool failed = false;
  std::vector<instance_record> records;

  void add(const wire_page& page) {
    more = more || !page.continuation_token.empty();
    for (const auto& bytes : page.records) records.push_back(decode_record(bytes));
  }
  void finish() {
    std::ranges::sort(records, [](const auto& a, const auto& b) {
      return std::tie(a.created_at, a.instance_id) < std::tie(b.created_at, b.instance_id);
    });
    wire_page out;
    if (records.size() > page_size) {
      more = true;
      records.resize(page_size);
    }
    if (more && !records.empty()) out.continuation_token = token_after(records.back());
    for (const auto& r : records) out.records.push_back(encode_record(r));
    rp.deliver(std::move(out));
  }
};

caf::result<wire_page> list_all(node_actor* self, const wire_query& query) {
  auto& st = self->state;
  if (query.page_size == 0)
    return make_client_error(client_errc::invalid_argument, "instance_query::page_size must be at least 1");
  for (size_t i = 0; i < st.peers.size(); ++i) {
    if (i == st.config.membership.self_index()) continue;
    if (!st.peers[i].node) {
      const auto& m = st.config.membership.members()[i];
      return unavailable("cannot list instances: node '" + m.id + "' holds some of them and is unreachable: " +
                         st.peers[i].last_error);
    }
  }
  auto gather = std::make_shared<list_gather>();
  gather->page_size = query.page_size;
  gather->add(local_page(self, query));
  // Only now: a response promise takes over the answer, so nothing may be returned after it.
  gather->rp = self->make_response_promise();
  for (size_t i = 0; i < st.peers.size(); ++i) {
    if (i == st.config.membership.self_index()) continue;
    ++gather->pending;
    self->request(st.peers[i].node, forward_timeout, local_atom::value, list_atom::value, query)
        .then(
            [gather](const wire_page& page) {
              if (gather->failed) return;
              try {
                gather->add(page);
              } catch (const std::exception& e) {
                gather->failed = true;
                gather->rp.deliver(unavailable(std::string{"a node sent an unreadable page: "} + e.what()));
                return;
              }
              if (--gather->pending == 0) gather->finish();
            },
            [gather](caf::error& err) {
              if (gather->failed) return;
              gather->failed = true;
              gather->rp.deliver(std::move(err));
            });
  }
  if (gather->pending == 0) gather->finish();
  return caf::delegated<wire_page>{};
}

wire_stats local_stats(node_actor* self) {
  auto& c = self->state.config;
  wire_stats s;
  s.node_id = c.membership.self().id;
  for (uint32_t p = 0; p < c.partitions; ++p) s.partitions_owned += c.membership.owns(p) ? 1 : 0;
  s.activities_executed = c.metrics->activities_completed.load() + c.metrics->activities_failed.load();
  s.activities_leased_out = c.cluster->activities_leased_out.load();
  s.activities_redispatched = c.cluster->activities_redispatched.load();
  s.activities_rejected = c.cluster->activities_rejected.load();
  s.messages_out = c.cluster->messages_out.load();
  s.messages_in = c.cluster->messages_in.load();
  s.episodes = c.metrics->episodes.load();
  for (size_t i = 0; i < self->state.peers.size(); ++i)
    if (self->state.peers[i].node) s.members_up.push_back(c.membership.members()[i].id);
  return s;
}

caf::result<std::vector<wire_stats>> stats_all(node_actor* self) {
  auto& st = self->state;
  auto all = std::make_shared<std::vector<wire_stats>>();
  all->push_back(local_stats(self));
  auto pending = std::make_shared<size_t>(0);
  for (const auto& p : st.peers)
    if (p.node) ++*pending;
  if (*pending == 0) return *all;
  auto rp = self->make_response_promise();  // takes over the answer: nothing may be returned after it
  for (const auto& p : st.peers) {
    if (!p.node) continue;
    // A node that does not answer is left out: stats report the reachable part of the hub.
    self->request(p.node, 5s, local_atom::value, stats_atom::value)
        .then(
            [rp, all, pending](wire_stats& s) mutable {
              all->push_back(std::move(s));
              if (--*pending == 0) rp.deliver(*all);
            },
            [rp, all, pending](caf::error&) mutable {
              if (--*pending == 0) rp.deliver(*all);
            });
  }
  return caf::delegated<std::vector<wire_stats>>{};
}

caf::behavior node_behavior(node_actor* self, node_actor_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.peers.resize(st.config.membership.size());
  keep_running_on_unexpected(self);
  st.connector = self->system().spawn<connector>();
  self->attach_functor([connector = st.connector](const caf::error&) {
    caf::anon_send_exit(connector, caf::exit_reason::user_shutdown);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& peers = self->state.peers;
    for (size_t i = 0; i < peers.size(); ++i)
      if (peers[i].node && peers[i].node.address() == dm.source)
        mark_down(self, i, peers[i].node, "connection lost (" + self->system().render(dm.reason) + ")");
  });
  // Only a response handler can get here (every message handler is guarded); CAF 0.17 ends the
  // actor after this whatever it returns, so say so where an operator looks.
  self->set_exception_handler([self](std::exception_ptr& failure) -> caf::error {
    auto err = make_client_error(failure);
    spdlog::critical("{} (actor {}) stops: a response handler threw: {}; restart this node", self->name(), self->id(),
                     self->system().render(err));
    return err;
  });
  self->delayed_send(self, st.config.heartbeat_interval, tick_atom::value);
  auto* cm = st.config.cluster;
  // A failure serving one message (e.g. a corrupt record in the store) is that caller's error; the
  // node goes on serving everyone else. The node's own failures are logged, bad requests are not.
  auto on_exception = [self](std::exception_ptr failure) {
    auto err = make_client_error(failure);
    const auto code = static_cast<client_errc>(err.code());
    if (code == client_errc::failed || code == client_errc::storage_failure)
      spdlog::error("{} (actor {}) failed to serve a message: {}", self->name(), self->id(), self->system().render(err));
    return err;
  };
  return guarded_behavior(
      on_exception,
      [=](join_atom, int64_t timeout_ms) -> caf::result<bool> {
        auto& st = self->state;
        if (st.joined || st.config.membership.size() == 1) {
          st.joined = true;
          return true;
        }
        st.join_waiters.push_back(self->make_response_promise());
        if (!st.joining) {
          st.joining = true;
          st.join_deadline = steady::now() + std::chrono::milliseconds{timeout_ms};
          for (size_t i = 0; i < st.peers.size(); ++i)
            if (i != st.config.membership.self_index() && !st.peers[i].connecting) connect_to(self, i);
        }
        return caf::delegated<bool>{};
      },
      [=](tick_atom) { tick(self); },
      [=](hello_atom, node_hello& h) -> caf::result<node_hello> {
        cm->messages_in.fetch_add(1, std::memory_order_relaxed);
        if (auto problem = hello_problem(self, h); !problem.empty()) {
          spdlog::error("refusing node '{}': {}", h.node_id, problem);
          // Both sides of a mismatch are told: a joining node stops rather than run half a hub.
          if (self->state.joining) finish_join(self, unavailable("cannot join the hub: " + problem));
          return unavailable(problem);
        }
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sender) return unavailable("a hello from node '" + h.node_id + "' came without a sender");
        mark_up(self, *self->state.config.membership.index_of(h.node_id), sender, h.workers);
        return my_hello(self);
      },
      [=](caf::ping_atom) { return caf::pong_atom::value; },
      [=](deliver_atom, wire_message& w) {
        cm->messages_in.fetch_add(1, std::memory_order_relaxed);
        if (!owns(self, w.partition)) {
          spdlog::warn("dropping a message for partition {}, which this node does not own", w.partition);
          return;
        }
        try {
          auto msg = decode_message(w.bytes);
          msg.source_prev_seq = w.prev_seq;
          self->send(self->state.config.directory->partitions[w.partition], deliver_atom::value, std::move(msg));
        } catch (const std::exception& e) {
          spdlog::error("dropping an unreadable message for partition {}: {}", w.partition, e.what());
        }
      },
      [=](ack_atom, uint32_t partition, uint64_t seq) {
        cm->messages_in.fetch_add(1, std::memory_order_relaxed);
        if (owns(self, partition)) self->send(self->state.config.directory->partitions[partition], ack_atom::value, seq);
      },
      [=](work_atom, wire_activity& w) -> caf::result<std::string> {
        auto& c = self->state.config;
        cm->messages_in.fetch_add(1, std::memory_order_relaxed);
        if (c.metrics->activity_queue_depth.load(std::memory_order_relaxed) >= static_cast<int64_t>(c.max_leased_queue)) {
          cm->activities_rejected.fetch_add(1, std::memory_order_relaxed);
          return make_client_error(client_errc::busy, "node '" + c.membership.self().id + "' is busy");
        }
        storage::activity_task task;
        try {
          task = decode_task(w.task);
        } catch (const std::exception& e) {
          return make_client_error(client_errc::invalid_argument, e.what());
        }
        // A one-shot relay stands in for the partition: the worker's result becomes the answer.
        auto relay = self->spawn(result_relay, self->make_response_promise());
        self->send(c.local_pool, work_atom::value, activity_work{std::move(task), relay, caf::actor{}, 0});
        return caf::delegated<std::string>{};
      },
      // ---- client API
      [=](start_atom, std::string& name, std::string& input, std::string& id,
          bool return_existing) -> caf::result<std::string> {
        if (auto err = check_payload(self, "the input", input)) return err;
        const auto p = partition_of(self, id);
        if (!owns(self, p))
          return forward<std::string>(self, p, forward_timeout, start_atom::value, std::move(name), std::move(input),
                                      std::move(id), return_existing);
        return ask_local<std::string, std::string>(self, p, forward_timeout, [](std::string& s) { return s; },
                                                   start_atom::value, std::move(name), std::move(input),
                                                   std::move(id), return_existing);
      },
      [=](command_atom, std::string& bytes) -> caf::result<std::string> {
        message msg;
        try {
          msg = decode_message(bytes);
        } catch (const std::exception& e) {
          return make_client_error(client_errc::invalid_argument, e.what());
        }
        if (auto* raised = std::get_if<events::event_raised>(&msg.event.payload))
          if (auto err = check_payload(self, "the event payload", raised->input)) return err;
        const auto p = partition_of(self, msg.instance_id);
        if (!owns(self, p)) return forward<std::string>(self, p, forward_timeout, command_atom::value, std::move(bytes));
        return ask_local<std::string, std::string>(self, p, forward_timeout, [](std::string& s) { return s; },
                                                   command_atom::value, std::move(msg));
      },
      [=](wait_atom, std::string& id, int64_t timeout_ms) -> caf::result<std::string> {
        const auto p = partition_of(self, id);
        const auto timeout = std::chrono::milliseconds{timeout_ms};
        if (!owns(self, p)) return forward<std::string>(self, p, timeout, wait_atom::value, std::move(id), timeout_ms);
        return ask_local<std::string, instance_record>(self, p, timeout,
                                                       [](instance_record& r) { return encode_record(r); },
                                                       wait_atom::value, std::move(id));
      },
      [=](purge_atom, std::string& id) -> caf::result<bool> {
        const auto p = partition_of(self, id);
        if (!owns(self, p)) return forward<bool>(self, p, forward_timeout, purge_atom::value, std::move(id));
        return ask_local<bool, bool>(self, p, forward_timeout, [](bool b) { return b; }, purge_atom::value,
                                     std::move(id));
      },
      [=](status_atom, std::string& id) -> caf::result<std::string> {
        const auto p = partition_of(self, id);
        if (!owns(self, p)) return forward<std::string>(self, p, forward_timeout, status_atom::value, std::move(id));
        auto record = self->state.config.store->instance(id);
        return record ? encode_record(*record) : std::string{};
      },
      [=](history_atom, std::string& id) -> caf::result<wire_history> {
        const auto p = partition_of(self, id);
        if (!owns(self, p)) return forward<wire_history>(self, p, forward_timeout, history_atom::value, std::move(id));
        auto& store = *self->state.config.store;
        if (!store.instance(id)) return make_client_error(client_errc::not_found, "no orchestration instance '" + id + "'");
        wire_history out;
        for (const auto& event : store.history(id)) out.events.push_back(encode_event(event));
        return out;
      },
      [=](list_atom, const wire_query& query) { return list_all(self, query); },
      [=](local_atom, list_atom, const wire_query& query) -> caf::result<wire_page> {
        cm->messages_in.fetch_add(1, std::memory_order_relaxed);
        return local_page(self, query);
      },
      [=](stats_atom) { return stats_all(self); },
      [=](local_atom, stats_atom) { return local_stats(self); });
}

}  // namespace

caf::actor spawn_node_actor(caf::actor_system& system, node_actor_config config) {
  return system.spawn<caf::detached>(node_behavior, std::move(config));
}

}  // namespace perdure::actors
