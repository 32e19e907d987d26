#include "node_gather.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <memory>

namespace perdure::actors::node_impl {

using namespace std::chrono_literals;

namespace {

wire_page local_page(node_actor* self, const wire_query& query) {
  const auto& c = self->state.config;
  // A replicated hub's store also holds copies of partitions this node follows: only the ones it
  // owns are answered from here, so that each record is listed by one node.
  auto page = c.replicated ? c.replicated->list(from_wire(query), c.view->local_partitions())
                           : c.store->list(from_wire(query));
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
    if (more && !records.empty()) out.continuation_token = storage::continuation_token_after(records.back());
    for (const auto& r : records) out.records.push_back(encode_record(r));
    rp.deliver(std::move(out));
  }
};

}  // namespace

caf::result<wire_page> list_all(node_actor* self, const wire_query& query) {
  auto& st = self->state;
  if (query.page_size == 0)
    return make_client_error(client_errc::invalid_argument, "instance_query::page_size must be at least 1");
  // Every owner of a partition is asked, and only they: a member that owns nothing (or that was
  // lost and whose partitions moved) holds no record to list.
  std::vector<bool> ask(st.peers.size());
  for (uint32_t p = 0; p < st.config.partitions; ++p) {
    const auto owner = st.config.view->owner(p);
    if (owner.member == no_member)
      return unavailable("cannot list instances: partition " + std::to_string(p) +
                         " has no owner yet; retry in a few seconds");
    if (owner.member == st.config.membership.self_index()) {
      if (!owner.local)
        return unavailable("cannot list instances: partition " + std::to_string(p) +
                           " is being taken over by this node; retry in a few seconds");
      continue;
    }
    if (!st.peers[owner.member].node) {
      const auto& m = st.config.membership.members()[owner.member];
      return unavailable("cannot list instances: node '" + m.id + "' holds some of them and is unreachable: " +
                         st.peers[owner.member].last_error);
    }
    ask[owner.member] = true;
  }
  auto gather = std::make_shared<list_gather>();
  gather->page_size = query.page_size;
  gather->add(local_page(self, query));
  // Only now: a response promise takes over the answer, so nothing may be returned after it.
  gather->rp = self->make_response_promise();
  for (size_t i = 0; i < st.peers.size(); ++i) {
    if (!ask[i]) continue;
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
  s.partitions_owned = static_cast<uint32_t>(c.view->local_partitions().size());
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

caf::result<wire_page> list_local(node_actor* self, const wire_query& query) {
  self->state.config.cluster->messages_in.fetch_add(1, std::memory_order_relaxed);
  return local_page(self, query);
}

}  // namespace perdure::actors::node_impl
