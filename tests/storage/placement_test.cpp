// The coordinator's placement rules, one case per rule, and a sweep over every set of live
// members checking the invariants and that a plan, once applied, is stable.
#include <perdure/storage/store.hpp>
#include <placement.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <ostream>

namespace perdure::storage {

// So that a failed check shows the entries.
std::ostream& operator<<(std::ostream& out, const std::optional<partition_assignment>& a) {
  if (!a) return out << "nullopt";
  out << "{" << a->owner << ", [";
  for (size_t i = 0; i < a->followers.size(); ++i) out << (i ? ", " : "") << a->followers[i];
  out << "], epoch " << a->epoch;
  if (!a->moving_to.empty()) out << ", moving to " << a->moving_to;
  if (a->pinned) out << ", pinned";
  return out << "}";
}

}  // namespace perdure::storage

using namespace perdure;
using storage::partition_assignment;
using storage::plan_assignment;
using storage::plan_moves;

namespace {

const std::vector<std::string> abcd{"a", "b", "c", "d"};
const std::set<std::string> all{"a", "b", "c", "d"};

std::optional<partition_assignment> plan(uint32_t p, std::optional<partition_assignment> current,
                                         const std::set<std::string>& live, size_t followers,
                                         const std::vector<std::string>& members = abcd) {
  return plan_assignment(p, current, members, live, followers);
}

}  // namespace

TEST_CASE("placement: nothing to plan while no member is live") {
  CHECK_FALSE(plan(0, std::nullopt, {}, 2));
  CHECK_FALSE(plan(0, partition_assignment{"a", {"b"}, 3}, {}, 2));
  CHECK_FALSE(plan(0, std::nullopt, {"x"}, 2));  // live, but not a member
  CHECK_FALSE(plan(0, std::nullopt, {"a"}, 2, {}));
}

TEST_CASE("placement: a first entry goes to members[p % N] with the next members as followers, epoch 1") {
  CHECK(plan(0, std::nullopt, all, 2) == partition_assignment{"a", {"b", "c"}, 1});
  CHECK(plan(5, std::nullopt, all, 2) == partition_assignment{"b", {"c", "d"}, 1});
  CHECK(plan(3, std::nullopt, all, 2) == partition_assignment{"d", {"a", "b"}, 1});  // wraps around
  CHECK(plan(2, std::nullopt, all, 0) == partition_assignment{"c", {}, 1});
}

TEST_CASE("placement: a first entry whose home member is down goes to the next live member") {
  CHECK(plan(1, std::nullopt, {"a", "c", "d"}, 2) == partition_assignment{"c", {"d", "a"}, 1});
  CHECK(plan(3, std::nullopt, {"b", "c"}, 1) == partition_assignment{"b", {"c"}, 1});  // past the end: wraps
  CHECK(plan(0, std::nullopt, {"b", "d"}, 2) == partition_assignment{"b", {"d"}, 1});  // skips the dead c
}

TEST_CASE("placement: a single member owns everything, without followers") {
  const std::vector<std::string> one{"a"};
  const auto first = plan(7, std::nullopt, {"a"}, 2, one);
  CHECK(first == partition_assignment{"a", {}, 1});
  CHECK_FALSE(plan(7, first, {"a"}, 2, one));
  CHECK_FALSE(plan(7, first, {}, 2, one));
}

TEST_CASE("placement: fewer followers than asked when not enough members are live") {
  CHECK(plan(0, std::nullopt, {"a", "c"}, 3) == partition_assignment{"a", {"c"}, 1});
  CHECK(plan(0, std::nullopt, all, 5) == partition_assignment{"a", {"b", "c", "d"}, 1});
  CHECK_FALSE(plan(0, partition_assignment{"a", {"c"}, 1}, {"a", "c"}, 3));
}

