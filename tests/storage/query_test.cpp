// list() against a brute-force filter over 10,000 instances.
#include "query_model.hpp"

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

TEST_CASE("query: paging over 10,000 instances equals a brute-force filter, before and after status changes") {
  temp_dir dir;
  auto hub = open_hub(dir.hub(), 8);
  model m(*hub, 10'000, 1);
  check_all_queries(*hub, m, 1);

  m.change_statuses(*hub, 2'500);
  check_all_queries(*hub, m, 2);
}

TEST_CASE("query: a continuation token resumes strictly after the last record") {
  temp_dir dir;
  auto hub = open_hub(dir.hub(), 2);
  commit_batch b0, b1;
  b0.partition = 0;
  b1.partition = 1;
  for (const char* id : {"a", "b", "c", "d", "e", "f"}) {
    auto ep = start_batch(*hub, make_record(id, "N", runtime_status::running, at_ms(7)), {}).episodes[0];
    (hub->partition_of(id) == 0 ? b0 : b1).episodes.push_back(ep);
  }
  hub->commit(b0);
  hub->commit(b1);
  instance_query q;
  q.page_size = 4;
  auto first = hub->list(q);
  REQUIRE(first.records.size() == 4);
  CHECK(first.records[3].instance_id == "d");
  REQUIRE(!first.continuation_token.empty());
  q.continuation_token = first.continuation_token;
  auto second = hub->list(q);
  REQUIRE(second.records.size() == 2);
  CHECK(second.records[0].instance_id == "e");
  CHECK(second.continuation_token.empty());
  q.page_size = 6;
  q.continuation_token.clear();
  CHECK(hub->list(q).continuation_token.empty());  // exactly one full page: no further page
}
