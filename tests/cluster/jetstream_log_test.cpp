// jetstream_log against real nats-server processes on 127.0.0.1: the partition_log contract, and
// appends that go on across a kill -9 of the stream's leader with every acknowledged record kept;
// the assignment table and the coordinator lease on the same servers.
#include "storage/assignment_contract.hpp"
#include "storage/log_contract.hpp"
#include "storage/snapshot_contract.hpp"
#include "support/free_ports.hpp"
#include "support/jetstream_options.hpp"
#include "support/nats_cluster.hpp"

#include <jetstream_assignment_table.hpp>
#include <jetstream_coordinator_lease.hpp>
#include <jetstream_log.hpp>
#include <jetstream_snapshot_store.hpp>

#include <map>
#include <memory>
#include <thread>

using namespace perdure;
using storage::jetstream_connection;
using storage::jetstream_log;
using testing_support::nats_cluster;
using testing_support::options_for;

namespace {

// The name of the server that leads a stream's raft group now.
std::string stream_leader(jetstream_connection& connection, const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  std::string leader;
  if (js_GetStreamInfo(&info, connection.context(), stream.c_str(), nullptr, &code) == NATS_OK && info->Cluster &&
      info->Cluster->Leader)
    leader = info->Cluster->Leader;
  if (info) jsStreamInfo_Destroy(info);
  return leader;
}

// One owner appending numbered records; acknowledged[seq - 1] is what record seq must hold.
struct appender {
  explicit appender(jetstream_log& to) : log(to) {}
  jetstream_log& log;
  std::vector<std::string> acknowledged;
  uint64_t last = 0;

  void append(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      acknowledged.push_back("record " + std::to_string(acknowledged.size()));
      last = log.append(acknowledged.back(), last, "owner-1-" + std::to_string(acknowledged.size()));
    }
  }
};

}  // namespace

TEST_CASE("jetstream_log keeps the partition_log contract (one server)") {
  nats_cluster servers(1);
  jetstream_connection a(options_for(servers));
  jetstream_connection b(options_for(servers));
  bool first = true;
  testing_support::check_log_contract([&]() -> std::unique_ptr<storage::partition_log> {
    auto& connection = first ? a : b;  // the first handle is one node, later ones another
    first = false;
    return std::make_unique<jetstream_log>(connection, "contract", 0, 1);
  });
}

TEST_CASE("jetstream_snapshot_store keeps the snapshot_store contract (one server)") {
  nats_cluster servers(1);
  jetstream_connection a(options_for(servers));
  jetstream_connection b(options_for(servers));
  bool first = true;
  testing_support::check_snapshot_contract(
      [&]() -> std::unique_ptr<storage::snapshot_store> {
        auto& connection = first ? a : b;  // the first handle is one node, later ones another
        first = false;
        return std::make_unique<storage::jetstream_snapshot_store>(connection, "contract", 1);
      },
      storage::max_message_bytes(a));
}

TEST_CASE("a connection to NATS servers that do not answer is unavailable, naming them") {
  storage::jetstream_options o;
  o.servers = {"nats://127.0.0.1:" + std::to_string(testing_support::free_base_port(1))};
  try {
    jetstream_connection connection(o);
    FAIL("connected");
  } catch (const storage::store_error& e) {
    CHECK(e.code() == storage::errc::unavailable);
    CHECK(std::string{e.what()}.find(o.servers[0]) != std::string::npos);
  }
}

TEST_CASE("jetstream_log refuses a hub name that is not a plain word") {
  nats_cluster servers(1);
  jetstream_connection connection(options_for(servers));
  try {
    jetstream_log log(connection, "a.b", 0, 1);
    FAIL("accepted");
  } catch (const storage::store_error& e) {
    CHECK(e.code() == storage::errc::invalid_argument);
  }
}