TEST_CASE("placement: an entry whose owner and followers are live is left as it is, in its order") {
  CHECK_FALSE(plan(0, partition_assignment{"a", {"b", "c"}, 4}, all, 2));
  CHECK_FALSE(plan(0, partition_assignment{"c", {"d", "a"}, 4}, all, 2));  // not the first-entry layout
  CHECK_FALSE(plan(0, partition_assignment{"a", {"d", "b"}, 4}, all, 2));  // not in ring order
}

TEST_CASE("placement: a live owner keeps its epoch and a dead follower is replaced in ring order after the owner") {
  CHECK(plan(0, partition_assignment{"a", {"c", "b"}, 3}, {"a", "c", "d"}, 2) ==
        partition_assignment{"a", {"c", "d"}, 3});
  CHECK(plan(0, partition_assignment{"b", {"c", "d"}, 3}, {"a", "b", "c"}, 2) ==
        partition_assignment{"b", {"c", "a"}, 3});  // wraps around after the owner
  CHECK(plan(0, partition_assignment{"a", {"b", "c"}, 3}, {"a"}, 2) == partition_assignment{"a", {}, 3});
}

TEST_CASE("placement: missing followers are topped up, extra ones dropped from the end") {
  CHECK(plan(0, partition_assignment{"a", {"c"}, 2}, all, 3) == partition_assignment{"a", {"c", "b", "d"}, 2});
  CHECK(plan(0, partition_assignment{"a", {"d", "b", "c"}, 2}, all, 1) == partition_assignment{"a", {"d"}, 2});
  // Entries written by hand or by an older version: the owner among its followers, a follower twice.
  CHECK(plan(0, partition_assignment{"a", {"a", "b", "b"}, 2}, all, 2) == partition_assignment{"a", {"b", "c"}, 2});
}

TEST_CASE("placement: a dead owner is replaced by its first live follower, in the next epoch") {
  CHECK(plan(0, partition_assignment{"a", {"b", "c"}, 4}, {"b", "c", "d"}, 2) ==
        partition_assignment{"b", {"c", "d"}, 5});
  CHECK(plan(0, partition_assignment{"a", {"b", "c"}, 4}, {"c", "d"}, 2) ==
        partition_assignment{"c", {"d"}, 5});  // the first follower is dead too
  CHECK(plan(0, partition_assignment{"a", {"d", "b"}, 4}, {"b", "c", "d"}, 2) ==
        partition_assignment{"d", {"b", "c"}, 5});  // the followers' order, not the ring's
}

TEST_CASE("placement: a dead owner without a live follower goes to the next live member after it") {
  CHECK(plan(0, partition_assignment{"a", {"b"}, 2}, {"c", "d"}, 1) == partition_assignment{"c", {"d"}, 3});
  CHECK(plan(0, partition_assignment{"c", {"d"}, 2}, {"a", "b"}, 1) == partition_assignment{"a", {"b"}, 3});
  CHECK(plan(0, partition_assignment{"c", {}, 2}, {"b"}, 1) == partition_assignment{"b", {}, 3});
}

TEST_CASE("placement: ids no longer configured count as not live") {
  const std::vector<std::string> ac{"a", "c"};
  // A removed owner's successor is the next member after where it stood in the ring.
  CHECK(plan(0, partition_assignment{"b", {"x"}, 6}, {"a", "b", "c", "x"}, 1, ac) ==
        partition_assignment{"c", {"a"}, 7});
  CHECK(plan(0, partition_assignment{"a", {"x", "c"}, 6}, {"a", "c", "x"}, 2, ac) ==
        partition_assignment{"a", {"c"}, 6});
}

TEST_CASE("placement: a member that comes back follows again when a slot is free, and does not get ownership back") {
  std::set<std::string> live = all;
  partition_assignment entry{"a", {"b", "c"}, 1};

  live.erase("a");
  entry = plan(0, entry, live, 2).value();
  CHECK(entry == partition_assignment{"b", {"c", "d"}, 2});

  live.insert("a");  // no free slot: nothing moves
  CHECK_FALSE(plan(0, entry, live, 2));

  live.erase("d");
  entry = plan(0, entry, live, 2).value();
  CHECK(entry == partition_assignment{"b", {"c", "a"}, 2});
  live.insert("d");
  CHECK_FALSE(plan(0, entry, live, 2));

  // With a free slot, the returning member takes it at once.
  partition_assignment small{"b", {"c"}, 2};
  CHECK(plan(0, small, {"b", "c"}, 2) == std::nullopt);
  CHECK(plan(0, small, {"a", "b", "c"}, 2) == partition_assignment{"b", {"c", "a"}, 2});
}

