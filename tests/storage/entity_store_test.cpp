// Entity rows: committed with their partition's batch, read back, listed by (name, key) across
// partitions, deleted, and kept across a reopen.
#include "test_util.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

entity_record make_entity(std::string name, std::string key, std::string state) {
  return entity_record{entity_id{std::move(name), std::move(key)}, std::move(state), at_ms(1), at_ms(2)};
}

// Commits each entity in a batch of its own partition (nullopt state deletes it).
void put(hub_store& hub, const std::vector<std::pair<entity_id, std::optional<std::string>>>& changes) {
  std::map<uint32_t, commit_batch> batches;
  for (const auto& [id, state] : changes) {
    const auto p = hub.partition_of(id.instance_id());
    auto& batch = batches[p];
    batch.partition = p;
    entity_commit commit;
    commit.instance_id = id.instance_id();
    if (state) commit.record = make_entity(id.name, id.key, *state);
    batch.entities.push_back(std::move(commit));
  }
  for (auto& [p, batch] : batches) hub.commit(batch);
}

std::vector<std::string> list_all(const hub_store& hub, entity_query q) {
  std::vector<std::string> ids;
  do {
    auto page = hub.list_entities(q);
    CHECK(page.records.size() <= q.page_size);
    for (const auto& r : page.records) ids.push_back(r.id.instance_id());
    q.continuation_token = page.continuation_token;
  } while (!q.continuation_token.empty());
  return ids;
}

}  // namespace

TEST_CASE("entities: committed, read, listed in (name, key) order across partitions with paging, deleted, reopened") {
  temp_dir dir;
  std::vector<std::string> expected_carts;
  {
    auto hub = open_hub(dir.hub(), 8);
    std::vector<std::pair<entity_id, std::optional<std::string>>> changes;
    for (int i = 0; i < 50; ++i) {
      const std::string key = "user" + std::to_string(100 + i);
      changes.push_back({entity_id{"Cart", key}, "[" + std::to_string(i) + "]"});
      expected_carts.push_back("@Cart@" + key);
      changes.push_back({entity_id{"Account", key}, std::to_string(i)});
    }
    put(*hub, changes);
    CHECK(hub->entity("@Cart@user107")->state == "[7]");
    CHECK(hub->entity("@Cart@user107")->id == entity_id{"Cart", "user107"});
    CHECK_FALSE(hub->entity("@Cart@nobody").has_value());
    CHECK_FALSE(hub->instance("@Cart@user107").has_value());  // not an instance
    CHECK(hub->list(instance_query{}).records.empty());        // instance listings never see entities

    entity_query carts;
    carts.name = "Cart";
    carts.page_size = 7;
    CHECK(list_all(*hub, carts) == expected_carts);
    entity_query everything;
    everything.page_size = 13;
    CHECK(list_all(*hub, everything).size() == 100);
    entity_query prefix;
    prefix.name = "Account";
    prefix.key_prefix = "user12";
    CHECK(list_all(*hub, prefix).size() == 10);

    put(*hub, {{entity_id{"Cart", "user107"}, std::nullopt}});
    CHECK_FALSE(hub->entity("@Cart@user107").has_value());
    expected_carts.erase(expected_carts.begin() + 7);
  }
  auto reopened = open_hub(dir.hub(), 8);
  entity_query carts;
  carts.name = "Cart";
  CHECK(list_all(*reopened, carts) == expected_carts);
  CHECK(reopened->entity("@Cart@user149")->state == "[49]");
}

TEST_CASE("entities: a listing refuses an instance listing's token, a key prefix without a name, a page of 0") {
  temp_dir dir;
  auto hub = open_hub(dir.hub(), 2);
  put(*hub, {{entity_id{"A", "1"}, "1"}, {entity_id{"A", "2"}, "2"}});
  entity_query q;
  q.page_size = 1;
  const auto page = hub->list_entities(q);
  REQUIRE_FALSE(page.continuation_token.empty());
  instance_query wrong_listing;
  wrong_listing.continuation_token = page.continuation_token;
  CHECK_THROWS_AS(hub->list(wrong_listing), store_error);
  q.key_prefix = "1";
  CHECK_THROWS_AS(hub->list_entities(q), store_error);
  entity_query empty_page;
  empty_page.page_size = 0;
  CHECK_THROWS_AS(hub->list_entities(empty_page), store_error);
}

TEST_CASE("entities: a state over max_payload_bytes is refused before anything of the batch is written") {
  temp_dir dir;
  auto hub = open_hub(dir.hub(), 1);
  commit_batch batch;
  entity_commit commit;
  commit.instance_id = "@A@big";
  commit.record = make_entity("A", "big", std::string(5u << 20, '1'));
  batch.entities.push_back(commit);
  CHECK_THROWS_AS(hub->commit(batch), store_error);
  CHECK_FALSE(hub->entity("@A@big").has_value());
}
