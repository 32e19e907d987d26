// A record the store cannot decode fails the call that reads it, with the store's message naming
// the key, and only that call: the node keeps serving every other instance. On a single node the
// client reads the store itself; on a cluster node the node actor (the node's only published
// actor) reads it for the client.
#include "node_fixture.hpp"
#include "storage/raw_values.hpp"
#include "support/free_ports.hpp"

#include "keys.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/storage/store.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <functional>

using namespace perdure;
using testing_support::temp_dir;
using testing_support::test_node_options;
using testing_support::wait_limit;

namespace {

task<int> echo(orchestration_context&, int x) { co_return x; }

// The exception `call` throws, which must be a storage_failure.
std::string storage_failure_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const storage_failure& e) {
    CHECK(e.code() == errc::storage_failure);
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected storage_failure, got: " << e.what());
  }
  FAIL("expected storage_failure, nothing was thrown");
  return {};
}

}  // namespace

TEST_CASE("a corrupt instance record fails only the read of that instance, with the store's message naming its key") {
  temp_dir data;
  auto options = test_node_options(data.path());
  SUBCASE("single node: the local client") {}
  SUBCASE("cluster node: the node actor") {
    options.node_id = "a";
    options.members = "a@127.0.0.1:" + std::to_string(testing_support::free_base_port(1));
  }
  host node;
  node.add_orchestration("Echo", echo);
  node.start(options);
  for (const char* id : {"victim", "good"}) {
    start_options start;
    start.instance_id = id;
    node.client().start("Echo", "7", start);
    CHECK(node.client().wait_for_completion(id, wait_limit).status == runtime_status::completed);
  }
  node.stop();
  const uint32_t partition = storage::hub_store::open(options.data_dir, {})->partition_of("victim");
  std::string key;
  storage::keys::instance_key(key, partition, "victim");
  storage::test::put_raw(options.data_dir, "instances", key, "not a record at all");

  node.start(options);
  auto& client = node.client();
  const std::string status = storage_failure_of([&] { client.status("victim"); });
  CHECK_MESSAGE(status.find("corrupt instance record") != std::string::npos, status);
  CHECK_MESSAGE(status.find("victim") != std::string::npos, status);
  const std::string history = storage_failure_of([&] { client.history("victim"); });
  CHECK_MESSAGE(history.find("victim") != std::string::npos, history);

  // Everything else is served as before, by the same node (and the same node actor).
  for (int round = 0; round < 2; ++round) {
    const auto good = client.status("good");
    REQUIRE(good);
    CHECK(good->output == "7");
    CHECK(!client.history("good").empty());
    CHECK(!client.status("nobody"));
    CHECK_THROWS_AS(client.history("nobody"), instance_not_found);
  }
  const auto id = client.start("Echo", "8");
  CHECK(client.wait_for_completion(id, wait_limit).output == "8");
  node.stop();
}
