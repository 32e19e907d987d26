// Every type that crosses the network round-trips through CAF's binary serializer inside a
// caf::message (which fails for a type that was not announced), and Perdure values round-trip
// through their wire encoding; client errors keep their category, code and text.
#include "actors/cluster_membership.hpp"
#include "actors/protocol.hpp"

#include <perdure/errors.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::actors;

namespace {

struct wire_system {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  wire_system() {
    register_types(config);
    config.load<caf::io::middleman>();
    config.set("scheduler.max-threads", 1);
    system = std::make_unique<caf::actor_system>(config);
  }
};

caf::message round_trip(caf::actor_system& system, const caf::message& in) {
  std::vector<char> buf;
  caf::binary_serializer sink{system, buf};
  auto copy = in;
  REQUIRE_FALSE(sink(copy));
  caf::message out;
  caf::binary_deserializer source{system, buf};
  REQUIRE_FALSE(source(out));
  return out;
}

template <class T>
T round_trip_value(caf::actor_system& system, const T& value) {
  auto out = round_trip(system, caf::make_message(value));
  REQUIRE(out.template match_elements<T>());
  return out.template get_as<T>(0);
}

instance_record sample_record() {
  instance_record r;
  r.instance_id = "order-1";
  r.execution_id = "e1";
  r.name = "Order";
  r.status = runtime_status::failed;
  r.created_at = time_point{std::chrono::nanoseconds{1'700'000'000'123'456'789}};
  r.last_updated_at = r.created_at + std::chrono::seconds(3);
  r.input = R"({"a":1})";
  r.output = "";
  r.custom_status = R"("half")";
  r.failure = failure_details{"Boom", "it broke", "at step 2", true};
  r.parent = parent_instance{"Parent", "p-1", "pe", 7};
  return r;
}

}  // namespace

