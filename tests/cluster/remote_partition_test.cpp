// The proxy for a partition that may live on another node (actors/remote_partition.*), with real
// CAF actors: it drops traffic until it knows the owner's node actor (the sender's outbox re-sends
// it), then forwards deliveries and acknowledgements stamped with its partition, batched and in
// order (a burst of a thousand arrives complete, in order and once); it follows the
// cluster view when the partition moves (here or to another member); no message it cannot handle
// stops it. Regression: its state once began with the proxy itself as the owner (C++20
// aggregate initialization from the actor pointer, actors/actor_state.hpp), so the first message
// after a node restart killed it and every later message for that partition was lost.
#include "actors/protocol.hpp"
#include "actors/remote_partition.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <deque>

using namespace perdure;
using namespace perdure::actors;
using namespace std::chrono_literals;

namespace {

struct proxy_fixture {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  cluster_metrics metrics;
  std::shared_ptr<cluster_view> view = std::make_shared<cluster_view>(4, std::vector<std::string>{"a", "b", "c"});
  caf::actor proxy;
  static constexpr uint32_t partition = 3;
  static constexpr uint32_t owner_member = 1;

  proxy_fixture() {
    register_types(config);
    config.set("scheduler.max-threads", 2);
    system = std::make_unique<caf::actor_system>(config);
    view->set_owner(partition, partition_owner{owner_member, 1, {}, {}});
    proxy = spawn_remote_partition(*system, partition, view, metrics);
  }
  ~proxy_fixture() { caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown); }

  static message outbox_message(uint64_t seq) {
    message msg{"order-1", {}, history_event{clock::now(), events::event_raised{"paid", "true"}}};
    msg.source_partition = 1;
    msg.source_seq = seq;
    msg.source_prev_seq = seq - 1;
    return msg;
  }
};

// The next item the owner gets, in order: a delivery's source seq, or an ack's seq (negated), or 0
// if none comes. Items arrive in batches (one per round of the proxy's mailbox); `received` holds
// the rest of the last batch.
int64_t next_at_owner(caf::scoped_actor& owner, std::deque<int64_t>& received) {
  if (received.empty())
    owner->receive(
        [&](deliver_atom, const wire_batch& batch) {
          CHECK(batch.partition == proxy_fixture::partition);
          for (const auto& w : batch.messages) {
            CHECK(w.partition == proxy_fixture::partition);
            const auto msg = decode_message(w.bytes);
            CHECK(msg.instance_id == "order-1");
            CHECK(w.prev_seq == msg.source_seq - 1);
            received.push_back(static_cast<int64_t>(msg.source_seq));
          }
          for (auto seq : batch.acks) received.push_back(-static_cast<int64_t>(seq));
        },
        caf::after(3s) >> [] {});
  if (received.empty()) return 0;
  const auto next = received.front();
  received.pop_front();
  return next;
}

}  // namespace

TEST_CASE_FIXTURE(proxy_fixture, "traffic before the owner is known is dropped, and the proxy survives it") {
  caf::scoped_actor owner{*system};
  std::deque<int64_t> received;
  // A restarted node's partitions re-send their outbox before its peers are connected. A member
  // change sends what was queued before it by the view before it.
  caf::anon_send(proxy, deliver_atom::value, outbox_message(7));
  caf::anon_send(proxy, ack_atom::value, uint64_t{5});
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{owner});
  caf::anon_send(proxy, deliver_atom::value, outbox_message(8));
  caf::anon_send(proxy, ack_atom::value, uint64_t{6});
  CHECK(next_at_owner(owner, received) == 8);
  CHECK(next_at_owner(owner, received) == -6);
  CHECK(metrics.messages_out.load() <= 2);  // nothing went anywhere before the owner was known
  for (uint64_t seq = 9; seq <= 11; ++seq) {  // and it is still there afterwards
    caf::anon_send(proxy, deliver_atom::value, outbox_message(seq));
    CHECK(next_at_owner(owner, received) == static_cast<int64_t>(seq));
  }
}

