// Differential test: random orchestration programs (torture_program.hpp) run through the in-memory
// orchestration_tester and through a real node (RocksDB in a temporary directory, real actors)
// must end with the same records and the same histories, for the root and every
// sub-orchestration. The tester is what users unit-test against: where the two differ, a user's
// test passes on behaviour production does not have.
//
// Short form by default (CI): 100 programs. Long form: PERDURE_DIFF_PROGRAMS=2000.
// PERDURE_DIFF_SEED replays a run (the seed is printed); PERDURE_DIFF_PROGRAM=i runs only
// program i of it.
//
// What is compared, and why not the raw histories:
// - Records: status, output, failure (type, message, details, retriability), custom status.
// - Histories, per execution, in a canonical form:
//     start    the ExecutionStarted event;
//     actions  TaskScheduled, TimerCreated, SubOrchestrationCreated, EventSent, in order: the code
//              takes them in the same order for the same results, whatever their arrival order;
//     inputs   every other event but EpisodeStarted (results, fired timers, events raised,
//              suspend and resume), as a multiset: on a node parallel activities, timers and
//              sub-orchestrations finish in any order, and the split into episodes follows the
//              timing of messages, neither of which the code can observe;
//     ends     ExecutionCompleted, ExecutionFailed, ContinuedAsNew, ExecutionTerminated, in order
//              (a second one is a divergence too).
//   Every event is compared whole (operator==) after normalizing what legitimately differs:
//   timestamps (the tester's are virtual) are dropped, a TimerCreated keeps its delay from its
//   episode's time instead of its fire time, and execution ids (each runtime makes its own) are
//   replaced by canonical names. A generated sub-orchestration id embeds its parent's execution id,
//   so every instance is named by its path from the root: parent, which of the parent's
//   executions that started sub-orchestrations (in order), and the task id that started it. The
//   same names replace the ids wherever they appear in a payload or a failure message.
// - A node keeps only the current execution's history (continue-as-new replaces it); the tester
//   keeps the earlier ones too. The executions both expose are compared, aligned on the current
//   one; the current execution's input carries the outputs of the earlier rounds.
//
// Programs are generated with generation_options{retries_in_when_all = false} (a retried failure
// inside when_all takes ids in the order results arrive), every other one with the extra steps
// (events sent to oneself, an unregistered sub-orchestration, two sub-orchestrations with one id, a
// sub-orchestration terminated from outside); "flaky" activities are keyed on the root's id, which
// both runtimes share.
//
// Outside actions (events, suspend and resume, terminations) happen, on the node, when the instance
// is ready for them (the round they belong to is the current execution, the instance waits), and,
// in the tester, at virtual times that put them in the same execution (see tester_timeline). Every
// program's own work takes seconds of virtual time, and no execution lives an hour of virtual time,
// so its own one-hour when_any timers fire in neither. A timer of an earlier execution may come due
// in the tester while a later one runs (round 0's at 60 min, in round 1): a node drops it, as it
// names another execution, and so must the tester.
#include "runtime/node_fixture.hpp"
#include "torture_program.hpp"

#include <perdure/testing.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>

using namespace perdure;
using namespace std::chrono_literals;
using nlohmann::json;
using testing_support::temp_dir;
using torture::instance_plan;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::stoull(value) : fallback;
}

constexpr const char* suspend_reason = "differential";

// Odd programs also get the extra steps. Even ones keep to the torture test's: an extra step that
// one runtime cannot take (an unregistered sub-orchestration, a second start of a running id)
// hides whatever else the program would show.
torture::generation_options program_options(uint64_t index) {
  return torture::generation_options{.retries_in_when_all = false, .more_steps = index % 2 == 1};
}

bool has_step(const json& program, const char* kind) {
  return std::any_of(program.at("steps").begin(), program.at("steps").end(),
                     [&](const json& s) { return s.at("k") == kind; });
}

int rounds_of(const instance_plan& plan) { return plan.program.at("rounds").get<int>(); }

// The ids of the "stuck" sub-orchestrations a round starts, in the order it starts them.
std::vector<std::string> stuck_ids(const instance_plan& plan, int round) {
  std::vector<std::string> ids;
  const auto& steps = plan.program.at("steps");
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].at("k") == "stuck") ids.push_back(torture::stuck_instance_id(plan.id, i, round));
  return ids;
}

// The plan's suspend applies only when round 0 waits for events: then both runtimes suspend it
// in round 0, before its events; otherwise the suspend would land wherever the node happens to be.
bool suspends(const instance_plan& plan) { return plan.suspend && has_step(plan.program, "event"); }

