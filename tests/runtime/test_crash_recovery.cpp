// Crash recovery with real processes: kill -9 a node mid-flight, several times, restart it on the
// same data dir, and check that every instance ends right with exactly one result per task.
#include "node_fixture.hpp"
#include "support/child_process.hpp"
#include "support/verdict.hpp"

#include <doctest/doctest.h>

#include <random>
#include <thread>

using perdure::testing_support::child_process;
using perdure::testing_support::read_verdict;
using perdure::testing_support::temp_dir;

TEST_CASE("a node killed with SIGKILL at random moments loses nothing and applies nothing twice") {
  temp_dir dir;
  const std::string instances = "200";
  std::mt19937 random{std::random_device{}()};
  for (int round = 0; round < 4; ++round) {
    child_process node{{RECOVERY_NODE_PATH, "run", dir.path().string(), instances}};
    REQUIRE(node.wait_for_line("STARTED", 60'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 1500));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process finisher{{RECOVERY_NODE_PATH, "finish", dir.path().string(), instances}};
  const auto found = read_verdict(finisher, 180'000);
  for (const auto& p : found.problems) MESSAGE(p);
  CHECK(found.problems.empty());
  CHECK(found.verified);
  CHECK(found.exit_code == 0);
}
