// Crash torture: a real node runs random orchestrations and is killed with SIGKILL at random
// moments, K times, restarting on the same data dir; then a last run finishes every instance and
// checks them against the oracle (see torture_node.cpp, torture_checks.hpp).
//
// Short form by default (CI). Long form: PERDURE_TORTURE_KILLS=50 PERDURE_TORTURE_INSTANCES=2000;
// PERDURE_TORTURE_SEED replays a run (the seed is printed).
#include "runtime/node_fixture.hpp"
#include "support/child_process.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

using perdure::testing_support::child_process;
using perdure::testing_support::temp_dir;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::stoull(value) : fallback;
}

}  // namespace

TEST_CASE("torture: random orchestrations survive kill -9 at random moments") {
  temp_dir dir;
  const uint64_t kills = env_or("PERDURE_TORTURE_KILLS", 4);
  const uint64_t instances = env_or("PERDURE_TORTURE_INSTANCES", 40);
  const uint64_t seed = env_or("PERDURE_TORTURE_SEED", std::random_device{}());
  std::cout << "torture: seed " << seed << ", " << instances << " instances, " << kills << " kills" << std::endl;
  std::mt19937_64 random{seed};
  const std::vector<std::string> base{TORTURE_NODE_PATH, "", dir.path().string(), std::to_string(seed),
                                      std::to_string(instances)};

  uint64_t landed = 0;
  for (uint64_t k = 0; k < kills; ++k) {
    auto argv = base;
    argv[1] = "run";
    child_process node{argv};
    REQUIRE(node.wait_for_line("UP", 60'000));
    // Mostly short intervals, so that many kills land inside a commit or just after it, before its
    // effects are released; some long ones, so that work piles up between kills.
    const auto delay = random() % 4 == 0 ? 300 + random() % 2000 : random() % 300;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    node.kill(SIGKILL);
    if (node.wait() == 128 + SIGKILL) ++landed;
  }

  auto argv = base;
  argv[1] = "verify";
  const uint64_t verify_seconds = std::max<uint64_t>(240, instances * 3 / 10);
  argv.push_back(std::to_string(verify_seconds));
  child_process verifier{argv};
  std::vector<std::string> problems;
  std::string figures;
  bool verified = false;
  while (auto line = verifier.read_line(static_cast<int>((verify_seconds + 120) * 1000))) {
    if (line->rfind("PROBLEM", 0) == 0) problems.push_back(*line);
    if (line->rfind("FIGURES", 0) == 0) figures = *line;
    if (line->rfind("VERIFIED", 0) == 0) verified = true;
  }
  std::cout << "torture: " << landed << " kills landed; " << figures << std::endl;
  for (size_t i = 0; i < problems.size() && i < 50; ++i) MESSAGE(problems[i]);
  if (!problems.empty()) {  // keep the evidence: the data dir can be inspected and re-verified
    const auto kept = std::filesystem::temp_directory_path() / ("perdure-torture-failed-" + std::to_string(seed));
    std::filesystem::copy(dir.path(), kept, std::filesystem::copy_options::recursive);
    MESSAGE("data dir kept in " << kept.string());
  }
  CHECK(problems.empty());
  CHECK(verified);
  CHECK(verifier.wait() == 0);
  CHECK(landed == kills);
}