TEST_CASE("placement: members must be sorted and distinct") {
  for (const auto& members : {std::vector<std::string>{"b", "a"}, std::vector<std::string>{"a", "a"}}) {
    try {
      plan_assignment(0, std::nullopt, members, {"a"}, 1);
      FAIL("accepted");
    } catch (const storage::store_error& e) {
      CHECK(e.code() == storage::errc::invalid_argument);
    }
  }
}

TEST_CASE("placement: every plan is valid and, once applied, stable") {
  const std::vector<partition_assignment> starts{
      {"a", {"b", "c"}, 1}, {"b", {"d"}, 3}, {"c", {}, 2}, {"d", {"c", "b", "a"}, 9}, {"a", {"d", "a", "x"}, 1}};
  for (unsigned mask = 0; mask < 16; ++mask) {
    std::set<std::string> live;
    for (size_t i = 0; i < abcd.size(); ++i)
      if (mask & (1u << i)) live.insert(abcd[i]);
    for (size_t k = 0; k <= 4; ++k) {
      for (uint32_t p = 0; p < 6; ++p) {
        std::vector<std::optional<partition_assignment>> currents{std::nullopt};
        currents.insert(currents.end(), starts.begin(), starts.end());
        for (const auto& current : currents) {
          CAPTURE(mask);
          CAPTURE(k);
          CAPTURE(p);
          const auto planned = plan(p, current, live, k);
          const auto applied = planned ? planned : current;
          if (live.empty()) {
            CHECK_FALSE(planned);
            continue;
          }
          REQUIRE(applied);
          CHECK(live.contains(applied->owner));
          CHECK(applied->followers.size() == std::min(k, live.size() - 1));
          for (const auto& f : applied->followers) {
            CHECK(live.contains(f));
            CHECK(f != applied->owner);
            CHECK(std::ranges::count(applied->followers, f) == 1);
          }
          if (current)
            CHECK(applied->epoch == current->epoch + (applied->owner == current->owner ? 0 : 1));
          CHECK_FALSE(plan(p, applied, live, k));
        }
      }
    }
  }
}

TEST_CASE("placement: a draining member keeps what it owns but gets no new partition and no follower slot") {
  const std::set<std::string> d{"d"};
  CHECK_FALSE(plan_assignment(0, partition_assignment{"d", {"a"}, 2}, abcd, all, 1, d));
  CHECK(plan_assignment(0, partition_assignment{"a", {"d"}, 2}, abcd, all, 1, d) == partition_assignment{"a", {"b"}, 2});
  CHECK(plan_assignment(3, std::nullopt, abcd, all, 1, d) == partition_assignment{"a", {"b"}, 1});
  // A dead owner's partition does not go to a draining member while another is live.
  CHECK(plan_assignment(0, partition_assignment{"c", {}, 2}, abcd, {"a", "d"}, 0, d) == partition_assignment{"a", {}, 3});
  // Only draining members are left: better led by one of them than not at all.
  CHECK(plan_assignment(0, partition_assignment{"c", {}, 2}, abcd, {"d"}, 1, d) == partition_assignment{"d", {}, 3});
}

TEST_CASE("placement: a move under way keeps its target as an extra follower, and ends when the target is lost") {
  const partition_assignment moving{"a", {"b", "d"}, 3, "d"};
  CHECK_FALSE(plan(0, moving, all, 1));
  CHECK(plan(0, partition_assignment{"a", {"d"}, 3, "d"}, all, 1) == moving);  // a follower already: one more slot
  CHECK(plan(0, moving, {"a", "b", "c"}, 1) == partition_assignment{"a", {"b"}, 3});
  CHECK(plan_assignment(0, moving, abcd, all, 1, {"d"}) == partition_assignment{"a", {"b"}, 3});
  // The owner is lost during the move: its first live follower takes over, the move ends.
  CHECK(plan(0, moving, {"b", "c", "d"}, 1) == partition_assignment{"b", {"d"}, 4});
}

