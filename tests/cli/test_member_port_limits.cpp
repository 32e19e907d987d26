// The member port's bounds, which hold before any TLS or authentication (--member-max-frame,
// --member-max-connections-per-address, --member-handshake-timeout; docs/security.md), against
// real cluster_node processes: strangers that stay silent, stop halfway through a TLS ClientHello
// or send a BASP frame announcing 1 GiB are disconnected, one address cannot hold more than its
// share of connections, the node's memory does not follow what they announce, and the members stay
// connected and keep running work throughout.
//
// The strangers connect from 127.0.0.2 and 127.0.0.3 (Linux routes all of 127/8 to loopback), so
// their per-address bound is theirs alone and not the members' (127.0.0.1).
#include "cluster/local_cluster.hpp"
#include "node_process.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using perdure::cli_test::resident_kib;
using perdure::cli_test::temp_dir;
using perdure::testing_support::local_cluster;

// A TCP connection to 127.0.0.1:port made from the loopback address `from`.
class stranger {
 public:
  stranger(const char* from, uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &local.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0);
  }
  ~stranger() { ::close(fd_); }
  stranger(const stranger&) = delete;
  stranger& operator=(const stranger&) = delete;

  void send(const std::string& bytes) {
    // The node may have closed the connection already: that is what the test wants, not an error.
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  /// Whether the node closed the connection (reads what it sent until the end, without blocking).
  bool closed_by_node() {
    if (closed_) return true;
    char buf[4096];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return false;
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return closed_ = true;
    }
  }

 private:
  int fd_;
  bool closed_ = false;
};

// Waits (generously: the machine is shared) until the node closed every one of `strangers`.
bool all_closed(std::vector<std::unique_ptr<stranger>>& strangers, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    size_t open = 0;
    for (auto& s : strangers) open += s->closed_by_node() ? 0 : 1;
    if (open == 0) return true;
    if (std::chrono::steady_clock::now() > deadline) {
      MESSAGE(open, " of ", strangers.size(), " connections still open");
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
}

size_t count_closed(std::vector<std::unique_ptr<stranger>>& strangers) {
  size_t closed = 0;
  for (auto& s : strangers) closed += s->closed_by_node() ? 1 : 0;
  return closed;
}

// A BASP frame header (CAF 0.17.6, 32 bytes) that a broker takes for a client handshake announcing
// a payload of 0x40404040 bytes (about 1 GiB, whichever byte order): CAF would allocate it.
std::string huge_basp_frame() {
  std::string frame(32, '\0');
  frame[0] = '\x01';  // client_handshake
  for (size_t k = 4; k < 8; ++k) frame[k] = '\x40';
  return frame;
}

// The first bytes of a TLS record carrying a ClientHello of 512 bytes, and no more of it.
std::string partial_client_hello() { return std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11); }

// Instances whose children and activities run on both members.
void run_workload(perdure::client& client, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) client.start("FanAndChild", std::to_string(i), {prefix + std::to_string(i)});
  for (int i = 0; i < n; ++i) {
    const auto record = client.wait_for_completion(prefix + std::to_string(i), 60s);
    REQUIRE(record.status == perdure::runtime_status::completed);
    CHECK(record.output == std::to_string(6 * i + 12));
  }
}

void check_members_together(perdure::cluster_client& client) {
  const auto stats = client.cluster_stats();
  REQUIRE(stats.size() == 2);
  for (const auto& s : stats) CHECK(s.members_up.size() == 1);
}

struct hub_certificates {
  temp_dir dir;
  std::string file(const std::string& name) const { return (dir.path() / name).string(); }
  hub_certificates() {
    const std::string line =
        std::string{PERDURE_SOURCE_DIR} + "/scripts/make-test-certs.sh " + dir.path().string() + " a b client >/dev/null";
    REQUIRE_MESSAGE(std::system(line.c_str()) == 0, line);
  }
  perdure::tls_credentials client() const { return {file("client.pem"), file("client.key"), file("ca.pem")}; }
};

}  // namespace

