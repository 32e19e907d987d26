#include "torture_checks.hpp"

#include <perdure/replay.hpp>

#include <chrono>
#include <map>
#include <set>

namespace perdure::torture {
namespace {

using namespace std::chrono_literals;

void problem(figures& out, const std::string& id, const std::string& what) {
  out.problems.push_back(id + ": " + what);
}

void count_status(figures& out, runtime_status s) {
  if (s == runtime_status::completed) ++out.completed;
  if (s == runtime_status::failed) ++out.failed;
  if (s == runtime_status::terminated) ++out.terminated;
}

void check_sub(client& c, const registry& functions, const std::string& id, figures& out) {
  // A terminated parent does not stop its children: they finish on their own.
  instance_record record;
  try {
    record = c.wait_for_completion(id, 60s);
  } catch (const std::exception& e) {
    problem(out, id, std::string("sub-orchestration did not finish: ") + e.what());
    return;
  }
  ++out.sub_instances;
  count_status(out, record.status);
  for (const auto& sub : check_history(record, c.history(id), functions, out)) check_sub(c, functions, sub, out);
}

}  // namespace

std::vector<std::string> check_history(const instance_record& record, const history& events,
                                       const registry& functions, figures& out) {
  const std::string& id = record.instance_id;
  std::map<int32_t, int> results;  // task id -> results (activities and sub-orchestrations)
  std::map<int32_t, std::pair<time_point, int>> timers;  // timer id -> (fire_at, times fired)
  std::multiset<std::string> payloads;
  std::vector<std::string> subs;
  std::optional<time_point> ended_at;
  for (const auto& e : events) {
    const auto& p = e.payload;
    if (auto* s = std::get_if<events::task_scheduled>(&p)) results.try_emplace(s->task_id, 0);
    if (auto* s = std::get_if<events::sub_orchestration_created>(&p)) {
      results.try_emplace(s->task_id, 0);
      subs.push_back(s->instance_id);
    }
    if (auto* r = std::get_if<events::task_completed>(&p)) ++results[r->task_id];
    if (auto* r = std::get_if<events::task_failed>(&p)) ++results[r->task_id];
    if (auto* r = std::get_if<events::sub_orchestration_completed>(&p)) ++results[r->task_id];
    if (auto* r = std::get_if<events::sub_orchestration_failed>(&p)) ++results[r->task_id];
    if (auto* t = std::get_if<events::timer_created>(&p)) timers.try_emplace(t->timer_id, t->fire_at, 0);
    if (auto* t = std::get_if<events::timer_fired>(&p)) ++timers[t->timer_id].second;
    if (auto* r = std::get_if<events::event_raised>(&p)) payloads.insert(r->name + "=" + r->input);
    if (std::holds_alternative<events::execution_completed>(p) || std::holds_alternative<events::execution_failed>(p))
      ended_at = e.timestamp;
  }
  const bool ran_to_end = record.status == runtime_status::completed || record.status == runtime_status::failed;
  for (const auto& [task, count] : results) {
    if (count > 1 || (ran_to_end && count != 1))
      problem(out, id, "task " + std::to_string(task) + " has " + std::to_string(count) + " results");
  }
  for (const auto& [timer, entry] : timers) {
    const auto [fire_at, fired] = entry;
    const bool due_before_end = ended_at && fire_at <= *ended_at;
    if (fired > 1 || (due_before_end && fired != 1))
      problem(out, id, "timer " + std::to_string(timer) + " fired " + std::to_string(fired) + " times");
  }
  for (const auto& payload : payloads)
    if (payloads.count(payload) > 1) problem(out, id, "event " + payload + " applied twice");
  out.tasks += results.size();
  out.timers += timers.size();
  out.events += payloads.size();

  try {
    auto replayed = replay(events, functions);
    ++out.replays;
    if (replayed.status != record.status)
      problem(out, id, std::string("replay ends ") + to_string(replayed.status) + ", the record says " +
                           to_string(record.status));
    else if (record.status == runtime_status::completed && replayed.output != record.output)
      problem(out, id, "replay output " + replayed.output + " differs from the record's " + record.output);
    if (!replayed.new_events.empty())
      problem(out, id, "replay adds " + std::to_string(replayed.new_events.size()) + " events to a finished history");
  } catch (const std::exception& e) {
    problem(out, id, std::string("replay failed: ") + e.what());
  }
  return subs;
}

void check_instance(client& c, const registry& functions, const instance_plan& plan, figures& out) {
  auto record = c.status(plan.id);
  if (!record) {
    problem(out, plan.id, "does not exist");
    return;
  }
  ++out.instances;
  count_status(out, record->status);
  const auto want = expected(plan.id, plan.program);
  if (record->status != want.status) {
    problem(out, plan.id, std::string("status ") + to_string(record->status) + ", expected " + to_string(want.status) +
                              (record->failure ? " (failure: " + record->failure->message + ")" : ""));
    return;
  }
  if (want.status == runtime_status::failed && (!record->failure || record->failure->message != want.failure_message))
    problem(out, plan.id, "failure '" + (record->failure ? record->failure->message : "") + "', expected '" +
                              want.failure_message + "'");
  if (want.status != runtime_status::failed && json::parse(record->output, nullptr, false) != want.output)
    problem(out, plan.id, "output " + record->output + ", expected " + want.output.dump());
  for (const auto& sub : check_history(*record, c.history(plan.id), functions, out)) check_sub(c, functions, sub, out);
}

}  // namespace perdure::torture