namespace {

std::vector<partition_assignment> table_of(const std::vector<std::string>& owners) {
  std::vector<partition_assignment> table;
  for (const auto& o : owners) table.push_back(partition_assignment{o, {}, 1});
  return table;
}

storage::move_inputs inputs(std::vector<partition_assignment> table, std::set<std::string> live = all,
                            std::set<std::string> draining = {}) {
  storage::move_inputs in;
  in.table = std::move(table);
  in.members = abcd;
  in.live = std::move(live);
  in.draining = std::move(draining);
  in.followers = 1;
  return in;
}

}  // namespace

TEST_CASE("placement: a member that joined gets a partition of the busiest member, one move at a time") {
  auto in = inputs(table_of({"a", "b", "c", "a", "b", "c"}));
  in.table[3].followers = {"d"};  // d holds a copy of p3 already: that one moves
  const auto moves = plan_moves(in);
  REQUIRE(moves.size() == 1);
  CHECK(moves.at(3) == partition_assignment{"a", {"d"}, 1, "d"});

  in.table[3] = moves.at(3);
  CHECK(plan_moves(in).empty());  // waiting for d to catch up
  in.target_lag[3] = 500;
  CHECK(plan_moves(in).empty());
  in.target_lag[3] = 2;
  CHECK(plan_moves(in) == std::map<uint32_t, partition_assignment>{{3, partition_assignment{"d", {"a"}, 2}}});
}

TEST_CASE("placement: no move while the load is even to within one partition, or while an owner is lost") {
  CHECK(plan_moves(inputs(table_of({"a", "b", "c", "d", "a", "b"}))).empty());
  CHECK(plan_moves(inputs(table_of({"a", "a", "a", "b", "c", "c"}), {"b", "c", "d"})).empty());
  // Without d (not live), three members owning 2 each are even.
  CHECK(plan_moves(inputs(table_of({"a", "b", "c", "a", "b", "c"}), {"a", "b", "c"})).empty());
}

TEST_CASE("placement: a draining member's partitions move to the least loaded active members") {
  auto in = inputs(table_of({"a", "b", "c", "c", "d", "d"}), all, {"d"});
  const auto moves = plan_moves(in);
  REQUIRE(moves.size() == 1);
  CHECK(moves.at(4).moving_to == "a");  // a and b own one each: a first; p4 is d's first partition
  CHECK(moves.at(4).owner == "d");
}

TEST_CASE("placement: joining, then draining, converges with even load, every move through a caught-up follower") {
  // Start: a, b, c own 8 partitions; d joins; then c drains. The target reports itself caught up
  // one round after it became a follower.
  std::vector<std::optional<partition_assignment>> table(8);
  std::set<std::string> live{"a", "b", "c"}, draining;
  auto settle = [&](size_t rounds_limit) {
    std::map<uint32_t, uint64_t> lag;
    for (size_t round = 0; round < rounds_limit; ++round) {
      bool changed = false;
      for (uint32_t p = 0; p < table.size(); ++p)
        if (auto planned = plan_assignment(p, table[p], abcd, live, 1, draining)) {
          table[p] = planned;
          changed = true;
        }
      storage::move_inputs in;
      for (const auto& e : table) in.table.push_back(*e);
      in.members = abcd;
      in.live = live;
      in.draining = draining;
      in.followers = 1;
      in.target_lag = lag;
      const auto moves = plan_moves(in);
      CHECK(moves.size() <= 1);
      lag.clear();
      for (const auto& [p, planned] : moves) {
        if (planned.moving_to.empty()) {
          CHECK(planned.epoch == table[p]->epoch + 1);
          CHECK(planned.owner == table[p]->moving_to);
        }
        table[p] = planned;
        changed = true;
      }
      size_t under_way = 0;
      for (uint32_t p = 0; p < table.size(); ++p)
        if (!table[p]->moving_to.empty()) {
          ++under_way;
          lag[p] = 0;
        }
      CHECK(under_way <= 1);
      if (!changed) return;
    }
    FAIL("no stable placement after ", rounds_limit, " rounds");
  };
  auto load = [&](const std::string& m) {
    return std::ranges::count_if(table, [&](const auto& e) { return e->owner == m; });
  };
  settle(10);
  CHECK(load("a") + load("b") + load("c") == 8);
  CHECK(load("d") == 0);

  live.insert("d");
  settle(40);
  for (const auto& m : abcd) CHECK(load(m) == 2);

  draining.insert("c");
  settle(40);
  CHECK(load("c") == 0);
  for (const auto& e : table) CHECK(std::ranges::find(e->followers, "c") == e->followers.end());
  for (const auto& m : {"a", "b", "d"}) CHECK(load(m) >= 2);
}

