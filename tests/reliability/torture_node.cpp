// The torture test's node and driver, one real process.
//
//   torture_node run DIR SEED N          starts instances 0..N-1 of the seed (idempotently), then
//                                        drives them (events, suspend/resume, terminate) until killed
//   torture_node show DIR ID             prints one instance's record and history (diagnosis)
//   torture_node verify DIR SEED N [S]   the same until every instance is finished (at most S
//                                        seconds), then checks them against the oracle; prints
//                                        "FIGURES ...", "PROBLEM ..." lines, and "VERIFIED n" (exit 0)
//
// Lines on stdout: "UP" once the node runs, "STARTED n" once every instance exists.
// Everything the driver does is safe to repeat after a kill: it starts only instances that do not
// exist, and raises an event only when the current execution's history does not hold it yet.
#include "torture_checks.hpp"
#include "torture_program.hpp"

#include <perdure/host.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using torture::json;

namespace {

constexpr int start_threads = 4;

struct driven {
  torture::instance_plan plan;
  bool finished = false;
  bool suspended_once = false;
  int events_raised_round = -1;
};

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 4;
  options.activity_workers = 8;
  options.scheduler_threads = 2;
  options.log_level = "error";
  return options;
}

void start_all(client& c, std::vector<driven>& all) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < start_threads; ++t)
    threads.emplace_back([&] {
      for (size_t i = next++; i < all.size(); i = next++) {
        const auto& plan = all[i].plan;
        if (c.status(plan.id)) continue;  // a finished instance must not be started again
        c.start(torture::orchestration_name, torture::start_input(plan.program).dump(),
                start_options{plan.id, if_running::return_existing});
      }
    });
  for (auto& t : threads) t.join();
}

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
    const std::string name = torture::event_name(i, round);
    for (int j = 0, n = steps[i].at("n").get<int>(); j < n; ++j) {
      const std::string payload = json(torture::event_payload(d.plan.id, name, j)).dump();
      if (!raised.count(name + "=" + payload)) c.raise_event(d.plan.id, name, payload);
    }
  }
  d.events_raised_round = round;
}

// One pass over the unfinished instances; returns how many are still unfinished.
size_t drive(client& c, std::vector<driven>& all, int pass) {
  size_t unfinished = 0;
  for (auto& d : all) {
    if (d.finished) continue;
    auto record = c.status(d.plan.id);
    if (!record) continue;
    if (is_terminal(record->status)) {
      d.finished = true;
      continue;
    }
    ++unfinished;
    const auto& program = d.plan.program;
    if (program.at("tail") == "forever" && pass >= d.plan.terminate_pass) {
      c.terminate(d.plan.id, torture::terminate_reason);
      continue;
    }
    if (d.plan.suspend && !d.suspended_once) {
      c.suspend(d.plan.id, "torture");
      d.suspended_once = true;
      continue;
    }
    if (record->status == runtime_status::suspended) c.resume(d.plan.id, "torture");
    if (pass < d.plan.event_pass || !has_events(program) || record->input.empty()) continue;
    const int round = json::parse(record->input).at("r").get<int>();
    if (d.events_raised_round != round) raise_missing_events(c, d, round);
  }
  return unfinished;
}

// What an unfinished instance is doing, for the report.
std::string describe(client& c, const torture::instance_plan& plan) {
  auto record = c.status(plan.id);
  if (!record) return "no record";
  std::string text = std::string("status ") + to_string(record->status) + ", input " + record->input;
  if (record->failure) text += ", failure " + record->failure->error_type + ": " + record->failure->message;
  text += ", history:";
  for (const auto& e : c.history(plan.id)) {
    text += std::string(" ") + event_kind_name(e.payload);
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) text += "#" + std::to_string(s->task_id);
    if (auto* s = std::get_if<events::task_completed>(&e.payload)) text += "#" + std::to_string(s->task_id);
    if (auto* s = std::get_if<events::task_failed>(&e.payload)) text += "#" + std::to_string(s->task_id);
    if (auto* s = std::get_if<events::timer_created>(&e.payload)) text += "#" + std::to_string(s->timer_id);
    if (auto* s = std::get_if<events::timer_fired>(&e.payload)) text += "#" + std::to_string(s->timer_id);
    if (auto* s = std::get_if<events::sub_orchestration_created>(&e.payload)) text += "#" + std::to_string(s->task_id) + "(" + s->instance_id + ")";
    if (auto* s = std::get_if<events::sub_orchestration_completed>(&e.payload)) text += "#" + std::to_string(s->task_id);
    if (auto* s = std::get_if<events::sub_orchestration_failed>(&e.payload)) text += "#" + std::to_string(s->task_id);
    if (auto* s = std::get_if<events::event_raised>(&e.payload)) text += "(" + s->name + "=" + s->input + ")";
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "show") {
    host h;
    torture::register_functions(h.functions());
    h.start(options_for(argv[2]));
    torture::instance_plan plan;
    plan.id = argv[3];
    std::cout << describe(h.client(), plan) << std::endl;
    h.stop();
    return 0;
  }
  if (argc < 5) {
    std::cerr << "usage: torture_node run|verify DIR SEED N [TIMEOUT_S]\n";
    return 2;
  }
  const std::string mode = argv[1];
  const uint64_t seed = std::stoull(argv[3]);
  const int n = std::stoi(argv[4]);
  const auto timeout = std::chrono::seconds(argc > 5 ? std::stoi(argv[5]) : 300);

  host h;
  torture::register_functions(h.functions());
  h.start(options_for(argv[2]));
  std::cout << "UP" << std::endl;
  auto& c = h.client();

  std::vector<driven> all;
  for (int i = 0; i < n; ++i) all.push_back(driven{torture::generate(seed, i)});
  start_all(c, all);
  std::cout << "STARTED " << n << std::endl;

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t unfinished = all.size();
  for (int pass = 0; unfinished > 0; ++pass) {
    unfinished = drive(c, all, pass);
    if (mode == "verify" && std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(50ms);
  }
  if (mode == "run") {  // all done before the kill: stay up until it comes
    std::cout << "DONE" << std::endl;
    for (;;) std::this_thread::sleep_for(1s);
  }

  torture::figures figures;
  for (const auto& d : all) {
    if (d.finished)
      torture::check_instance(c, h.functions(), d.plan, figures);
    else
      figures.problems.push_back(d.plan.id + ": not finished after " + std::to_string(timeout.count()) + " s; " +
                                 describe(c, d.plan));
  }
  h.stop();
  std::cout << "FIGURES instances=" << figures.instances << " sub_instances=" << figures.sub_instances
            << " tasks=" << figures.tasks << " timers=" << figures.timers << " events=" << figures.events
            << " replays=" << figures.replays << " completed=" << figures.completed << " failed=" << figures.failed
            << " terminated=" << figures.terminated << std::endl;
  for (const auto& p : figures.problems) std::cout << "PROBLEM " << p << std::endl;
  if (!figures.problems.empty()) return 1;
  std::cout << "VERIFIED " << n << std::endl;
  return 0;
}
