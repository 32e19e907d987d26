// The torture test's node and driver, one real process.
//
//   torture_node run DIR SEED N          starts instances 0..N-1 of the seed (idempotently), then
//                                        drives them (events, suspend/resume, terminate) until killed
//   torture_node show DIR ID             prints one instance's record and history (diagnosis)
//   torture_node verify DIR SEED N [S]   the same until every instance is finished (at most S
//                                        seconds), then checks them against the oracle; prints
//                                        "FIGURES ...", "PROBLEM ..." lines, and "VERIFIED n" (exit 0)
//   torture_node --node-id ... (flags)   a cluster node with the torture functions, nothing else
//                                        (the cluster torture test drives it from outside)
//
// Lines on stdout: "UP" once the node runs, "STARTED n" once every instance exists.
// Everything the driver does is safe to repeat after a kill: it starts only instances that do not
// exist, and raises an event only when the current execution's history does not hold it yet.
#include "torture_checks.hpp"
#include "torture_driver.hpp"

#include <perdure/host.hpp>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <unistd.h>

using namespace perdure;
using namespace perdure::torture;
using namespace std::chrono_literals;

namespace {

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 4;
  options.activity_workers = 8;
  options.scheduler_threads = 2;
  options.log_level = "error";
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]).starts_with("--")) {
    // Diagnosis of a cluster torture run: each node logs to its own file, flushed line by line so
    // a kill -9 loses nothing (its stdout is a pipe the test stops reading once the node is up).
    if (const char* dir = std::getenv("TORTURE_NODE_LOG_DIR")) {
      spdlog::set_default_logger(
          spdlog::basic_logger_mt("node", std::string(dir) + "/node-" + std::to_string(getpid()) + ".log"));
      spdlog::flush_on(spdlog::level::trace);
    }
    host h;
    register_functions(h.functions());
    return h.run(argc, argv);
  }
  if (argc == 4 && std::string(argv[1]) == "show") {
    host h;
    register_functions(h.functions());
    h.start(options_for(argv[2]));
    instance_plan plan;
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
  register_functions(h.functions());
  h.start(options_for(argv[2]));
  std::cout << "UP" << std::endl;
  auto& c = h.client();

  auto all = plan_run(seed, n);
  try {
    if (const auto not_started = start_all(c, all); not_started > 0) {
      std::cerr << not_started << " instances could not be started on the embedded node" << std::endl;
      return 1;
    }
  } catch (const timeout_error& e) {
    std::cerr << "the embedded node did not answer a start: " << e.what() << std::endl;
    return 1;
  }
  std::cout << "STARTED " << n << std::endl;

  tolerated_errors client_errors;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t unfinished = all.size();
  for (int pass = 0; unfinished > 0; ++pass) {
    unfinished = drive(c, all, pass, client_errors);
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
      check_instance(c, h.functions(), d.plan, figures);
    else
      figures.problems.push_back(d.plan.id + ": not finished after " + std::to_string(timeout.count()) + " s; " +
                                 describe(c, d.plan));
  }
  h.stop();
  std::cout << "FIGURES instances=" << figures.instances << " sub_instances=" << figures.sub_instances
            << " tasks=" << figures.tasks << " timers=" << figures.timers << " events=" << figures.events
            << " replays=" << figures.replays << " completed=" << figures.completed << " failed=" << figures.failed
            << " terminated=" << figures.terminated << " client_errors=" << client_errors.count.load() << std::endl;
  for (const auto& p : figures.problems) std::cout << "PROBLEM " << p << std::endl;
  if (!figures.problems.empty()) return 1;
  std::cout << "VERIFIED " << n << std::endl;
  return 0;
}
