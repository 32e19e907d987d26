// Real child processes for crash tests: start a program, read its output lines, kill -9 it.
#pragma once

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace perdure::testing_support {

class child_process {
 public:
  /// Starts `argv[0]` with the arguments; its stdout is readable line by line.
  explicit child_process(const std::vector<std::string>& argv);
  ~child_process();  // kills the child if it still runs
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of output, or nullopt at end of output or after `timeout_ms`.
  std::optional<std::string> read_line(int timeout_ms);
  /// Reads lines until one starts with `prefix`; returns it.
  std::optional<std::string> wait_for_line(const std::string& prefix, int timeout_ms);
  void kill(int signal = SIGKILL);
  /// SIGSTOP, then waits until every thread of the child has stopped. kill(SIGSTOP) alone returns
  /// before that: the stop starts when one of the child's threads takes the signal, and on a loaded
  /// machine the child's other threads went on running for 20-80 ms after kill() returned
  /// (docs/reliability.md), long enough to answer a request sent after the "stop".
  void stop();
  pid_t pid() const noexcept { return pid_; }
  /// Waits for the exit; returns the exit code, or 128 + signal if killed.
  int wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace perdure::testing_support
