// Entities on a real node killed with SIGKILL and restarted: 100 orchestrations calling one counter
// and a client signalling another lose no operation and run none twice (tests/runtime/entity_node.cpp).
#include "support/child_process.hpp"
#include "node_fixture.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <random>
#include <thread>

using perdure::testing_support::child_process;
using perdure::testing_support::temp_dir;

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
  std::vector<std::string> problems;
  bool verified = false;
  while (auto line = checker.read_line(180'000)) {
    if (line->rfind("PROBLEM", 0) == 0) problems.push_back(*line);
    if (line->rfind("VERIFIED", 0) == 0) {
      verified = true;
      MESSAGE(*line);
    }
  }
  for (const auto& p : problems) MESSAGE(p);
  CHECK(problems.empty());
  CHECK(verified);
  CHECK(checker.wait() == 0);
}
