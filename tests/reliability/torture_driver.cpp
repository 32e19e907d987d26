#include "torture_driver.hpp"

#include "support/instance_report.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace perdure::torture {
namespace {

constexpr int start_threads = 4;

bool has_events(const json& program) {
  return std::any_of(program.at("steps").begin(), program.at("steps").end(),
                     [](const json& s) { return s.at("k") == "event"; });
}

// Raises the events of the current round that its history does not hold yet, in order.
void raise_missing_events(client& c, driven& d, int round) {
  const auto events = c.history(d.plan.id);
  std::set<std::string> raised;
  std::optional<int> history_round;
  for (const auto& e : events) {
    if (auto* s = std::get_if<events::execution_started>(&e.payload))
      history_round = json::parse(s->input).at("r").get<int>();
    if (auto* r = std::get_if<events::event_raised>(&e.payload)) raised.insert(r->name + "=" + r->input);
  }
  if (history_round != round) return;  // it moved on meanwhile: look again at the next pass
  const auto& steps = d.plan.program.at("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].at("k") != "event") continue;
    const std::string name = event_name(i, round);
    for (int j = 0, n = steps[i].at("n").get<int>(); j < n; ++j) {
      const std::string payload = json(event_payload(d.plan.id, name, j)).dump();
      if (!raised.count(name + "=" + payload)) c.raise_event(d.plan.id, name, payload);
    }
  }
  d.events_raised_round = round;
}

void drive_one(client& c, driven& d, int pass, size_t& unfinished) {
  auto record = c.status(d.plan.id);
  if (!record) {  // not started yet (start_all could not reach its node)
    ++unfinished;
    return;
  }
  if (is_terminal(record->status)) {
    d.finished = true;
    return;
  }
  ++unfinished;
  const auto& program = d.plan.program;
  if (program.at("tail") == "forever" && pass >= d.plan.terminate_pass) {
    c.terminate(d.plan.id, terminate_reason);
    return;
  }
  if (d.plan.suspend && !d.suspended_once) {
    c.suspend(d.plan.id, "torture");
    d.suspended_once = true;
    return;
  }
  if (record->status == runtime_status::suspended) c.resume(d.plan.id, "torture");
  if (pass < d.plan.event_pass || !has_events(program) || record->input.empty()) return;
  const int round = json::parse(record->input).at("r").get<int>();
  if (d.events_raised_round != round) raise_missing_events(c, d, round);
}

}  // namespace

size_t start_all(client& c, std::vector<driven>& all) {
  std::atomic<size_t> next{0};
  std::atomic<size_t> not_started{0};
  std::mutex timed_out_mutex;
  std::exception_ptr timed_out;  // the first call that got no answer: the others would wait as long
  std::vector<std::jthread> threads;
  for (int t = 0; t < start_threads; ++t)
    threads.emplace_back([&] {
      for (size_t i = next++; i < all.size(); i = next++) {
        const auto& plan = all[i].plan;
        try {
          if (c.status(plan.id)) continue;  // a finished instance must not be started again
          c.start(orchestration_name, start_input(plan.program).dump(),
                  start_options{plan.id, if_running::return_existing});
        } catch (const timeout_error&) {
          std::lock_guard lock(timed_out_mutex);
          if (!timed_out) timed_out = std::current_exception();
          next = all.size();  // stop: every later call on this connection would time out too
        } catch (const error&) {
          not_started.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  threads.clear();  // joins
  if (timed_out) std::rethrow_exception(timed_out);
  return not_started.load();
}

std::vector<driven> plan_run(uint64_t seed, int n) {
  std::vector<driven> all;
  for (int i = 0; i < n; ++i) all.push_back(driven{generate(seed, i)});
  return all;
}

void tolerated_errors::add(const std::string& what) {
  count.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex);
  if (first.size() < 20) first.push_back(what);
}

size_t drive(client& c, std::vector<driven>& all, int pass, tolerated_errors& errors) {
  size_t unfinished = 0;
  for (auto& d : all) {
    if (d.finished) continue;
    try {
      drive_one(c, d, pass, unfinished);
    } catch (const timeout_error&) {
      throw;  // the connection is no good: the caller decides
    } catch (const error& e) {
      errors.add(d.plan.id + ": " + e.what());
      ++unfinished;
    }
  }
  return unfinished;
}

std::string describe(client& c, const instance_plan& plan) { return testing_support::describe_instance(c, plan.id); }

}  // namespace perdure::torture
