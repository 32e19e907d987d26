#include <coordinator_lease.hpp>
#include <perdure/storage/store.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using namespace std::chrono_literals;
using storage::memory_coordinator_lease;

namespace {

struct fake_clock {
  std::chrono::steady_clock::time_point now{};
  std::function<std::chrono::steady_clock::time_point()> function() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("memory_coordinator_lease: taken when free, renewed by its holder, refused to others while held") {
  fake_clock clock;
  memory_coordinator_lease lease(1000ms, clock.function());
  CHECK(lease.hold("a"));
  CHECK_FALSE(lease.hold("b"));
  clock.now += 900ms;
  CHECK(lease.hold("a"));  // renewed: it now runs to 1900 ms
  clock.now += 900ms;
  CHECK_FALSE(lease.hold("b"));
  CHECK(lease.hold("a"));
}

TEST_CASE("memory_coordinator_lease: taken over once its holder stopped renewing for the expiry") {
  fake_clock clock;
  memory_coordinator_lease lease(1000ms, clock.function());
  CHECK(lease.hold("a"));
  clock.now += 999ms;
  CHECK_FALSE(lease.hold("b"));
  clock.now += 1ms;
  CHECK(lease.hold("b"));
  CHECK_FALSE(lease.hold("a"));  // the old holder does not get it back by renewing late
}

TEST_CASE("memory_coordinator_lease: release lets another node take it at once, only by its holder") {
  fake_clock clock;
  memory_coordinator_lease lease(1000ms, clock.function());
  CHECK(lease.hold("a"));
  lease.release("b");  // not the holder: nothing happens
  CHECK_FALSE(lease.hold("b"));
  lease.release("a");
  CHECK(lease.hold("b"));
  CHECK_FALSE(lease.hold("a"));
}

TEST_CASE("memory_coordinator_lease: refuses an empty node id and an expiry of zero") {
  memory_coordinator_lease lease(1000ms);
  CHECK_THROWS_AS(lease.hold(""), storage::store_error);
  CHECK_THROWS_AS(memory_coordinator_lease(0ms), storage::store_error);
}
