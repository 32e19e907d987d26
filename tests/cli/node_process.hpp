// Real processes for the CLI tests: the test node (started on a temp data dir, stopped with
// SIGTERM and a SIGKILL fallback, always cleaned up) and runs of the `perdure` CLI binary.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace perdure::cli_test {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// Spawns argv with stdout and stderr sent to files; returns the pid. Throws on failure.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
            const std::filesystem::path& err);

class test_node {
 public:
  /// Starts the node on a new data dir and waits (up to 30 s) for its HTTP port. `max_waiters`:
  /// its --http-max-waiters (0: the default); `flags`: more node flags. Throws std::runtime_error
  /// with the node's stderr when it does not start.
  explicit test_node(size_t max_waiters = 0, std::vector<std::string> flags = {});
  ~test_node();  // stop(), then the data dir is removed
  test_node(const test_node&) = delete;
  test_node& operator=(const test_node&) = delete;

  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  /// https:// when the node was given --api-tls-cert.
  std::string endpoint() const { return (https_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_); }
  bool alive();
  /// SIGTERM, then SIGKILL if it has not exited within 15 s; returns the exit status of waitpid.
  int stop();

 private:
  temp_dir dir_;
  pid_t pid_ = -1;
  int port_ = -1;
  bool https_ = false;
  int exit_status_ = -1;
};

/// The resident set size of a running process, in KiB (VmRSS in /proc/<pid>/status); 0 if unknown.
size_t resident_kib(pid_t pid);

struct cli_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the perdure CLI with these arguments (no shell) and waits for it (at most 60 s).
cli_result run_cli(const std::vector<std::string>& args);

}  // namespace perdure::cli_test
