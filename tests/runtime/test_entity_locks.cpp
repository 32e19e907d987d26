// Critical sections on a real node killed with SIGKILL and restarted: concurrent transfers under
// lock_entities never create or lose money, audits under lock always see the total, and no lock
// leaks (tests/runtime/bank_node.cpp).
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

TEST_CASE("transfers under lock_entities across kill -9s: money is conserved at every audit and at the end") {
  temp_dir dir;
  std::mt19937 random{std::random_device{}()};
  std::vector<std::string> problems;
  for (int round = 0; round < 3; ++round) {
    child_process node{{BANK_NODE_PATH, "run", dir.path().string()}};
    REQUIRE(node.wait_for_line("STARTED", 60'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 1500));
    node.kill(SIGKILL);
    while (auto line = node.read_line(1'000))
      if (line->rfind("PROBLEM", 0) == 0) problems.push_back(*line);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process checker{{BANK_NODE_PATH, "check", dir.path().string()}};
  const auto found = read_verdict(checker, 240'000);
  problems.insert(problems.end(), found.problems.begin(), found.problems.end());
  for (const auto& p : problems) MESSAGE(p);
  CHECK(problems.empty());
  CHECK(found.verified);
  CHECK(found.exit_code == 0);
}
