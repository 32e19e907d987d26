#include "child_process.hpp"

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace perdure::testing_support {

child_process::child_process(const std::vector<std::string>& argv) {
  // Built before the fork: between fork and exec the child of a multithreaded process may only make
  // async-signal-safe calls. An allocation there can wait forever for an allocator lock that
  // another thread held at the fork (under ASan a child spun for 8 minutes, 1 thread, state R).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
}

child_process::~child_process() {
  if (!exited_) {
    kill(SIGKILL);
    wait();
  }
  if (out_fd_ >= 0) close(out_fd_);
}

std::optional<std::string> child_process::read_line(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto eol = buffer_.find('\n'); eol != std::string::npos) {
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = read(out_fd_, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::optional<std::string> child_process::wait_for_line(const std::string& prefix, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = read_line(static_cast<int>(left.count()));
    if (!line) return std::nullopt;
    if (line->rfind(prefix, 0) == 0) return line;
  }
}

void child_process::kill(int signal) {
  if (!exited_ && pid_ > 0) ::kill(pid_, signal);
}

void child_process::stop() {
  if (exited_ || pid_ <= 0) return;
  ::kill(pid_, SIGSTOP);
  int status = 0;
  for (;;) {
    const pid_t changed = waitpid(pid_, &status, WUNTRACED);
    if (changed < 0 && errno == EINTR) continue;
    if (changed < 0) throw std::system_error(errno, std::generic_category(), "waitpid for a stopped child");
    if (WIFSTOPPED(status)) return;
    status_ = status;  // it ended before it stopped
    exited_ = true;
    return;
  }
}

int child_process::wait() {
  if (!exited_) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

}  // namespace perdure::testing_support