TEST_CASE_FIXTURE(proxy_fixture, "the owner going down and coming back: nothing in between, everything after") {
  caf::scoped_actor before{*system};
  caf::scoped_actor after{*system};
  std::deque<int64_t> at_before, at_after;
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{before});
  caf::anon_send(proxy, deliver_atom::value, outbox_message(1));
  CHECK(next_at_owner(before, at_before) == 1);
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{});
  caf::anon_send(proxy, deliver_atom::value, outbox_message(2));
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{after});
  caf::anon_send(proxy, deliver_atom::value, outbox_message(3));
  CHECK(next_at_owner(after, at_after) == 3);
  CHECK(next_at_owner(before, at_before) == 0);
}

TEST_CASE_FIXTURE(proxy_fixture, "a message the proxy has no handler for is dropped without stopping it") {
  caf::scoped_actor owner{*system};
  std::deque<int64_t> received;
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{owner});
  caf::anon_send(proxy, std::string{"not a proxy message"});
  caf::anon_send(proxy, caf::make_error(caf::sec::runtime_error, "an error nobody asked for"));
  owner->send(proxy, deliver_atom::value, wire_batch{9, {}, {1}});  // a node actor's message, one-way
  caf::anon_send(proxy, deliver_atom::value, outbox_message(4));
  CHECK(next_at_owner(owner, received) == 4);
}

TEST_CASE_FIXTURE(proxy_fixture, "the partition moves here and to another member: the proxy follows the cluster view") {
  caf::scoped_actor owner{*system};
  caf::scoped_actor other{*system};
  caf::scoped_actor local{*system};
  std::deque<int64_t> at_owner, at_other;
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{owner});
  caf::anon_send(proxy, member_atom::value, uint32_t{2}, caf::actor{other});
  caf::anon_send(proxy, deliver_atom::value, outbox_message(1));
  CHECK(next_at_owner(owner, at_owner) == 1);

  view->set_owner(partition, partition_owner{0, 2, caf::actor{local}, {}});  // taken over by this node
  caf::anon_send(proxy, deliver_atom::value, outbox_message(2));
  caf::anon_send(proxy, ack_atom::value, uint64_t{9});
  int got = 0;
  for (int i = 0; i < 2; ++i)
    local->receive([&](deliver_atom, const message& msg) { got += msg.source_seq == 2 ? 1 : 0; },
                   [&](ack_atom, uint64_t seq) { got += seq == 9 ? 1 : 0; }, caf::after(3s) >> [] {});
  CHECK(got == 2);  // handed over as they are, not encoded

  view->set_owner(partition, partition_owner{2, 3, {}, {}});  // moved on to member 2
  caf::anon_send(proxy, deliver_atom::value, outbox_message(3));
  CHECK(next_at_owner(other, at_other) == 3);
  view->set_owner(partition, partition_owner{});  // between owners: dropped, the outbox re-sends it
  caf::anon_send(proxy, deliver_atom::value, outbox_message(4));
  CHECK(next_at_owner(other, at_other) == 0);
  CHECK(next_at_owner(owner, at_owner) == 0);
}

TEST_CASE_FIXTURE(proxy_fixture, "a burst of messages and acks arrives complete, in order and once") {
  caf::scoped_actor owner{*system};
  std::deque<int64_t> received;
  caf::anon_send(proxy, member_atom::value, owner_member, caf::actor{owner});
  constexpr int burst = 1000;
  for (uint64_t seq = 1; seq <= burst; ++seq) {
    caf::anon_send(proxy, deliver_atom::value, outbox_message(seq));
    caf::anon_send(proxy, ack_atom::value, seq);
  }
  // Per kind, the order sent: messages 1..burst and acks 1..burst, each kind never reordered.
  int64_t last_message = 0, last_ack = 0;
  for (int i = 0; i < 2 * burst; ++i) {
    const auto next = next_at_owner(owner, received);
    REQUIRE(next != 0);
    if (next > 0) CHECK(next == ++last_message);
    if (next < 0) CHECK(-next == ++last_ack);
  }
  CHECK(last_message == burst);
  CHECK(last_ack == burst);
  CHECK(next_at_owner(owner, received) == 0);  // nothing twice
}
