// Entities on a real node killed with SIGKILL and restarted: 100 orchestrations calling one counter
// and a client signalling another lose no operation and run none twice (tests/runtime/entity_node.cpp).
#include "support/child_process.hpp"
#include "support/verdict.hpp"
#include "node_fixture.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <random>
#include <thread>

using perdure::testing_support::child_process;
using perdure::testing_support::read_verdict;
using perdure::testing_support::temp_dir;
using perdure::testing_support::verdict;

namespace {
void check_verdict(const verdict& v) {
  for (const auto& p : v.problems) MESSAGE(p);
  CHECK(v.problems.empty());
  CHECK(v.verified);
  CHECK(v.exit_code == 0);
}
}  // namespace

TEST_CASE("entity operations from orchestrations and a client across kill -9s: exact count, none twice, none lost") {
  temp_dir dir;
  std::mt19937 random{std::random_device{}()};
  for (int round = 0; round < 3; ++round) {
    child_process node{{ENTITY_NODE_PATH, "run", dir.path().string()}};
    REQUIRE(node.wait_for_line("STARTED", 60'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 1500));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process checker{{ENTITY_NODE_PATH, "check", dir.path().string()}};
  check_verdict(read_verdict(checker, 180'000));
}

TEST_CASE("scheduled signals from a client across kill -9s: each arrives once, none before its time") {
  temp_dir dir;
  for (int round = 0; round < 2; ++round) {  // the second run's node recovers the first's signals
    child_process node{{ENTITY_NODE_PATH, "schedule", dir.path().string()}};
    REQUIRE(node.wait_for_line("SCHEDULED", 60'000));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process checker{{ENTITY_NODE_PATH, "check-scheduled", dir.path().string()}};
  check_verdict(read_verdict(checker, 120'000));
}
