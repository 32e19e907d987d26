// Regression tests for bugs the torture test and the fuzzers found, each on the function at fault.
#include "runtime/node_fixture.hpp"

#include <perdure/codec.hpp>
#include <perdure/storage/store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace perdure;
using perdure::testing_support::temp_dir;

namespace {

storage::episode_commit execution(const std::string& id, const std::string& execution_id) {
  storage::episode_commit ep;
  ep.instance_id = id;
  ep.new_execution = true;
  ep.appended.push_back(history_event{{}, events::execution_started{"Loop", id, execution_id, "0", std::nullopt}});
  ep.appended.push_back(history_event{{}, events::task_scheduled{0, "Work", "1"}});
  ep.record.instance_id = id;
  ep.record.execution_id = execution_id;
  ep.record.name = "Loop";
  ep.record.status = runtime_status::running;
  ep.scheduled_activities.push_back(storage::activity_task{id, execution_id, 0, "Work", "1", {}});
  return ep;
}

struct line_item {
  std::string sku;
  int quantity = 0;
};
PERDURE_DEFINE_TYPE(line_item, sku, quantity)

struct order_lines {
  std::string id;
  std::vector<line_item> lines;
  std::optional<int64_t> coupon;
};
PERDURE_DEFINE_TYPE(order_lines, id, lines, coupon)

}  // namespace

// Torture seed 1287893905: an instance stuck forever after a kill -9. The episode that received
// the result of task 0 continued as new and scheduled the new execution's task 0; the commit put
// the new queue entry, then deleted "task 0 finished" — the same key. Without its queue entry the
// new task 0 was not dispatched again after the restart.
TEST_CASE("a continue-as-new episode keeps the queue entry of a task id its previous execution released") {
  temp_dir dir;
  auto store = storage::hub_store::open(dir.path(), storage::store_options{1});
  storage::commit_batch first;
  first.episodes.push_back(execution("loop", "e1"));
  store->commit(first);

  storage::commit_batch next;
  auto ep = execution("loop", "e2");
  ep.finished_activities.push_back(0);  // e1's task 0 answered in this episode
  next.episodes.push_back(ep);
  store->commit(next);

  auto pending = store->pending_activities(0);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].execution_id == "e2");
  CHECK(pending[0].task_id == 0);
}

// fuzz_payload_codec, input build-fuzz/fuzz-artifacts/payload_codec-crash-1afd18...: an integer too
// large for int64 parses as a double, and nlohmann's get<int64_t>() converted it with a static_cast:
// undefined behaviour (UBSan: "9.22337e+25 is outside the range of representable values of type
// 'long'"), in practice a garbage value handed to the activity.
TEST_CASE("a JSON number out of range of the integer type asked for is a payload_error") {
  CHECK_THROWS_AS(codec<std::vector<int64_t>>::decode("[1,-2,92233720368547758054775807]"), payload_error);
  CHECK_THROWS_AS(codec<int>::decode("1e30"), payload_error);
  CHECK_THROWS_AS(codec<int64_t>::decode("-1e300"), payload_error);
  CHECK_THROWS_AS(codec<uint32_t>::decode("-1"), payload_error);
  CHECK_THROWS_AS(codec<int8_t>::decode("128"), payload_error);
  CHECK_THROWS_AS(codec<int>::decode("2.5"), payload_error);
  CHECK_THROWS_AS(codec<float>::decode("1e300"), payload_error);
  CHECK_THROWS_AS(codec<std::optional<uint64_t>>::decode("18446744073709551616"), payload_error);
  // The edges of each range still decode.
  CHECK(codec<int8_t>::decode("-128") == -128);
  CHECK(codec<uint64_t>::decode("18446744073709551615") == UINT64_MAX);
  CHECK(codec<int64_t>::decode("-9223372036854775808") == INT64_MIN);
  CHECK(codec<int>::decode("3.0") == 3);
  CHECK(codec<std::optional<int>>::decode("null") == std::nullopt);
  CHECK(codec<double>::decode("1e300") == 1e300);
}

// fuzz_payload_codec, input payload_codec-crash-ab8127c7...: `{"id":"a","quantity":3.3e26}` decoded
// as a struct whose from_json was NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE's, which converts each field
// with a static_cast (UBSan: "3.33333e+26 is outside the range of representable values of type
// 'int'"). Structs declared with PERDURE_DEFINE_TYPE check every number, nested ones included.
TEST_CASE("a struct declared with PERDURE_DEFINE_TYPE refuses a field's number out of its range") {
  CHECK_THROWS_WITH_AS(codec<line_item>::decode(R"({"sku":"a","quantity":333333333333333333333333333})"),
                       doctest::Contains("does not fit the integer type"), payload_error);
  CHECK_THROWS_AS(codec<order_lines>::decode(R"({"id":"o","lines":[{"sku":"a","quantity":1e30}],"coupon":null})"),
                  payload_error);
  CHECK_THROWS_AS(codec<order_lines>::decode(R"({"id":"o","lines":[],"coupon":1e300})"), payload_error);
  CHECK_THROWS_AS(codec<line_item>::decode(R"({"sku":"a"})"), payload_error);  // a missing field
  const auto decoded =
      codec<order_lines>::decode(R"({"id":"o","lines":[{"sku":"a","quantity":-2147483648}],"coupon":7})");
  CHECK(decoded.lines.at(0).quantity == INT32_MIN);
  CHECK(decoded.coupon == 7);
  CHECK(codec<order_lines>::decode(codec<order_lines>::encode(decoded)).lines.at(0).sku == "a");
  // An optional field may be absent, and an empty one is written as null.
  CHECK(codec<order_lines>::decode(R"({"id":"o","lines":[]})").coupon == std::nullopt);
  CHECK(codec<order_lines>::encode(order_lines{"o", {}, std::nullopt}) == R"({"coupon":null,"id":"o","lines":[]})");
}
