// The member bucket of a replicated hub on a real nats-server: enrolment, drains and an
// operator's removal (a tombstone), read back by another connection as another node would.
#include "support/jetstream_options.hpp"
#include "support/nats_cluster.hpp"

#include <member_registry.hpp>

#include <perdure/storage/store.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace perdure;
using storage::member_state;
using testing_support::nats_cluster;
using testing_support::options_for;

namespace {

storage::errc error_of(auto&& action) {
  try {
    action();
  } catch (const storage::store_error& e) {
    return e.code();
  }
  FAIL("no store_error");
  return {};
}

}  // namespace

TEST_CASE("member_registry: a removed member stays as a tombstone, is not drained or activated, and enrolls again") {
  nats_cluster servers(1);
  storage::jetstream_connection first(options_for(servers));
  storage::jetstream_connection second(options_for(servers));
  storage::member_registry a(first, "registry", 1);
  storage::member_registry other(second, "registry", 1);
  a.enroll("a", "127.0.0.1:1");
  other.enroll("c", "127.0.0.1:3");

  a.set_state("c", member_state::draining);
  a.set_state("c", member_state::removed);
  auto members = other.members();
  REQUIRE(members.size() == 2);
  CHECK(members.at("c") == storage::registered_member{"127.0.0.1:3", member_state::removed});
  CHECK(members.at("a").state == member_state::active);

  // Removed: no longer a member to drain, activate or remove again; the message names the others.
  CHECK(error_of([&] { other.set_state("c", member_state::active); }) == storage::errc::not_found);
  try {
    a.set_state("c", member_state::removed);
    FAIL("removed twice");
  } catch (const storage::store_error& e) {
    CHECK(std::string{e.what()}.find("no member 'c' in this hub (members: a)") != std::string::npos);
  }
  CHECK(error_of([&] { a.set_state("x", member_state::removed); }) == storage::errc::not_found);

  // The node starts again with the same id: it enrolls, active, at its new address.
  other.enroll("c", "127.0.0.1:4");
  CHECK(a.members().at("c") == storage::registered_member{"127.0.0.1:4", member_state::active});
}