// ---- the tester's run --------------------------------------------------------------------------

// Virtual times of the outside actions in the tester. Round r's events at 30 min * (r + 1). Its
// k-th stuck sub-orchestration terminated at 10 + 2k min after them: a round starts the next one
// only once the one before has ended, and a top-level program has at most 6 steps, so the last at
// 20 min after the events. Round r lives at most from 30r min (round r - 1's events) to 30r + 50
// min. The suspend and resume just before round 0's events. A "forever" tail terminated 25 min
// after the last round's events (after its stuck sub-orchestrations), or at 25 min when the
// program waits for nothing from outside: no execution lives an hour.
struct tester_timeline {
  static constexpr auto spacing = 30min;
  static std::chrono::nanoseconds events(int round) { return spacing * (round + 1); }
  static std::chrono::nanoseconds stuck(int round, size_t k) { return events(round) + 10min + 2min * k; }
  static std::chrono::nanoseconds tail(const instance_plan& plan) {
    const bool waits = has_step(plan.program, "event") || has_step(plan.program, "stuck");
    return (waits ? events(rounds_of(plan) - 1) : 0min) + 25min;
  }
};

struct seen_instance {
  std::string id;
  runtime_status status = runtime_status::pending;
  std::string output;
  std::optional<failure_details> failure;
  std::string custom_status;
  std::optional<parent_instance> parent;
  std::vector<history> executions;  // oldest first; a node shows only its current one
  time_point created_at{};          // the node's (see canonical_names)
};

struct seen_run {
  std::map<std::string, seen_instance> instances;  // by the side's own instance id
  std::string failure;                             // why the side could not run the program
};

const events::execution_started* started_event(const history& h) {
  for (const auto& e : h)
    if (auto* s = std::get_if<events::execution_started>(&e.payload)) return s;
  return nullptr;
}

seen_run run_in_tester(const registry& functions, const instance_plan& plan) {
  orchestration_tester tester(functions);
  const auto& steps = plan.program.at("steps");
  for (int round = 0; round < rounds_of(plan); ++round) {
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].at("k") != "event") continue;
      const std::string name = torture::event_name(i, round);
      for (int j = 0, n = steps[i].at("n").get<int>(); j < n; ++j)
        tester.raise_event(name, torture::event_payload(plan.id, name, j), tester_timeline::events(round));
    }
    const auto stuck = stuck_ids(plan, round);
    for (size_t k = 0; k < stuck.size(); ++k)
      tester.schedule(tester_timeline::stuck(round, k), events::execution_terminated{torture::terminate_reason},
                      stuck[k]);
  }
  if (suspends(plan)) {
    tester.schedule(tester_timeline::events(0) - 2min, events::execution_suspended{suspend_reason});
    tester.schedule(tester_timeline::events(0) - 1min, events::execution_resumed{suspend_reason});
  }
  if (plan.program.at("tail") == "forever")
    tester.terminate(torture::terminate_reason, tester_timeline::tail(plan));

  seen_run run;
  try {
    tester.run_raw(torture::orchestration_name, torture::start_input(plan.program).dump(), plan.id);
  } catch (const std::exception& e) {
    run.failure = std::string("the tester threw: ") + e.what();
    return run;
  }
  std::vector<std::string> todo{plan.id};
  while (!todo.empty()) {
    const std::string id = todo.back();
    todo.pop_back();
    const test_instance* t = tester.instance(id);
    if (t == nullptr || run.instances.contains(id)) continue;
    seen_instance& s = run.instances[id];
    s.id = id;
    s.status = t->status;
    s.output = t->output;
    s.failure = t->failure;
    s.custom_status = t->custom_status;
    s.executions = t->earlier;
    s.executions.push_back(t->events);
    if (auto* started = started_event(s.executions.front())) s.parent = started->parent;
    for (const auto& h : s.executions)
      for (const auto& e : h)
        if (auto* c = std::get_if<events::sub_orchestration_created>(&e.payload)) todo.push_back(c->instance_id);
  }
  return run;
}

// ---- the node's run ----------------------------------------------------------------------------

// What the node's driver did, to show what a run covered.
struct outside_actions {
  uint64_t events = 0, suspends = 0, terminations = 0;
};

struct node_driven {
  instance_plan plan;
  bool finished = false;
  bool suspended = false;
  int events_round = -1;
  std::set<std::string> terminated;  // stuck sub-orchestrations terminated
};

