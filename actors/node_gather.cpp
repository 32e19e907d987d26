#include "node_gather.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <memory>

namespace perdure::actors::node_impl {

using namespace std::chrono_literals;

namespace {

// The two listings the node gathers: how their records travel, sort and continue.
struct instance_listing {
  using record = instance_record;
  static constexpr const char* what = "instances";
  static record decode(const std::string& bytes) { return decode_record(bytes); }
  static std::string encode(const record& r) { return encode_record(r); }
  static bool before(const record& a, const record& b) {
    return std::tie(a.created_at, a.instance_id) < std::tie(b.created_at, b.instance_id);
  }
};
struct entity_listing {
  using record = entity_record;
  static constexpr const char* what = "entities";
  static record decode(const std::string& bytes) { return decode_entity(bytes); }
  static std::string encode(const record& r) { return encode_entity(r); }
  // The store's order: entity instance ids ("@name@key"), so that its continuation token fits.
  static bool before(const record& a, const record& b) { return a.id.instance_id() < b.id.instance_id(); }
};

template <class Listing, class Page>
wire_page to_wire_page(const Page& page) {
  wire_page out;
  out.continuation_token = page.continuation_token;
  for (const auto& r : page.records) out.records.push_back(Listing::encode(r));
  return out;
}

// A replicated hub's store also holds copies of partitions this node follows: only the ones it
// owns are answered from here, so that each record is listed by one node.
wire_page local_page(node_actor* self, const wire_query& query) {
  const auto& c = self->state.config;
  return to_wire_page<instance_listing>(c.replicated ? c.replicated->list(from_wire(query), c.view->local_partitions())
                                                     : c.store->list(from_wire(query)));
}

wire_page local_page(node_actor* self, const wire_entity_query& query) {
  const auto& c = self->state.config;
  return to_wire_page<entity_listing>(c.replicated
                                          ? c.replicated->list_entities(from_wire(query), c.view->local_partitions())
                                          : c.store->list_entities(from_wire(query)));
}

// A page is one bounded read of a store. A node killed after the request left never answers it
// (the transport does not fail requests already on the wire), so the wait is short and the client,
// whose own timeout is longer, hears "unavailable" rather than a timeout of its own.
constexpr auto peer_page_timeout = 10s;

// The request for another node's part of a listing.
auto ask_local_page(node_actor* self, const caf::actor& node, const wire_query& query) {
  return self->request(node, peer_page_timeout, local_atom::value, list_atom::value, query);
}
auto ask_local_page(node_actor* self, const caf::actor& node, const wire_entity_query& query) {
  return self->request(node, peer_page_timeout, local_atom::value, list_atom::value, entity_atom::value, query);
}

// Every node's page starts after the same position: merged in the listing's order, the first
// page_size records are the hub's page, and it continues after the last of them.
template <class Listing>
struct list_gather {
  caf::response_promise rp;
  size_t page_size = 0;
  size_t pending = 0;
  bool more = false;
  bool failed = false;
  std::vector<typename Listing::record> records;

  void add(const wire_page& page) {
    more = more || !page.continuation_token.empty();
    for (const auto& bytes : page.records) records.push_back(Listing::decode(bytes));
  }
  void finish() {
    std::ranges::sort(records, Listing::before);
    wire_page out;
    if (records.size() > page_size) {
      more = true;
      records.resize(page_size);
    }
    if (more && !records.empty()) out.continuation_token = storage::continuation_token_after(records.back());
    for (const auto& r : records) out.records.push_back(Listing::encode(r));
    rp.deliver(std::move(out));
  }
};

// Asks this node's store and every other owner of a partition for a page after the same position,
// and answers the merged page; an error while any partition has no reachable owner.
template <class Listing, class Query>
caf::result<wire_page> gather(node_actor* self, const Query& query) {
  auto& st = self->state;
  const std::string cannot_list = std::string("cannot list ") + Listing::what;
  if (query.page_size == 0)
    return make_client_error(client_errc::invalid_argument, std::string("a listing of ") + Listing::what +
                                                                " needs a page size of at least 1");
  // Every owner of a partition is asked, and only they: a member that owns nothing (or that was
  // lost and whose partitions moved) holds no record to list.
  std::vector<bool> ask(st.peers.size());
  for (uint32_t p = 0; p < st.config.partitions; ++p) {
    const auto owner = st.config.view->owner(p);
    if (owner.member == no_member)
      return unavailable(cannot_list + ": partition " + std::to_string(p) + " has no owner yet; retry in a few seconds");
    if (owner.member == st.config.membership.self_index()) {
      if (!owner.local)
        return unavailable(cannot_list + ": partition " + std::to_string(p) +
                           " is being taken over by this node; retry in a few seconds");
      continue;
    }
    if (!st.peers[owner.member].node) {
      const auto& m = st.config.membership.members()[owner.member];
      return unavailable(cannot_list + ": node '" + m.id + "' holds some of them and is unreachable: " +
                         st.peers[owner.member].last_error);
    }
    ask[owner.member] = true;
  }
  auto pages = std::make_shared<list_gather<Listing>>();
  pages->page_size = query.page_size;
  pages->add(local_page(self, query));
  // Only now: a response promise takes over the answer, so nothing may be returned after it.
  pages->rp = self->make_response_promise();
  for (size_t i = 0; i < st.peers.size(); ++i) {
    if (!ask[i]) continue;
    ++pages->pending;
    const std::string peer_id = st.config.membership.members()[i].id;
    ask_local_page(self, st.peers[i].node, query)
        .then(
            [pages, cannot_list, peer_id](const wire_page& page) {
              if (pages->failed) return;
              try {
                pages->add(page);
              } catch (const std::exception& e) {
                pages->failed = true;
                pages->rp.deliver(unavailable(cannot_list + ": node '" + peer_id + "' sent an unreadable page: " + e.what()));
                return;
              }
              if (--pages->pending == 0) pages->finish();
            },
            [pages, cannot_list, peer_id](caf::error& err) {
              if (pages->failed) return;
              pages->failed = true;
              if (err.category() == caf::atom("perdure")) {
                pages->rp.deliver(std::move(err));  // the peer's own answer (a bad token, a failed store)
                return;
              }
              pages->rp.deliver(unavailable(cannot_list + ": node '" + peer_id +
                                            "' holds some of them and did not answer: " + caf::to_string(err) +
                                            "; retry in a few seconds"));
            });
  }
  if (pages->pending == 0) pages->finish();
  return caf::delegated<wire_page>{};
}

}  // namespace

caf::result<wire_page> list_all(node_actor* self, const wire_query& query) {
  return gather<instance_listing>(self, query);
}

caf::result<wire_page> list_entities_all(node_actor* self, const wire_entity_query& query) {
  return gather<entity_listing>(self, query);
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

caf::result<wire_page> list_entities_local(node_actor* self, const wire_entity_query& query) {
  self->state.config.cluster->messages_in.fetch_add(1, std::memory_order_relaxed);
  return local_page(self, query);
}

}  // namespace perdure::actors::node_impl