TEST_CASE("strangers on a TLS member port are disconnected by the handshake deadline and the members stay together") {
  const hub_certificates certs;
  local_cluster cluster{{"a", "b"}, 4,
                        {"--workers", "2", "--member-handshake-timeout", "1500",
                         "--member-max-connections-per-address", "24"}};
  for (size_t i = 0; i < 2; ++i)
    cluster.add_node_args(i, {"--tls-cert", certs.file(cluster.id(i) + ".pem"), "--tls-key",
                              certs.file(cluster.id(i) + ".key"), "--tls-ca", certs.file("ca.pem")});
  cluster.start_all();
  auto client = perdure::connect("127.0.0.1", cluster.port(1), certs.client());
  run_workload(*client, "before-", 10);
  const size_t rss_before = resident_kib(cluster.pid(0));

  // Silent ones, ClientHellos cut short, BASP frames where TLS is expected: three rounds of 60, so
  // the address bound (24) refuses some at once and the deadline closes the others.
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<stranger>> strangers;
    for (int k = 0; k < 60; ++k) {
      strangers.push_back(std::make_unique<stranger>("127.0.0.2", cluster.port(0)));
      if (k % 3 == 1) strangers.back()->send(partial_client_hello());
      if (k % 3 == 2) strangers.back()->send(huge_basp_frame());
    }
    CHECK(all_closed(strangers, 60s));
    // Work across the members goes on, through a connection made before and one made now.
    run_workload(*client, "round-" + std::to_string(round) + "-", 4);
    check_members_together(*client);
  }
  auto later = perdure::connect("127.0.0.1", cluster.port(0), certs.client());
  run_workload(*later, "later-", 4);

  // Generous: what matters is that 180 connections announcing up to 1 GiB each did not cost that.
  const size_t rss_after = resident_kib(cluster.pid(0));
  MESSAGE("node a: resident ", rss_before / 1024, " MiB before the strangers, ", rss_after / 1024, " MiB after");
  CHECK(rss_after < rss_before + 200 * 1024);
}

TEST_CASE("on a plain member port a frame announcing 1 GiB is refused unallocated and one address holds its bound") {
  local_cluster cluster{{"a", "b"}, 4,
                        {"--workers", "2", "--member-handshake-timeout", "120000",
                         "--member-max-connections-per-address", "24"}};
  cluster.start_all();
  auto client = cluster.client(1);
  run_workload(*client, "before-", 10);
  const size_t rss_before = resident_kib(cluster.pid(0));

  // Each frame would make CAF allocate (and zero) about 1 GiB: 40 of them, 40 GiB.
  std::vector<std::unique_ptr<stranger>> frames;
  for (int k = 0; k < 40; ++k) {
    frames.push_back(std::make_unique<stranger>("127.0.0.2", cluster.port(0)));
    frames.back()->send(huge_basp_frame());
  }
  CHECK(all_closed(frames, 60s));
  const size_t rss_after = resident_kib(cluster.pid(0));
  MESSAGE("node a: resident ", rss_before / 1024, " MiB before the frames, ", rss_after / 1024, " MiB after");
  CHECK(rss_after < rss_before + 200 * 1024);

  // 30 silent connections from one address, with a handshake deadline far away: the node holds 24
  // and closes the 6 beyond its bound at once.
  std::vector<std::unique_ptr<stranger>> silent;
  for (int k = 0; k < 30; ++k) silent.push_back(std::make_unique<stranger>("127.0.0.3", cluster.port(0)));
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (count_closed(silent) < 6 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  CHECK(count_closed(silent) == 6);

  run_workload(*client, "after-", 4);
  check_members_together(*client);
}

TEST_CASE("over TLS a certified client's message over --member-max-frame closes its connection, not the members'") {
  const hub_certificates certs;
  local_cluster cluster{{"a", "b"}, 4, {"--workers", "2", "--member-max-frame", "1048576"}};
  for (size_t i = 0; i < 2; ++i)
    cluster.add_node_args(i, {"--tls-cert", certs.file(cluster.id(i) + ".pem"), "--tls-key",
                              certs.file(cluster.id(i) + ".key"), "--tls-ca", certs.file("ca.pem")});
  cluster.set_log_level("warn");
  cluster.start_all();

  // A 2 MiB input: within --max-payload (4 MiB), over the member port's frame bound. The node
  // closes the connection; the client's watch fails the call at once (before, CAF left it to the
  // client's 60 s command timeout).
  auto client = perdure::connect("127.0.0.1", cluster.port(0), certs.client());
  const std::string big_input = "\"" + std::string(2u << 20, 'x') + "\"";
  CHECK_THROWS_AS(client->start("FanAndChild", big_input, {"too-big"}), perdure::unavailable_error);

  auto next = perdure::connect("127.0.0.1", cluster.port(0), certs.client());
  run_workload(*next, "after-", 4);
  check_members_together(*next);
  CHECK_FALSE(next->status("too-big"));
  bool warned = false;
  for (const auto& line : cluster.output())
    warned = warned || (line.rfind("a: ", 0) == 0 && line.find("--member-max-frame") != std::string::npos);
  CHECK_MESSAGE(warned, "node a did not log the refused frame with the flag to raise");
}