TEST_CASE("jetstream_log: appends go on across a kill -9 of the stream leader, and nothing acknowledged is lost") {
  nats_cluster servers(3);
  jetstream_connection connection(options_for(servers));
  jetstream_log log(connection, "failover", 7, 3);

  std::map<uint64_t, std::string> acknowledged;
  uint64_t last = 0;
  auto append = [&](int i) {
    const std::string bytes = "batch " + std::to_string(i);
    last = log.append(bytes, last, "owner-1-" + std::to_string(i));
    acknowledged.emplace(last, bytes);
  };
  for (int i = 0; i < 200; ++i) append(i);

  const std::string leader = stream_leader(connection, log.stream());
  const int victim = servers.index_of(leader);
  REQUIRE_MESSAGE(victim >= 0, "stream leader '" << leader << "'");
  servers.kill(victim);
  const auto killed_at = std::chrono::steady_clock::now();
  append(200);  // retried inside append until a new leader answers
  const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  MESSAGE("first append after killing leader " << leader << " took " << gap.count() << " ms");
  for (int i = 201; i < 400; ++i) append(i);

  const auto records = log.read(1, 10'000);
  REQUIRE(records.size() == acknowledged.size());
  auto expected = acknowledged.begin();
  for (const auto& r : records) {
    CHECK(r.seq == expected->first);
    CHECK(r.bytes == expected->second);
    ++expected;
  }

  // The killed server comes back and catches up; the log is unchanged.
  servers.restart(victim);
  CHECK(log.last_seq() == last);
}

TEST_CASE("jetstream_assignment_table keeps the assignment_table contract (one server)") {
  nats_cluster servers(1);
  jetstream_connection a(options_for(servers));
  jetstream_connection b(options_for(servers));
  storage::jetstream_assignment_table coordinator(a, "contract", 1);
  storage::jetstream_assignment_table stale(b, "contract", 1);
  testing_support::check_assignment_contract(coordinator, stale);
}

TEST_CASE("a bucket with more replicas than there are servers is refused with the servers' reason") {
  nats_cluster servers(1);
  auto options = options_for(servers);
  options.deadline = std::chrono::milliseconds(500);
  jetstream_connection connection(options);
  try {
    storage::jetstream_assignment_table table(connection, "too_many", 3);
    FAIL("created");
  } catch (const storage::store_error& e) {
    const std::string what = e.what();
    CHECK_MESSAGE(what.find("cannot create the assignment bucket perdure_too_many_assignments with 3 replicas") !=
                      std::string::npos,
                  what);
    CHECK_MESSAGE(what.find("replicas > 1 not supported in non-clustered mode") != std::string::npos, what);
  }
}

TEST_CASE("jetstream_coordinator_lease: one holder at a time, taken over after the expiry, released at once") {
  using namespace std::chrono_literals;
  nats_cluster servers(1);
  jetstream_connection node_a(options_for(servers));
  jetstream_connection node_b(options_for(servers));
  const auto expiry = 1500ms;
  storage::jetstream_coordinator_lease a(node_a, "lease", 1, expiry);
  storage::jetstream_coordinator_lease b(node_b, "lease", 1, expiry);

  CHECK(a.hold("a"));
  CHECK_FALSE(b.hold("b"));
  CHECK(a.hold("a"));  // renewed
  CHECK_FALSE(b.hold("b"));
  b.release("b");  // not the holder: nothing happens
  CHECK_FALSE(b.hold("b"));

  // A restarted node (a new object) finds its own id in the key and carries on holding it.
  const auto last_renewal = std::chrono::steady_clock::now();  // the server stores it after this
  {
    storage::jetstream_coordinator_lease restarted(node_a, "lease", 1, expiry);
    CHECK(restarted.hold("a"));
  }

  // a stops renewing: b gets the role once the key aged out, and not before.
  bool taken = false;
  while (!taken && std::chrono::steady_clock::now() < last_renewal + 30s) {
    std::this_thread::sleep_for(100ms);
    taken = b.hold("b");
  }
  REQUIRE(taken);
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last_renewal);
  MESSAGE("b took the lease " << waited.count() << " ms after a's last renewal (expiry " << expiry.count() << " ms)");
  CHECK(waited >= expiry);
  CHECK_FALSE(a.hold("a"));
  CHECK(b.hold("b"));

  b.release("b");
  CHECK(a.hold("a"));  // at once, without waiting for an expiry
  CHECK_FALSE(b.hold("b"));
}

