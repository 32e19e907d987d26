// Entities on a real static 3-node cluster of examples/cluster's node program (its Counter entity
// adds each "add" input to its state): signals through every node, reads through non-owners, and a
// listing through one node that gathers every owner's entities, page by page.
#include "local_cluster.hpp"

#include <perdure/entity_record.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::local_cluster;

namespace {

constexpr size_t entity_count = 50;

std::string key_of(size_t i) { return "k" + std::to_string(1000 + i); }

// Signals run after they are queued: polls through `client` until the entity holds `state`,
// failing after 60 s.
void wait_for_state(cluster_client& client, const entity_id& id, const std::string& state) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    const auto entity = client.get_entity(id);
    if (entity && entity->state == state) return;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                    id.instance_id() << " never held " << state << "; it holds " << (entity ? entity->state : "nothing"));
    std::this_thread::sleep_for(20ms);
  }
}

// Every page of a listing through `client`.
std::vector<entity_record> list_all(cluster_client& client, entity_query query, size_t& pages) {
  std::vector<entity_record> all;
  pages = 0;
  do {
    entity_page page = client.list_entities(query);
    ++pages;
    REQUIRE(page.records.size() <= query.page_size);
    all.insert(all.end(), page.records.begin(), page.records.end());
    query.continuation_token = page.continuation_token;
  } while (!query.continuation_token.empty());
  return all;
}

}  // namespace

TEST_CASE("cluster entities: signalled through every node, read through non-owners, listed through one in pages") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "2"}};
  cluster.start_all();
  std::vector<std::unique_ptr<cluster_client>> clients;
  for (size_t i = 0; i < 3; ++i) clients.push_back(cluster.client(i));

  for (size_t i = 0; i < entity_count; ++i)
    clients[i % 3]->signal_entity(entity_id{"Counter", key_of(i)}, "add", std::to_string(i));
  // Read through the node after the one each was signalled through: with 6 partitions on 3 nodes,
  // most of these reads go to a node that does not own the entity.
  for (size_t i = 0; i < entity_count; ++i)
    wait_for_state(*clients[(i + 1) % 3], entity_id{"Counter", key_of(i)}, std::to_string(i));

  size_t pages = 0;
  entity_query query;
  query.page_size = 7;
  const auto listed = list_all(*clients[1], query, pages);
  CHECK(pages == (entity_count + 6) / 7);
  REQUIRE(listed.size() == entity_count);
  for (size_t i = 0; i < entity_count; ++i) {  // every entity exactly once, in key order
    CHECK(listed[i].id == entity_id{"Counter", key_of(i)});
    CHECK(listed[i].state == std::to_string(i));
  }

  // The filters hold across nodes too: keys k1010 to k1019.
  query.name = "Counter";
  query.key_prefix = "k101";
  const auto prefixed = list_all(*clients[2], query, pages);
  REQUIRE(prefixed.size() == 10);
  CHECK(prefixed.front().id.key == "k1010");
  CHECK(prefixed.back().id.key == "k1019");
  query.name = "Other";
  query.key_prefix.clear();
  CHECK(list_all(*clients[0], query, pages).empty());

  // A bad page size or token is the caller's error, from any node.
  entity_query bad;
  bad.page_size = 0;
  CHECK_THROWS_AS(clients[0]->list_entities(bad), invalid_argument_error);
  bad.page_size = 5;
  bad.continuation_token = "0141";  // an instance listing's kind
  CHECK_THROWS_AS(clients[0]->list_entities(bad), invalid_argument_error);

  // A node that stops answering while connected (SIGSTOP, as a request already on the wire to a
  // node killed just then): the listing says so in its own words rather than time out.
  cluster.stop_signal(2);
  try {
    clients[0]->list_entities(entity_query{});
    FAIL("a listing answered while node c was stopped");
  } catch (const error& e) {
    CHECK(e.code() == errc::unavailable);
    CHECK(std::string(e.what()).find("cannot list entities: node 'c'") != std::string::npos);
  }

  // A node down: the listing says so rather than answer part of it.
  cluster.kill(2);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    try {
      clients[0]->list_entities(entity_query{});
    } catch (const error& e) {
      CHECK(e.code() == errc::unavailable);
      CHECK(std::string(e.what()).find("cannot list entities") != std::string::npos);
      break;
    }
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the listing never noticed node c was down");
    std::this_thread::sleep_for(100ms);
  }
}
