// cluster_control's refusals to remove a member (`perdure cluster remove`), against a real
// nats-server's member bucket and an in-memory assignment table.
#include "runtime/cluster_control.hpp"
#include "support/nats_cluster.hpp"

#include <perdure/errors.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace perdure;
using testing_support::nats_cluster;

namespace {

// The message of the invalid_argument_error `action` throws.
std::string refusal(auto&& action) {
  try {
    action();
  } catch (const invalid_argument_error& e) {
    return e.what();
  }
  FAIL("not refused");
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("cluster_control::remove refuses this node and an unknown member and one that owns or follows or is a move target "
          "of a partition or that this node reaches, then writes the tombstone") {
  nats_cluster servers(1);
  storage::jetstream_options options;
  options.servers = servers.urls();
  storage::jetstream_connection connection(options);
  storage::member_registry registry(connection, "control", 1);
  for (const auto* id : {"a", "b", "c"}) registry.enroll(id, "127.0.0.1:1");
  storage::memory_assignment_table table;
  actors::cluster_view view(2, {"a", "b", "c"});
  cluster_control control(registry, table, view, "a");

  CHECK(contains(refusal([&] { control.remove("a"); }), "is the node answering this request"));
  CHECK(contains(refusal([&] { control.remove("x"); }), "no member 'x' in this hub (members: a, b, c)"));

  table.compare_and_set(0, {"c", {"b"}, 1}, 0);
  table.compare_and_set(1, {"b", {"c"}, 1, "c"}, 0);
  const auto held = refusal([&] { control.remove("c"); });
  CHECK(contains(held, "member 'c' still owns partition 0; follows partition 1; is the target of the move of partition 1"));
  CHECK(contains(held, "perdure cluster drain c"));

  table.compare_and_set(0, {"b", {"a"}, 2}, table.get(0)->revision);
  table.compare_and_set(1, {"b", {"a"}, 1}, table.get(1)->revision);
  view.set_reachable(2, true);
  CHECK(contains(refusal([&] { control.remove("c"); }), "member 'c' is running (this node reaches it): stop it first"));

  view.set_reachable(2, false);
  control.remove("c");
  CHECK(registry.members().at("c").state == storage::member_state::removed);
  CHECK(contains(refusal([&] { control.drain("c"); }), "no member 'c'"));
  CHECK(contains(refusal([&] { control.move(0, "c"); }), "no member 'c'"));
}