TEST_CASE("jetstream_coordinator_lease refuses an expiry JetStream cannot keep") {
  nats_cluster servers(1);
  jetstream_connection connection(options_for(servers));
  CHECK_THROWS_AS(storage::jetstream_coordinator_lease(connection, "lease", 1, std::chrono::milliseconds{50}),
                  storage::store_error);
}

TEST_CASE("jetstream_log: every record is read while a replica that lost its store rejoins empty") {
  nats_cluster servers(3);
  jetstream_connection connection(options_for(servers));
  jetstream_log log(connection, "rejoin", 3, 3);
  appender writer(log);
  const auto& acknowledged = writer.acknowledged;
  writer.append(150);
  const int victim = (servers.index_of(stream_leader(connection, log.stream())) + 1) % 3;  // a follower
  servers.kill(victim);
  servers.wipe(victim);
  writer.append(150);
  servers.restart(victim);

  // A reader connected to the rejoined server first, as a node on that machine is. nats-server
  // 2.9.10 can stall the rejoined replica's catch-up for good; a consumer placed on it would wait.
  storage::jetstream_options o = options_for(servers);
  std::swap(o.servers[0], o.servers[static_cast<size_t>(victim)]);
  jetstream_connection near(o);
  jetstream_log reader(near, "rejoin", 3, 3);
  const auto started = std::chrono::steady_clock::now();
  constexpr int reads = 12;
  for (int i = 0; i < reads; ++i) {
    const uint64_t from = i % 2 == 0 ? 1 : 140;
    const auto records = reader.read(from, 10'000);
    REQUIRE_MESSAGE(records.size() == acknowledged.size() - (from - 1), "read ", i, " from ", from, ": ", records.size(), " records, ", (records.empty() ? 0 : records.front().seq), "..", (records.empty() ? 0 : records.back().seq));
    for (const auto& r : records) REQUIRE(r.bytes == acknowledged[r.seq - 1]);
  }
  MESSAGE(reads << " reads of the whole log after the rejoin took "
                << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
                << " ms");
}

TEST_CASE("jetstream_log: a lost nats-server replaced by a new one and removed as a peer leaves the log with three current "
          "replicas again and every record") {
  nats_cluster servers(3);
  jetstream_connection connection(options_for(servers));
  jetstream_log log(connection, "replaced", 1, 3);
  appender writer(log);
  const auto& acknowledged = writer.acknowledged;
  writer.append(100);
  const int lost = servers.index_of(stream_leader(connection, log.stream()));  // the hardest one to lose
  REQUIRE(lost >= 0);
  const std::string lost_name = "n" + std::to_string(lost);
  servers.kill(lost);
  writer.append(50);  // on the two that remain, after they elected a leader

  // The operator's steps: a new machine joins under a new name, then the lost one is removed.
  servers.replace(lost, "n3");
  servers.remove_peer(lost_name);
  std::vector<std::string> expected{"n0", "n1", "n2", "n3"};
  std::erase(expected, lost_name);
  const auto removed_at = std::chrono::steady_clock::now();
  std::vector<std::string> replicas;
  while (std::chrono::steady_clock::now() < removed_at + std::chrono::seconds(60)) {
    replicas = servers.current_replicas(log.stream());
    if (replicas == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::string names;
  for (const auto& r : replicas) names += " " + r;
  REQUIRE_MESSAGE(replicas == expected, "current replicas after the removal:", names);
  MESSAGE("the log's replicas were" << names << " "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - removed_at)
                                           .count()
                                    << " ms after the peer's removal");
  writer.append(50);
  const auto records = log.read(1, 10'000);
  REQUIRE(records.size() == acknowledged.size());
  for (const auto& r : records) CHECK(r.bytes == acknowledged[r.seq - 1]);
}