bool waits_forever(client& c, const std::string& id) {
  auto record = c.status(id);
  return record && !is_terminal(record->status) && record->custom_status == json("tail").dump();
}

// One pass of outside actions: each is taken once, when the instance is ready for it.
void drive(client& c, node_driven& d, outside_actions& done) {
  const auto record = c.status(d.plan.id);
  if (!record) return;
  if (is_terminal(record->status)) {
    d.finished = true;
    return;
  }
  const int round = json::parse(record->input).at("r").get<int>();
  if (suspends(d.plan) && !d.suspended && round == 0) {
    c.suspend(d.plan.id, suspend_reason);
    c.resume(d.plan.id, suspend_reason);
    d.suspended = true;
    ++done.suspends;
  }
  if (d.events_round < round && has_step(d.plan.program, "event")) {
    const auto& steps = d.plan.program.at("steps");
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].at("k") != "event") continue;
      const std::string name = torture::event_name(i, round);
      for (int j = 0, n = steps[i].at("n").get<int>(); j < n; ++j)
        c.raise_event(d.plan.id, name, json(torture::event_payload(d.plan.id, name, j)).dump());
      done.events += static_cast<uint64_t>(steps[i].at("n").get<int>());
    }
    d.events_round = round;
  }
  for (const auto& id : stuck_ids(d.plan, round))
    if (!d.terminated.contains(id) && waits_forever(c, id)) {
      c.terminate(id, torture::terminate_reason);
      d.terminated.insert(id);
      ++done.terminations;
    }
  if (d.plan.program.at("tail") == "forever" && round + 1 == rounds_of(d.plan) && waits_forever(c, d.plan.id)) {
    c.terminate(d.plan.id, torture::terminate_reason);
    ++done.terminations;
  }
}

std::vector<instance_record> all_records(client& c) {
  std::vector<instance_record> out;
  instance_query query;
  query.page_size = 1000;
  do {
    auto page = c.list(query);
    for (auto& r : page.records) out.push_back(std::move(r));
    query.continuation_token = page.continuation_token;
  } while (!query.continuation_token.empty());
  return out;
}

