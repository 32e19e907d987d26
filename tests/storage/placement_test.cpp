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
  return out << "], epoch " << a->epoch << "}";
}

}  // namespace perdure::storage

using namespace perdure;
using storage::partition_assignment;
using storage::plan_assignment;

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
