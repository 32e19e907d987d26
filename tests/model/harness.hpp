// Drives an orchestration_executor episode by episode against hand-written events, and checks at
// every step that a fresh executor rebuilt by replay produces the same episode.
#pragma once

#include <perdure/executor.hpp>
#include <perdure/registry.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace perdure::test {

inline time_point at(int seconds) { return time_point(std::chrono::seconds(1'700'000'000 + seconds)); }

inline history_event ev(event_payload payload, time_point t = at(0)) {
  return history_event{t, std::move(payload)};
}

inline history_event started(std::string name, std::string input, std::string instance = "i1") {
  return ev(events::execution_started{std::move(name), std::move(instance), "e1", std::move(input), {}});
}
inline history_event completed(int32_t id, std::string output) {
  return ev(events::task_completed{id, std::move(output)});
}
inline history_event failed(int32_t id, std::string type, std::string message) {
  return ev(events::task_failed{id, failure_details{std::move(type), std::move(message), {}, false}});
}
inline history_event fired(int32_t id, time_point fire_at = at(0)) {
  return ev(events::timer_fired{id, fire_at});
}
inline history_event raised(std::string name, std::string input) {
  return ev(events::event_raised{std::move(name), std::move(input)});
}

template <class E>
const E* find_event(const std::vector<history_event>& events, size_t nth = 0) {
  for (const auto& e : events)
    if (auto* p = std::get_if<E>(&e.payload))
      if (nth-- == 0) return p;
  return nullptr;
}

template <class E>
size_t count_events(const std::vector<history_event>& events) {
  size_t n = 0;
  for (const auto& e : events) n += std::holds_alternative<E>(e.payload) ? 1 : 0;
  return n;
}

class harness {
 public:
  harness(const registry& functions, std::string name, std::string instance = "i1", int32_t version = 0)
      : functions_(functions), name_(std::move(name)), instance_(std::move(instance)), version_(version),
        executor_(std::make_unique<orchestration_executor>(functions, name_, version_, instance_)) {}

  /// One episode at time `t` (seconds from the base), checked against a replayed executor.
  episode_result step(int t, std::vector<history_event> events) {
    std::vector<history_event> batch;
    batch.push_back(ev(events::episode_started{}, at(t)));
    for (auto& e : events) batch.push_back(std::move(e));
    orchestration_executor fresh(functions_, name_, version_, instance_);
    episode_result replayed = fresh.replay(history_);
    CHECK(replayed.appended.empty());
    episode_result from_replay = fresh.execute(batch);
    episode_result r = executor_->execute(batch);
    CHECK(r.appended == from_replay.appended);
    CHECK(r.ignored == from_replay.ignored);
    CHECK(r.carryover_events == from_replay.carryover_events);
    CHECK(executor_->is_complete() == fresh.is_complete());
    CHECK(executor_->is_suspended() == fresh.is_suspended());
    history_.insert(history_.end(), r.appended.begin(), r.appended.end());
    return r;
  }

  const history& events() const noexcept { return history_; }
  orchestration_executor& executor() noexcept { return *executor_; }

 private:
  const registry& functions_;
  std::string name_;
  std::string instance_;
  int32_t version_;
  std::unique_ptr<orchestration_executor> executor_;
  history history_;
};

}  // namespace perdure::test