// Drives every instance until all of them (sub-orchestrations included) have finished, or nothing
// has changed for a while: an instance that waits forever (a divergence) is compared as it is.
void drive_node(client& c, std::vector<node_driven>& all, outside_actions& done) {
  // Every program's own waits are shorter than a second; a longer quiet is an instance that waits
  // forever (with room for a busy machine).
  constexpr auto quiet_limit = 10s;
  constexpr auto hard_limit = 300s;
  const auto begin = std::chrono::steady_clock::now();
  auto last_change = begin;
  time_point latest_update{};
  for (int pass = 0;; ++pass) {
    for (auto& d : all)
      if (!d.finished) drive(c, d, done);
    if (pass % 10 == 0) {
      const auto records = all_records(c);
      const bool all_ended = std::all_of(records.begin(), records.end(),
                                         [](const instance_record& r) { return is_terminal(r.status); });
      if (all_ended && std::all_of(all.begin(), all.end(), [](const node_driven& d) { return d.finished; })) return;
      time_point latest{};
      for (const auto& r : records) latest = std::max(latest, r.last_updated_at);
      const auto now = std::chrono::steady_clock::now();
      if (latest != latest_update) {
        latest_update = latest;
        last_change = now;
      }
      if (now - last_change > quiet_limit || now - begin > hard_limit) {
        std::cout << "differential: the node stopped making progress with unfinished instances" << std::endl;
        return;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
}

bool under_root(const std::string& id, const std::string& root) {
  return id == root || id.starts_with(root + ":") || id.starts_with(root + "~");
}

seen_run seen_on_node(client& c, const std::vector<instance_record>& records, const instance_plan& plan) {
  seen_run run;
  for (const auto& r : records) {
    if (!under_root(r.instance_id, plan.id)) continue;
    seen_instance& s = run.instances[r.instance_id];
    s.id = r.instance_id;
    s.status = r.status;
    s.output = r.output;
    s.failure = r.failure;
    s.custom_status = r.custom_status;
    s.parent = r.parent;
    s.created_at = r.created_at;
    s.executions.push_back(c.history(r.instance_id));
  }
  if (!run.instances.contains(plan.id)) run.failure = "the node has no instance '" + plan.id + "'";
  return run;
}

// ---- canonical form ----------------------------------------------------------------------------

// Names every instance by its path from the root, and rewrites the runtime's own ids in texts.
class canonical_names {
 public:
  // How a side tells the order of an instance's executions: the tester shows every execution's
  // history; the node only the current one, but an execution awaits every sub-orchestration it
  // starts before the next begins, so the creation times of the children order their parents'
  // executions.
  enum class execution_order { history_position, child_creation_time };

  canonical_names(const seen_run& run, const std::string& root_id, execution_order order) : run_(run) {
    std::map<std::string, std::map<std::string, int64_t>> rank_by_parent;  // parent -> execution -> rank value
    for (const auto& [id, s] : run.instances) {
      if (!s.parent) continue;
      auto& ranks = rank_by_parent[s.parent->instance_id];
      int64_t value = std::numeric_limits<int64_t>::max();
      if (order == execution_order::child_creation_time) {
        value = s.created_at.time_since_epoch().count();
      } else if (auto parent = run.instances.find(s.parent->instance_id); parent != run.instances.end()) {
        const auto& executions = parent->second.executions;
        for (size_t i = 0; i < executions.size(); ++i)
          if (auto* started = started_event(executions[i]); started && started->execution_id == s.parent->execution_id)
            value = static_cast<int64_t>(i);
      }
      auto [it, inserted] = ranks.try_emplace(s.parent->execution_id, value);
      if (!inserted) it->second = std::min(it->second, value);
    }
    for (const auto& [parent, ranks] : rank_by_parent) {
      std::vector<std::pair<int64_t, std::string>> sorted;
      for (const auto& [execution, value] : ranks) sorted.emplace_back(value, execution);
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 0; i < sorted.size(); ++i) ordinal_[parent][sorted[i].second] = "x" + std::to_string(i);
    }
    names_[root_id] = "root";
    for (const auto& [id, s] : run.instances) name_of(id, 0);
    for (const auto& [id, name] : names_) replacements_.emplace_back(id, "<" + name + ">");
    for (const auto& [id, s] : run.instances)
      for (const auto& h : s.executions)
        if (auto* started = started_event(h)) replacements_.emplace_back(started->execution_id, "<execution>");
    for (const auto& [id, s] : run.instances)
      if (s.parent) replacements_.emplace_back(s.parent->execution_id, "<execution>");
    std::erase_if(replacements_, [](const auto& r) { return r.first.empty(); });
  }

  /// The instance's path from the root, or its id rewritten when it is not one of the run's
  /// instances (a sub-orchestration that never started).
  std::string instance(const std::string& id) const {
    auto it = names_.find(id);
    return it != names_.end() ? it->second : rewrite(id);
  }
  const std::map<std::string, std::string>& names() const { return names_; }

  std::string execution(const std::string& instance_id, const std::string& execution_id) const {
    auto p = ordinal_.find(instance_id);
    if (p == ordinal_.end()) return rewrite(execution_id);
    auto e = p->second.find(execution_id);
    return e != p->second.end() ? e->second : rewrite(execution_id);
  }

  /// Replaces every instance and execution id in `text`, the longest match first at each position.
  std::string rewrite(const std::string& text) const {
    std::string out;
    for (size_t i = 0; i < text.size();) {
      const std::pair<std::string, std::string>* best = nullptr;
      for (const auto& r : replacements_)
        if (text.compare(i, r.first.size(), r.first) == 0 && (!best || r.first.size() > best->first.size())) best = &r;
      if (best) {
        out += best->second;
        i += best->first.size();
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  failure_details rewrite(failure_details f) const {
    f.message = rewrite(f.message);
    f.details = rewrite(f.details);
    return f;
  }

 private:
  std::string name_of(const std::string& id, int depth) {
    if (auto it = names_.find(id); it != names_.end()) return it->second;
    const auto& s = run_.instances.at(id);
    if (!s.parent || depth > 16 || !run_.instances.contains(s.parent->instance_id)) return {};
    const std::string parent = name_of(s.parent->instance_id, depth + 1);
    if (parent.empty()) return {};
    const std::string execution_name = execution(s.parent->instance_id, s.parent->execution_id);
    return names_[id] = parent + "/" + execution_name + "." + std::to_string(s.parent->task_id);
  }

  const seen_run& run_;
  std::map<std::string, std::string> names_;  // reachable from the root only
  std::map<std::string, std::map<std::string, std::string>> ordinal_;
  std::vector<std::pair<std::string, std::string>> replacements_;
};

template <class>
inline constexpr bool dependent_false = false;

template <class T, class... Kinds>
inline constexpr bool is_one_of = (std::is_same_v<T, Kinds> || ...);

enum class part { start, action, input, end, skipped };

// Which part of the canonical form an event belongs to; every event kind must be placed.
part part_of(const event_payload& p) {
  return std::visit(
      [](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        using namespace events;
        if constexpr (std::is_same_v<T, execution_started>) return part::start;
        else if constexpr (std::is_same_v<T, episode_started>) return part::skipped;
        else if constexpr (is_one_of<T, task_scheduled, timer_created, sub_orchestration_created, event_sent,
                                     entity_called, entity_signaled, patch_marker>)
          return part::action;
        else if constexpr (is_one_of<T, execution_completed, execution_failed, continued_as_new, execution_terminated>)
          return part::end;
        else if constexpr (is_one_of<T, execution_suspended, execution_resumed, task_completed, events::task_failed,
                                     timer_fired, sub_orchestration_completed, sub_orchestration_failed, event_raised,
                                     entity_call_completed, entity_call_failed, entity_operation, execution_rewound,
                                     execution_restarted>)
          return part::input;
        else
          static_assert(dependent_false<T>, "place the new event kind in the canonical form");
      },
      p);
}

// The event with what legitimately differs between runtimes normalized (see the file comment).
event_payload normalized(event_payload p, const canonical_names& names, time_point episode_time) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        using namespace events;
        if constexpr (std::is_same_v<T, execution_started>) {
          e.instance_id = names.instance(e.instance_id);
          e.execution_id.clear();
          e.trace_parent.clear();  // a sub-orchestration's names its parent's span: random, as execution ids
          e.input = names.rewrite(e.input);
          if (e.parent) {
            e.parent->execution_id = names.execution(e.parent->instance_id, e.parent->execution_id);
            e.parent->instance_id = names.instance(e.parent->instance_id);
          }
        } else if constexpr (is_one_of<T, execution_completed, task_completed, sub_orchestration_completed,
                                       entity_call_completed>) {
          e.output = names.rewrite(e.output);
        } else if constexpr (is_one_of<T, execution_failed, events::task_failed, sub_orchestration_failed,
                                       entity_call_failed>) {
          e.failure = names.rewrite(e.failure);
        } else if constexpr (is_one_of<T, continued_as_new, task_scheduled>) {
          e.input = names.rewrite(e.input);
        } else if constexpr (std::is_same_v<T, event_raised>) {
          e.input = names.rewrite(e.input);
          e.trace_parent.clear();  // names a random span id
        } else if constexpr (std::is_same_v<T, execution_restarted>) {
          e.previous_execution_id.clear();
        } else if constexpr (is_one_of<T, execution_terminated, execution_suspended, execution_resumed,
                                       execution_rewound>) {
          e.reason = names.rewrite(e.reason);
        } else if constexpr (std::is_same_v<T, timer_created>) {
          e.fire_at = time_point(e.fire_at - episode_time);
        } else if constexpr (std::is_same_v<T, timer_fired>) {
          e.fire_at = {};
          e.created_at = {};
        } else if constexpr (is_one_of<T, sub_orchestration_created, event_sent>) {
          e.instance_id = names.instance(e.instance_id);
          e.input = names.rewrite(e.input);
        } else if constexpr (is_one_of<T, entity_called, entity_signaled>) {
          e.input = names.rewrite(e.input);
        } else if constexpr (std::is_same_v<T, entity_operation>) {
          e.caller_instance_id = names.instance(e.caller_instance_id);
          e.caller_execution_id.clear();
          e.input = names.rewrite(e.input);
          e.trace_parent.clear();
        } else if constexpr (!is_one_of<T, episode_started, patch_marker>) {  // a patch id is the code's, as is
          static_assert(dependent_false<T>, "normalize the new event kind");
        }
      },
      p);
  return p;
}

std::string describe(const failure_details& f) {
  return "{" + f.error_type + ": " + f.message + (f.details.empty() ? "" : " [" + f.details + "]") +
         (f.non_retriable ? ", non-retriable}" : "}");
}

std::string clip(const std::string& text) { return text.size() <= 300 ? text : text.substr(0, 300) + "..."; }

std::string describe(const event_payload& p) {
  std::ostringstream out;
  out << event_kind_name(p);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        using namespace events;
        if constexpr (std::is_same_v<T, execution_started>) {
          out << " " << e.name << " " << e.instance_id << " input " << clip(e.input);
          if (e.parent)
            out << " parent " << e.parent->instance_id << "@" << e.parent->execution_id << " task "
                << e.parent->task_id;
        } else if constexpr (is_one_of<T, execution_completed, task_completed, sub_orchestration_completed,
                                       entity_call_completed>) {
          if constexpr (!std::is_same_v<T, execution_completed>) out << " #" << e.task_id;
          out << " " << clip(e.output);
        } else if constexpr (is_one_of<T, execution_failed, events::task_failed, sub_orchestration_failed,
                                       entity_call_failed>) {
          if constexpr (!std::is_same_v<T, execution_failed>) out << " #" << e.task_id;
          out << " " << describe(e.failure);
        } else if constexpr (std::is_same_v<T, continued_as_new>) {
          out << " " << clip(e.input);
        } else if constexpr (is_one_of<T, execution_terminated, execution_suspended, execution_resumed>) {
          out << " '" << e.reason << "'";
        } else if constexpr (std::is_same_v<T, task_scheduled>) {
          out << " #" << e.task_id << " " << e.name << " " << clip(e.input);
        } else if constexpr (std::is_same_v<T, timer_created>) {
          out << " #" << e.timer_id << " after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(e.fire_at.time_since_epoch()).count() << " ms";
        } else if constexpr (std::is_same_v<T, timer_fired>) {
          out << " #" << e.timer_id;
        } else if constexpr (std::is_same_v<T, sub_orchestration_created>) {
          out << " #" << e.task_id << " " << e.name << " " << e.instance_id << " " << clip(e.input);
        } else if constexpr (std::is_same_v<T, event_raised>) {
          out << " " << e.name << " " << clip(e.input);
        } else if constexpr (std::is_same_v<T, event_sent>) {
          out << " #" << e.task_id << " to " << e.instance_id << " " << e.name << " " << clip(e.input);
        }
      },
      p);
  return out.str();
}

