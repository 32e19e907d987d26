// Crash atomicity with real processes: kill -9 a committing child, reopen, and check that every
// acknowledged batch is wholly present and no batch is partly present.
#include "crash_workload.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <sstream>

extern char** environ;

using namespace perdure;
using namespace perdure::storage;
using namespace perdure::storage::test;

namespace {

// Runs the child until `run_for`, kills it with SIGKILL and returns every batch it acknowledged.
std::vector<uint64_t> run_and_kill(const std::filesystem::path& hub, uint64_t first, std::chrono::milliseconds run_for) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string path = PERDURE_CRASH_CHILD, dir = hub.string(), start = std::to_string(first);
  char* argv[] = {path.data(), dir.data(), start.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);

  std::string out;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + run_for;
  bool killed = false;
  for (;;) {
    if (!killed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        kill(pid, SIGKILL);
        killed = true;
        continue;
      }
      pollfd pfd{fds[0], POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    }
    ssize_t n = read(fds[0], buf, sizeof buf);  // after the kill: drain what it printed, to EOF
    if (n <= 0) {
      if (!killed) {
        kill(pid, SIGKILL);
        killed = true;
      }
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));  // it died of our SIGKILL, not of an error of its own
  std::vector<uint64_t> acks;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) acks.push_back(std::stoull(line));
  if (!out.empty() && out.back() != '\n' && !acks.empty()) acks.pop_back();  // cut mid-number
  return acks;
}

}  // namespace

TEST_CASE("crash: kill -9 during sync commits loses no acknowledged batch and leaves no partial one") {
  temp_dir dir;
  std::mt19937 rng(std::random_device{}());
  size_t total_acks = 0;
  std::set<uint64_t> seqs_before;
  for (uint64_t round = 1; round <= 5; ++round) {
    uint64_t first = round * 1'000'000;
    auto run_for = std::chrono::milliseconds(300 + rng() % 700);
    auto acks = run_and_kill(dir.hub(), first, run_for);
    total_acks += acks.size();
    uint64_t last = acks.empty() ? first - 1 : acks.back();
    for (size_t i = 0; i < acks.size(); ++i) REQUIRE(acks[i] == first + i);

    auto hub = open_hub(dir.hub(), crash_partitions);
    crash_view view(*hub);
    for (uint64_t n = first; n <= last; ++n) {
      CAPTURE(n);
      REQUIRE(crash_presence(*hub, view, n) == presence::whole);
    }
    auto next = crash_presence(*hub, view, last + 1);  // committed, maybe, but not yet acknowledged
    CHECK(next != presence::partial);
    CHECK(crash_presence(*hub, view, last + 2) == presence::absent);
    uint64_t committed = last - first + 1 + (next == presence::whole);
    CHECK(view.outbox_entries == seqs_before.size() + committed * crash_episodes);
    // Outbox seqs are never reused, crash or not: the earlier ones are all still there.
    CHECK(std::includes(view.outbox_seqs.begin(), view.outbox_seqs.end(), seqs_before.begin(), seqs_before.end()));
    seqs_before = view.outbox_seqs;
    MESSAGE("round " << round << ": killed after " << run_for.count() << " ms, " << acks.size() << " batches acknowledged");
  }
  CHECK(total_acks > 0);
}
