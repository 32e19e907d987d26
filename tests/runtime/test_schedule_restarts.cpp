// A 1 s schedule on a real node killed with SIGKILL and restarted several times: exactly one run per
// tick (the ticks of the downtime are inside the catch-up window), none started twice.
#include "node_fixture.hpp"
#include "support/child_process.hpp"

#include <doctest/doctest.h>

#include <random>
#include <thread>

using perdure::testing_support::child_process;
using perdure::testing_support::temp_dir;

TEST_CASE("a 1 s schedule across kill -9s and restarts starts one run per tick, none twice") {
  temp_dir dir;
  std::mt19937 random{std::random_device{}()};
  for (int round = 0; round < 4; ++round) {
    child_process node{{SCHEDULE_NODE_PATH, "run", dir.path().string()}};
    REQUIRE(node.wait_for_line("STARTED", 60'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + random() % 2000));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 3000));  // down: ticks are missed
  }
  child_process checker{{SCHEDULE_NODE_PATH, "check", dir.path().string()}};
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