struct canonical_execution {
  std::vector<event_payload> start, actions, inputs, ends;
};

canonical_execution canonical(const history& h, const canonical_names& names) {
  canonical_execution c;
  time_point episode_time{};
  for (const auto& e : h) {
    if (std::holds_alternative<events::episode_started>(e.payload)) episode_time = e.timestamp;
    const part where = part_of(e.payload);
    if (where == part::skipped) continue;
    auto p = normalized(e.payload, names, episode_time);
    switch (where) {
      case part::start: c.start.push_back(std::move(p)); break;
      case part::action: c.actions.push_back(std::move(p)); break;
      case part::input: c.inputs.push_back(std::move(p)); break;
      case part::end: c.ends.push_back(std::move(p)); break;
      case part::skipped: break;
    }
  }
  return c;
}

// ---- the comparison ----------------------------------------------------------------------------

struct figures {
  uint64_t instances = 0, events = 0;  // compared on both sides
};

struct divergence {
  std::string instance;  // canonical name
  std::string what;
  std::string tester, node;
};

std::string describe_all(const std::vector<event_payload>& events) {
  std::string out;
  for (const auto& e : events) out += (out.empty() ? "" : "; ") + describe(e);
  return out.empty() ? "(none)" : out;
}

void compare_ordered(const std::string& instance, const std::string& what, const std::vector<event_payload>& t,
                     const std::vector<event_payload>& n, std::vector<divergence>& out) {
  for (size_t i = 0; i < std::max(t.size(), n.size()); ++i) {
    if (i < t.size() && i < n.size() && t[i] == n[i]) continue;
    out.push_back(divergence{instance, what + " #" + std::to_string(i),
                             i < t.size() ? describe(t[i]) : "(none)", i < n.size() ? describe(n[i]) : "(none)"});
    return;
  }
}

