// Activity timeouts on a real node killed with SIGKILL while an attempt runs: the attempt's deadline
// is durable, so after the restart it times out and is retried, and its late result is dropped.
#include "node_fixture.hpp"
#include "support/child_process.hpp"

#include <doctest/doctest.h>

using perdure::testing_support::child_process;
using perdure::testing_support::temp_dir;

TEST_CASE("an attempt running at a kill -9 times out after the restart, is retried, and its late result is dropped") {
  temp_dir dir;
  {
    child_process node{{TIMEOUT_NODE_PATH, "run", dir.path().string()}};
    REQUIRE(node.wait_for_line("HANGING", 120'000));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process finisher{{TIMEOUT_NODE_PATH, "finish", dir.path().string()}};
  std::vector<std::string> problems;
  bool verified = false;
  while (auto line = finisher.read_line(300'000)) {
    if (line->rfind("PROBLEM", 0) == 0) problems.push_back(*line);
    if (line->rfind("VERIFIED", 0) == 0) verified = true;
  }
  for (const auto& p : problems) MESSAGE(p);
  CHECK(problems.empty());
  CHECK(verified);
  CHECK(finisher.wait() == 0);
}