namespace {

partition_assignment pinned(partition_assignment a) {
  a.pinned = true;
  return a;
}

}  // namespace

TEST_CASE("placement: an operator's move is not undone: the balancer moves another partition, not a pinned one") {
  // p0 was a's; an operator moved it to b, so b owns 3 and a 1. The balancer would take p0 back
  // to a (a follows it, a warm copy) were it not pinned; it moves b's other partition instead.
  auto in = inputs(table_of({"b", "b", "c", "a", "b", "c"}), {"a", "b", "c"});
  in.table[0] = pinned(partition_assignment{"b", {"a"}, 2});
  const auto moves = plan_moves(in);
  REQUIRE(moves.size() == 1);
  CHECK(moves.begin()->first == 1);
  CHECK(moves.at(1).moving_to == "a");

  // Every partition of the busiest member pinned: the next most loaded member gives one.
  in = inputs(table_of({"b", "b", "b", "c", "c", "c", "a"}), {"a", "b", "c"});
  for (uint32_t p : {0u, 1u, 2u}) in.table[p].pinned = true;
  const auto next = plan_moves(in);
  REQUIRE(next.size() == 1);
  CHECK(next.begin()->first == 3);
  CHECK(next.at(3).moving_to == "a");
  // Nothing left that may move: no move.
  for (uint32_t p : {3u, 4u, 5u}) in.table[p].pinned = true;
  CHECK(plan_moves(in).empty());
}

TEST_CASE("placement: a pin follows its move's flip, and ends with a drain, a lost owner or a dropped move") {
  auto in = inputs(table_of({"a", "b", "c", "d"}));
  in.table[0] = pinned(partition_assignment{"a", {"b", "d"}, 3, "d"});
  in.target_lag[0] = 0;
  CHECK(plan_moves(in).at(0) == pinned(partition_assignment{"d", {"a"}, 4}));
  // plan_assignment keeps the pin of a live owner and of a move under way...
  CHECK_FALSE(plan(0, pinned(partition_assignment{"d", {"a"}, 4}), all, 1));
  CHECK_FALSE(plan(0, in.table[0], all, 1));
  // ...drops it with a move whose target is lost, and gives a lost owner's successor none.
  CHECK(plan(0, in.table[0], {"a", "b", "c"}, 1) == partition_assignment{"a", {"b"}, 3});
  CHECK(plan(0, pinned(partition_assignment{"d", {"a"}, 4}), {"a", "b", "c"}, 1) ==
        partition_assignment{"a", {"b"}, 5});
  // A draining owner's pinned partition moves all the same, unpinned.
  auto drain = inputs(table_of({"a", "b", "c", "d"}), all, {"d"});
  drain.table[3].pinned = true;
  const auto moves = plan_moves(drain);
  REQUIRE(moves.size() == 1);
  CHECK_FALSE(moves.at(3).pinned);
  CHECK_FALSE(moves.at(3).moving_to.empty());
}
