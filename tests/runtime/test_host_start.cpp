// host::start that fails part-way undoes what it started: no actor, thread or open store is left
// behind, and the same data directory starts again.
#include "node_fixture.hpp"
#include "support/free_ports.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::temp_dir;
using testing_support::test_node_options;

namespace {

task<int> echo(orchestration_context&, int x) { co_return x; }

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// The thread count once the threads of a stopped node have exited (or 10 s passed): it has stayed
// the same for 300 ms. A stopped node's last threads may still be exiting when it returns.
size_t settled_thread_count() {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  size_t n = thread_count();
  auto unchanged_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline &&
         std::chrono::steady_clock::now() - unchanged_since < 300ms) {
    std::this_thread::sleep_for(20ms);
    if (const size_t now = thread_count(); now != n) {
      n = now;
      unchanged_since = std::chrono::steady_clock::now();
    }
  }
  return n;
}

// A TCP port on 127.0.0.1 that another socket listens on while this object lives.
class taken_port {
 public:
  taken_port() : port_(testing_support::free_base_port(1)) {
    REQUIRE(fd_ >= 0);
    REQUIRE(testing_support::with_loopback_socket(port_, [this](int, const sockaddr* a, socklen_t n) {
      return ::bind(fd_, a, n) == 0 && ::listen(fd_, 4) == 0;
    }));
  }
  ~taken_port() { ::close(fd_); }
  taken_port(const taken_port&) = delete;
  taken_port& operator=(const taken_port&) = delete;
  uint16_t port() const noexcept { return port_; }

 private:
  int fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port_;
};

// Ends the test process with a message if `body` does not return in time: a start that waits
// forever for actors nobody stopped would otherwise hang until CTest's timeout.
template <class Body>
void within(std::chrono::seconds limit, const char* what, Body body) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      std::cerr << what << " did not return within " << limit.count() << " s\n";
      std::_Exit(1);
    }
  });
  try {
    body();
  } catch (...) {
    {
      std::lock_guard lock(m);
      done = true;
    }
    cv.notify_one();
    watchdog.join();
    throw;
  }
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
}

}  // namespace

TEST_CASE("a taken --http-port fails the start with listen_error naming the port and leaves no thread behind") {
  temp_dir data;
  auto options = test_node_options(data.path());
  host node;
  node.add_orchestration("Echo", echo);
  // RocksDB's background threads belong to the process, not to a store: a first start and stop
  // creates them, so that what is counted below is the node's own.
  node.start(options);
  node.stop();
  const taken_port taken;
  const size_t before = settled_thread_count();

  options.http_port = taken.port();
  bool refused = false;
  within(60s, "host::start on a taken --http-port", [&] {
    try {
      node.start(options);
    } catch (const listen_error& e) {
      refused = true;
      CHECK(e.code() == errc::cannot_listen);
      const std::string message = e.what();
      CHECK_MESSAGE(message.find("127.0.0.1:" + std::to_string(taken.port())) != std::string::npos, message);
      CHECK_MESSAGE(message.find("management API") != std::string::npos, message);
    }
  });
  CHECK(refused);
  CHECK_FALSE(node.running());
  CHECK(settled_thread_count() <= before);

  // Nothing of the failed start holds the data directory: the same node starts on it and works.
  options.http_port = 0;
  node.start(options);
  CHECK(node.http_port() > 0);
  const auto id = node.client().start("Echo", "5");
  CHECK(node.client().wait_for_completion(id, testing_support::wait_limit).output == "5");
  node.stop();
  CHECK(settled_thread_count() <= before);
}