void compare_multisets(const std::string& instance, const std::string& what, const std::vector<event_payload>& t,
                       std::vector<event_payload> n, std::vector<divergence>& out) {
  std::vector<event_payload> only_tester;
  for (const auto& e : t) {
    auto it = std::find(n.begin(), n.end(), e);
    if (it == n.end())
      only_tester.push_back(e);
    else
      n.erase(it);
  }
  if (!only_tester.empty() || !n.empty())
    out.push_back(divergence{instance, what, describe_all(only_tester), describe_all(n)});
}

std::string describe_record(const seen_instance& s, const canonical_names& names) {
  return std::string(to_string(s.status)) + " output " + clip(names.rewrite(s.output)) + " failure " +
         (s.failure ? describe(names.rewrite(*s.failure)) : "(none)") + " custom status " + s.custom_status;
}

std::vector<divergence> compare(const seen_run& tester, const seen_run& node, const instance_plan& plan,
                                figures& counted) {
  std::vector<divergence> out;
  if (!tester.failure.empty() || !node.failure.empty()) {
    out.push_back(divergence{"root", "run", tester.failure.empty() ? "ran" : tester.failure,
                             node.failure.empty() ? "ran" : node.failure});
    return out;
  }
  const canonical_names tn(tester, plan.id, canonical_names::execution_order::history_position);
  const canonical_names nn(node, plan.id, canonical_names::execution_order::child_creation_time);
  std::map<std::string, std::pair<const seen_instance*, const seen_instance*>> by_name;
  for (const auto& [id, name] : tn.names()) by_name[name].first = &tester.instances.at(id);
  for (const auto& [id, name] : nn.names()) by_name[name].second = &node.instances.at(id);
  for (const auto& [name, pair] : by_name) {
    const auto [t, n] = pair;
    if (!t || !n) {
      out.push_back(divergence{name, "instance", t ? describe_record(*t, tn) : "(absent)",
                               n ? describe_record(*n, nn) : "(absent)"});
      continue;
    }
    auto field = [&](const std::string& what, const std::string& a, const std::string& b) {
      if (a != b) out.push_back(divergence{name, "record " + what, a, b});
    };
    ++counted.instances;
    field("status", to_string(t->status), to_string(n->status));
    field("output", tn.rewrite(t->output), nn.rewrite(n->output));
    const auto tf = t->failure ? std::optional(tn.rewrite(*t->failure)) : std::nullopt;
    const auto nf = n->failure ? std::optional(nn.rewrite(*n->failure)) : std::nullopt;
    if (tf != nf) field("failure", tf ? describe(*tf) : "(none)", nf ? describe(*nf) : "(none)");
    field("custom status", t->custom_status, n->custom_status);
    const size_t shared = std::min(t->executions.size(), n->executions.size());
    for (size_t k = 0; k < shared; ++k) {
      const auto& th = t->executions[t->executions.size() - 1 - k];
      const auto& nh = n->executions[n->executions.size() - 1 - k];
      const auto tc = canonical(th, tn);
      const auto nc = canonical(nh, nn);
      counted.events += tc.start.size() + tc.actions.size() + tc.inputs.size() + tc.ends.size();
      const std::string execution = k == 0 ? "current execution" : std::to_string(k) + " before the current";
      compare_ordered(name, "history start (" + execution + ")", tc.start, nc.start, out);
      compare_ordered(name, "history actions (" + execution + ")", tc.actions, nc.actions, out);
      compare_multisets(name, "history inputs (" + execution + ")", tc.inputs, nc.inputs, out);
      compare_ordered(name, "history ends (" + execution + ")", tc.ends, nc.ends, out);
    }
  }
  // Below an instance whose status differs (one side waits forever, say), whatever it would have
  // started later is absent on one side: that follows from the status and says nothing more.
  std::set<std::string> cut;
  for (const auto& d : out)
    if (d.what == "record status" || d.what == "instance") cut.insert(d.instance);
  auto below_cut = [&](const std::string& name) {
    for (size_t slash = name.rfind('/'); slash != std::string::npos && slash > 0; slash = name.rfind('/', slash - 1))
      if (cut.contains(name.substr(0, slash))) return true;
    return false;
  };
  std::erase_if(out, [&](const divergence& d) { return d.what == "instance" && below_cut(d.instance); });
  return out;
}

