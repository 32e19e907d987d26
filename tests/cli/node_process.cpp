#include "node_process.hpp"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace perdure::cli_test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits for pid up to `timeout`; the waitpid status, or nullopt if it still runs.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

temp_dir::temp_dir() {
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() / ("perdure-cli-test-" + std::to_string(random()) + std::to_string(random()));
  std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ignored;  // best effort: a leftover temp dir must not fail the test run
  std::filesystem::remove_all(path_, ignored);
}

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out, const std::filesystem::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

test_node::test_node(size_t max_waiters, std::vector<std::string> flags) {
  const auto out = dir_.path() / "node.out";
  std::vector<std::string> argv{PERDURE_TEST_NODE_PATH, (dir_.path() / "data").string()};
  if (max_waiters > 0) argv.insert(argv.end(), {"--http-max-waiters", std::to_string(max_waiters)});
  https_ = std::find(flags.begin(), flags.end(), "--api-tls-cert") != flags.end();
  argv.insert(argv.end(), flags.begin(), flags.end());
  pid_ = spawn(argv, out, dir_.path() / "node.err");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_file(out);
    if (auto at = text.find("HTTP_PORT "); at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port_ = std::stoi(text.substr(at + 10));
      return;
    }
    if (!alive()) break;
    std::this_thread::sleep_for(20ms);
  }
  const std::string errors = read_file(dir_.path() / "node.err");
  stop();
  throw std::runtime_error("the test node did not start: " + errors);
}

test_node::~test_node() { stop(); }

bool test_node::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  exit_status_ = status;
  pid_ = -1;
  return false;
}

int test_node::stop() {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  auto status = wait_for_exit(pid_, 15s);
  if (!status) {
    ::kill(pid_, SIGKILL);
    status = wait_for_exit(pid_, 15s);
  }
  pid_ = -1;
  exit_status_ = status.value_or(-1);
  // A sanitizer report or a crash at shutdown would otherwise vanish with the temp dir.
  if (exit_status_ != 0) std::cerr << "test node exit status " << exit_status_ << ":\n" << read_file(dir_.path() / "node.err");
  return exit_status_;
}

size_t resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6));
  return 0;
}

cli_result run_cli(const std::vector<std::string>& args) {
  temp_dir dir;
  std::vector<std::string> argv{PERDURE_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, dir.path() / "out", dir.path() / "err");
  auto status = wait_for_exit(pid, 60s);
  if (!status) {
    ::kill(pid, SIGKILL);
    wait_for_exit(pid, 10s);
    throw std::runtime_error("the perdure CLI did not finish within 60 s");
  }
  cli_result r;
  r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  r.out = read_file(dir.path() / "out");
  r.err = read_file(dir.path() / "err");
  return r;
}

}  // namespace perdure::cli_test
