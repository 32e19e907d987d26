// Faults that need a real restart: a worker killed mid-activity, and orchestration code that
// changed between runs (non-determinism, then fix forward).
#include "runtime/node_fixture.hpp"
#include "support/child_process.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <thread>

using perdure::testing_support::child_process;
using perdure::testing_support::temp_dir;
using namespace std::chrono_literals;

namespace {

size_t lines_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::string run_to_line(const std::vector<std::string>& argv, const std::string& prefix) {
  child_process node{argv};
  auto line = node.wait_for_line(prefix, 60'000);
  CHECK(node.wait() == 0);
  return line.value_or("(no " + prefix + " line)");
}

}  // namespace

TEST_CASE("a worker killed mid-activity: the activity runs again after the restart and its result is applied once") {
  temp_dir dir;
  const auto data = (dir.path() / "data").string();
  const auto side = dir.path() / "executions";
  {
    child_process node{{FAULT_NODE_PATH, "activity-crash", data, side.string()}};
    REQUIRE(node.wait_for_line("UP", 60'000));
    for (int i = 0; i < 500 && lines_in(side) == 0; ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(lines_in(side) == 1);  // the activity runs (it takes 1.5 s)
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  CHECK(run_to_line({FAULT_NODE_PATH, "activity-crash", data, side.string()}, "DONE") == "DONE 42 1");
  CHECK(lines_in(side) == 2);  // at least once: once before the kill, once after
  // Finished: another restart runs nothing again.
  CHECK(run_to_line({FAULT_NODE_PATH, "activity-crash", data, side.string()}, "DONE") == "DONE 42 1");
  CHECK(lines_in(side) == 2);
}

TEST_CASE("changed orchestration code stalls the instance naming both sides and the original code fixes it forward") {
  temp_dir dir;
  const auto data = (dir.path() / "data").string();
  CHECK(run_to_line({FAULT_NODE_PATH, "flow", data, "v1", "start"}, "WAITING") == "WAITING");
  const auto stalled = run_to_line({FAULT_NODE_PATH, "flow", data, "v2", "event"}, "STALLED");
  INFO(stalled);
  CHECK(stalled.rfind("STALLED Running|NonDeterminismError|", 0) == 0);
  CHECK(stalled.find("TaskScheduled 'A'") != std::string::npos);  // the history's side
  CHECK(stalled.find("TaskScheduled 'C'") != std::string::npos);  // the code's side
  // The event that arrived while stalled is kept and applied once by the fixed code.
  CHECK(run_to_line({FAULT_NODE_PATH, "flow", data, "v1", "resume"}, "DONE") == "DONE \"go:20\" 1 Completed");
}
