// Mutual TLS between the members of a hub (--tls-cert/--tls-key/--tls-ca, docs/security.md), with
// real cluster_node processes: the hub forms and runs a cross-node workload, and whoever has no
// certificate signed by the hub's CA (a plain BASP client, a client or a member with another CA's
// certificate, raw bytes) is refused and changes nothing.
#include "cluster/local_cluster.hpp"
#include "node_process.hpp"
#include "raw_socket.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using perdure::cli_test::raw_socket;
using perdure::cli_test::temp_dir;
using perdure::testing_support::child_process;
using perdure::testing_support::local_cluster;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The hub's CA with certificates for its members and a client; another CA with one for an intruder.
struct hub_certificates {
  temp_dir dir;
  std::string hub = (dir.path() / "hub").string();
  std::string other = (dir.path() / "other").string();

  hub_certificates() {
    for (const std::string& command : {"/scripts/make-test-certs.sh " + hub + " a b client >/dev/null",
                                       "/scripts/make-test-certs.sh " + other + " intruder >/dev/null"}) {
      const std::string line = PERDURE_SOURCE_DIR + command;
      REQUIRE_MESSAGE(std::system(line.c_str()) == 0, line);
    }
  }
  std::vector<std::string> member_flags(const std::string& id) const {
    return {"--tls-cert", hub + "/" + id + ".pem", "--tls-key", hub + "/" + id + ".key", "--tls-ca", hub + "/ca.pem"};
  }
  perdure::tls_credentials client() const { return {hub + "/client.pem", hub + "/client.key", hub + "/ca.pem"}; }
  // Trusts the hub's CA, but its own certificate is another CA's.
  perdure::tls_credentials intruder() const {
    return {other + "/intruder.pem", other + "/intruder.key", hub + "/ca.pem"};
  }
};

size_t instance_count(perdure::client& c) {
  perdure::instance_query q;
  q.page_size = 1000;
  return c.list(q).records.size();
}

std::string connect_failure(uint16_t port, const perdure::tls_credentials& tls) {
  try {
    perdure::connect("127.0.0.1", port, tls);
  } catch (const perdure::error& e) {
    return e.what();
  }
  return "connected";
}

}  // namespace

TEST_CASE("a hub whose members use mutual TLS runs a cross-node workload and refuses whoever its CA did not sign") {
  const hub_certificates certs;
  local_cluster cluster{{"a", "b"}, 4, {"--workers", "2"}};
  for (size_t i = 0; i < 2; ++i) cluster.add_node_args(i, certs.member_flags(cluster.id(i)));
  cluster.start_all();

  auto client = perdure::connect("127.0.0.1", cluster.port(1), certs.client());
  constexpr int n = 40;
  for (int i = 0; i < n; ++i) client->start("FanAndChild", std::to_string(i), {"tls-" + std::to_string(i)});
  for (int i = 0; i < n; ++i) {
    const auto record = client->wait_for_completion("tls-" + std::to_string(i), 60s);
    REQUIRE(record.status == perdure::runtime_status::completed);
    CHECK(record.output == std::to_string(6 * i + 12));
  }
  const auto stats = client->cluster_stats();
  REQUIRE(stats.size() == 2);
  for (const auto& s : stats) CHECK(s.members_up.size() == 1);
  const size_t instances = instance_count(*client);

  // A plain BASP client, and a client whose certificate another CA signed, are refused.
  CHECK(contains(connect_failure(cluster.port(0), {}), "takes TLS connections only"));
  CHECK(contains(connect_failure(cluster.port(0), certs.intruder()), "over TLS: is the node's certificate signed by"));
  for (const std::string& garbage : {std::string(72, '\x00'), std::string("GET / HTTP/1.1\r\n\r\n")}) {
    raw_socket socket(cluster.port(0));
    socket.send(garbage);
    socket.read_until_closed(10s);
    CHECK(socket.closed_by_peer());
  }

  // A member without a certificate, or with another CA's, cannot join: b restarted so fails to start.
  cluster.kill(1);
  const auto plain_args = [&] {
    auto args = cluster.args(1, 0, 3000);
    args.resize(args.size() - certs.member_flags("b").size());
    return args;
  }();
  child_process plain_member(plain_args);
  CHECK(plain_member.wait() != 0);
  auto intruder_args = plain_args;
  for (auto& f : std::vector<std::string>{"--tls-cert", certs.other + "/intruder.pem", "--tls-key",
                                          certs.other + "/intruder.key", "--tls-ca", certs.hub + "/ca.pem"})
    intruder_args.push_back(f);
  child_process intruder_member(intruder_args);
  CHECK(intruder_member.wait() != 0);

  // Nothing the refused ones sent reached a partition; the certified b rejoins and work goes on.
  cluster.start(1);
  auto after = perdure::connect("127.0.0.1", cluster.port(0), certs.client());
  CHECK(instance_count(*after) == instances);
  after->start("FanAndChild", "100", {"tls-after"});
  CHECK(after->wait_for_completion("tls-after", 60s).output == "612");
}