TEST_CASE("every networked type survives CAF serialization inside a message") {
  wire_system w;
  auto& sys = *w.system;

  auto hello = round_trip_value(sys, node_hello{"a", 6, "a@127.0.0.1:1,b@127.0.0.1:2", 16});
  CHECK(hello.node_id == "a");
  CHECK(hello.partitions == 6);
  CHECK(hello.members == "a@127.0.0.1:1,b@127.0.0.1:2");
  CHECK(hello.workers == 16);

  auto msg = round_trip_value(sys, wire_message{5, std::string("\0\1bytes", 7), 42});
  CHECK(msg.partition == 5);
  CHECK(msg.bytes == std::string("\0\1bytes", 7));
  CHECK(msg.prev_seq == 42);

  CHECK(round_trip_value(sys, wire_activity{"task-bytes"}).task == "task-bytes");

  wire_query q{{1, 2}, "Order", true, -5, true, 99, "ord", 25, "tok"};
  auto q2 = round_trip_value(sys, q);
  CHECK(q2.statuses == q.statuses);
  CHECK(q2.name == "Order");
  CHECK(q2.has_from);
  CHECK(q2.from_ns == -5);
  CHECK(q2.to_ns == 99);
  CHECK(q2.instance_id_prefix == "ord");
  CHECK(q2.page_size == 25);
  CHECK(q2.continuation_token == "tok");

  auto entity_query = round_trip_value(sys, wire_entity_query{"Cart", "user-", 7, "tok2"});
  CHECK(entity_query.name == "Cart");
  CHECK(entity_query.key_prefix == "user-");
  CHECK(entity_query.page_size == 7);
  CHECK(entity_query.continuation_token == "tok2");

  auto page = round_trip_value(sys, wire_page{{"r1", "r2"}, "next"});
  CHECK(page.records == std::vector<std::string>{"r1", "r2"});
  CHECK(page.continuation_token == "next");

  CHECK(round_trip_value(sys, wire_history{{"e1", "e2", "e3"}}).events.size() == 3);

  wire_stats s{"b", 2, 10, 3, 1, 4, 100, 90, 55, {"a", "c"}};
  auto s2 = round_trip_value(sys, std::vector<wire_stats>{s});
  REQUIRE(s2.size() == 1);
  CHECK(s2[0].node_id == "b");
  CHECK(s2[0].activities_executed == 10);
  CHECK(s2[0].activities_redispatched == 1);
  CHECK(s2[0].messages_in == 90);
  CHECK(s2[0].members_up == std::vector<std::string>{"a", "c"});

  // Batches: a proxy's outbox traffic for one partition, calls forwarded between nodes and their
  // answers (any reply message, an error included), in order.
  auto batch = round_trip_value(sys, wire_batch{3, {wire_message{3, "m1", 7}, wire_message{3, "m2", 8}}, {4, 5}});
  CHECK(batch.partition == 3);
  REQUIRE(batch.messages.size() == 2);
  CHECK(batch.messages[1].bytes == "m2");
  CHECK(batch.messages[1].prev_seq == 8);
  CHECK(batch.acks == std::vector<uint64_t>{4, 5});
  auto calls = round_trip_value(
      sys, call_batch{{forwarded_call{1, 2, 60'000, caf::make_message(status_atom::value, std::string{"id-1"})},
                       forwarded_call{2, 5, 500, caf::make_message(wait_atom::value, std::string{"id-2"}, int64_t{500})}}});
  REQUIRE(calls.calls.size() == 2);
  CHECK(calls.calls[0].id == 1);
  CHECK(calls.calls[0].partition == 2);
  CHECK(calls.calls[1].timeout_ms == 500);
  CHECK((calls.calls[1].request.match_elements<wait_atom, std::string, int64_t>()));
  CHECK(calls.calls[1].request.get_as<std::string>(1) == "id-2");
  auto replies = round_trip_value(
      sys, reply_batch{{forwarded_reply{1, caf::make_message(std::string{"record"})},
                        forwarded_reply{2, caf::make_message(true)},
                        forwarded_reply{3, caf::make_message(wire_history{{"e1"}})},
                        forwarded_reply{4, caf::make_message(make_client_error(client_errc::not_found, "gone"))}}});
  REQUIRE(replies.replies.size() == 4);
  CHECK(replies.replies[0].reply.get_as<std::string>(0) == "record");
  CHECK(replies.replies[1].reply.get_as<bool>(0));
  CHECK(replies.replies[2].reply.get_as<wire_history>(0).events.size() == 1);
  REQUIRE(replies.replies[3].reply.match_elements<caf::error>());
  CHECK_THROWS_AS(throw_client_error(replies.replies[3].reply.get_as<caf::error>(0), "x"), instance_not_found);

  // Client API requests are atoms, strings, integers and the types above.
  auto start = round_trip(sys, caf::make_message(start_atom::value, std::string{"Order"}, std::string{"1"},
                                                 std::string{"id"}, true, int32_t{2}, std::string{"00-..."},
                                                 std::string{"k=v"}));
  CHECK((start.match_elements<start_atom, std::string, std::string, std::string, bool, int32_t, std::string,
                              std::string>()));
}

TEST_CASE("client errors keep their category, code and text across the network") {
  wire_system w;
  auto err = make_client_error(client_errc::not_found, "no orchestration instance 'x'");
  auto out = round_trip_value(*w.system, err);
  CHECK(out.category() == caf::atom("perdure"));
  CHECK(out.code() == static_cast<uint8_t>(client_errc::not_found));
  CHECK_THROWS_AS(throw_client_error(out, "x"), instance_not_found);
  auto busy = round_trip_value(*w.system, make_client_error(client_errc::unavailable, "node 'b' is unreachable"));
  CHECK_THROWS_WITH(throw_client_error(busy, "x"), "node 'b' is unreachable");
}

TEST_CASE("Perdure values round-trip through their wire encoding") {
  const auto record = sample_record();
  CHECK(decode_record(encode_record(record)) == record);

  message m{"child-1", "e2", history_event{record.created_at, events::event_raised{"Go", "42"}}, 3, 17, 0};
  CHECK(decode_message(encode_message(m)) == m);  // source_prev_seq travels next to it (wire_message)

  storage::activity_task task{"order-1", "e1", 4, "Charge", R"({"amount":5})", record.created_at};
  CHECK(decode_task(encode_task(task)) == task);

  history_event started{record.created_at, events::execution_started{"Order", "order-1", "e1", "{}", std::nullopt}};
  CHECK(decode_event(encode_event(started)) == started);

  storage::instance_query query;
  query.statuses = {runtime_status::running, runtime_status::completed};
  query.name = "Order";
  query.created_from = record.created_at;
  query.instance_id_prefix = "o";
  query.page_size = 7;
  query.continuation_token = "ab";
  auto back = from_wire(to_wire(query));
  CHECK(back.statuses == query.statuses);
  CHECK(back.created_from == query.created_from);
  CHECK_FALSE(back.created_to);
  CHECK(back.page_size == 7);
  CHECK(back.continuation_token == "ab");

  CHECK_THROWS_AS(decode_record("not capnp"), storage::store_error);
}

TEST_CASE("membership: parsing, canonical form and placement") {
  auto m = cluster_membership::parse("c@127.0.0.1:7003,a@127.0.0.1:7001,b@127.0.0.1:7002", "b");
  CHECK(m.canonical() == "a@127.0.0.1:7001,b@127.0.0.1:7002,c@127.0.0.1:7003");
  CHECK(m.self_index() == 1);
  CHECK(m.owner_of(0) == 0);
  CHECK(m.owner_of(4) == 1);
  CHECK(m.owns(1));
  CHECK_FALSE(m.owns(2));
  CHECK_THROWS_WITH_AS(cluster_membership::parse("a@127.0.0.1:7001", "z"), doctest::Contains("'z' is not in --members"),
                       invalid_argument_error);
  CHECK_THROWS_AS(cluster_membership::parse("a@127.0.0.1:7001,a@127.0.0.1:7002", "a"), invalid_argument_error);
  CHECK_THROWS_AS(cluster_membership::parse("a@127.0.0.1:7001,b@127.0.0.1:7001", "a"), invalid_argument_error);
  CHECK_THROWS_AS(cluster_membership::parse("a127.0.0.1:7001", "a"), invalid_argument_error);
  CHECK_THROWS_AS(cluster_membership::parse("a@127.0.0.1:0", "a"), invalid_argument_error);
}