// A divergence without what differs from program to program (numbers, long payloads), so that
// the summary counts one kind of divergence once.
std::string signature(const divergence& d) {
  auto squash = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      const bool digit = c >= '0' && c <= '9';
      if (!digit || out.empty() || out.back() != 'N') out += digit ? 'N' : c;
      if (out.size() >= 90) break;
    }
    return out;
  };
  return d.what.substr(0, d.what.find(" #")) + ": tester " + squash(d.tester) + " | node " + squash(d.node);
}

// Whether a side's root ended as the oracle says (torture::expected): where the runtimes differ,
// it tells which one keeps to the programming model.
bool as_oracle_says(const seen_run& run, const instance_plan& plan) {
  auto root = run.instances.find(plan.id);
  if (!run.failure.empty() || root == run.instances.end()) return false;
  const auto expected = torture::expected(plan.id, plan.program);
  const seen_instance& r = root->second;
  if (r.status != expected.status) return false;
  if (r.status == runtime_status::failed) return r.failure && r.failure->message == expected.failure_message;
  return json::accept(r.output) && json::parse(r.output) == expected.output;
}

struct run_settings {
  uint64_t seed;
  uint64_t programs;
  std::optional<uint64_t> only;
};

void run_differential(const run_settings& settings) {
  registry functions;
  torture::register_functions(functions, torture::flaky_key::root_id);

  std::vector<node_driven> plans;
  for (uint64_t i = 0; i < settings.programs; ++i)
    if (!settings.only || *settings.only == i) {
      plans.emplace_back();
      plans.back().plan = torture::generate(settings.seed, static_cast<int>(i), program_options(i));
    }

  const auto begin = std::chrono::steady_clock::now();
  std::vector<seen_run> in_tester;
  for (const auto& d : plans) in_tester.push_back(run_in_tester(functions, d.plan));
  const auto tester_done = std::chrono::steady_clock::now();

  temp_dir dir;
  host node;
  torture::register_functions(node.functions(), torture::flaky_key::root_id);
  node.start(testing_support::test_node_options(dir.path()));
  for (const auto& d : plans)
    node.client().start(torture::orchestration_name, torture::start_input(d.plan.program).dump(),
                        start_options{d.plan.id});
  outside_actions done;
  drive_node(node.client(), plans, done);
  const auto records = all_records(node.client());
  std::vector<seen_run> on_node;
  for (const auto& d : plans) on_node.push_back(seen_on_node(node.client(), records, d.plan));
  node.stop();
  const auto node_done = std::chrono::steady_clock::now();

  std::map<std::string, std::pair<size_t, std::string>> classes;  // signature -> (count, first example)
  size_t diverging = 0;
  figures counted;
  for (size_t p = 0; p < plans.size(); ++p) {
    const auto& plan = plans[p].plan;
    const auto found = compare(in_tester[p], on_node[p], plan, counted);
    if (found.empty()) continue;
    ++diverging;
    std::cout << "DIVERGENCE seed " << settings.seed << " program " << plan.id.substr(plan.id.find('-') + 1) << " ("
              << plan.id << "): " << plan.program.dump() << "\n";
    auto verdict = [&](const seen_run& run) { return as_oracle_says(run, plan) ? "agrees" : "differs"; };
    std::cout << "  root against the oracle: the tester " << verdict(in_tester[p]) << ", the node "
              << verdict(on_node[p]) << "\n";
    constexpr size_t shown = 12;
    if (found.size() > shown) std::cout << "  (the first " << shown << " of " << found.size() << ")\n";
    for (size_t i = 0; i < found.size(); ++i) {
      const auto& d = found[i];
      if (i < shown)
        std::cout << "  " << d.instance << ": " << d.what << "\n    tester: " << d.tester << "\n    node:   " << d.node
                  << "\n";
      auto& c = classes[signature(d)];
      if (c.first++ == 0) c.second = plan.id + " " + d.instance;
    }
  }
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "differential: seed " << settings.seed << ", " << plans.size() << " programs, "
            << ms(tester_done - begin) << " ms in the tester, " << ms(node_done - tester_done) << " ms on the node; "
            << counted.instances << " instances and " << counted.events
            << " history events compared; the node's driver raised " << done.events << " events, suspended "
            << done.suspends << " and terminated " << done.terminations << " instances; " << diverging
            << " programs diverge" << std::endl;
  for (const auto& [what, c] : classes)
    std::cout << "  " << c.first << " x " << what << "\n      first: " << c.second << "\n";
  std::cout << std::flush;
  CHECK_MESSAGE(diverging == 0, "replay one with PERDURE_DIFF_SEED=" << settings.seed << " PERDURE_DIFF_PROGRAM=<i>");
}

}  // namespace

TEST_CASE("differential: the tester and a real node give the same records and histories") {
  const uint64_t seed = env_or("PERDURE_DIFF_SEED", std::random_device{}());
  const uint64_t programs = env_or("PERDURE_DIFF_PROGRAMS", 100);
  std::optional<uint64_t> only;
  if (std::getenv("PERDURE_DIFF_PROGRAM")) only = env_or("PERDURE_DIFF_PROGRAM", 0);
  const std::string which = only ? "program " + std::to_string(*only) : std::to_string(programs) + " programs";
  std::cout << "differential: seed " << seed << ", " << which << std::endl;
  run_differential(run_settings{seed, only ? std::max(programs, *only + 1) : programs, only});
}
