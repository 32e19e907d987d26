// The node the CLI and HTTP API tests drive: a few orchestrations covering every status and a
// Counter entity, started with its management API on a free port of 127.0.0.1.
//
//   cli_test_node DATA_DIR [NODE FLAGS...]   prints "HTTP_PORT <n>" once serving; SIGTERM stops it.
//   NODE FLAGS: perdure::node_flags (e.g. --http-max-waiters, --api-token-file, --api-tls-cert) over
//   the test's defaults.
#include <perdure/entity.hpp>
#include <perdure/host.hpp>
#include <perdure/node_flags.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string greet(perdure::activity_context&, std::string name) { return "Hello, " + name; }

int boom(perdure::activity_context&, int) { throw std::runtime_error("boom"); }

// Records progress, then fails: its failure carries the progress.
int beat_then_boom(perdure::activity_context& ctx, int) {
  ctx.heartbeat(nlohmann::json{{"step", 1}});
  throw std::runtime_error("boom after a heartbeat");
}

// Chaining: three activities, each fed the previous output.
perdure::task<std::string> chain(perdure::orchestration_context& ctx, std::string who) {
  auto first = co_await ctx.call_activity<std::string>("Greet", who);
  auto second = co_await ctx.call_activity<std::string>("Greet", first);
  co_return co_await ctx.call_activity<std::string>("Greet", second);
}

perdure::task<std::string> wait_for_approval(perdure::orchestration_context& ctx) {
  const bool approved = co_await ctx.wait_for_event<bool>("Approval");
  co_return approved ? "approved" : "rejected";
}

perdure::task<int> fail(perdure::orchestration_context& ctx) { co_return co_await ctx.call_activity<int>("Boom", 1); }

perdure::task<int> with_status(perdure::orchestration_context& ctx, int n) {
  ctx.set_custom_status(nlohmann::json{{"stage", 1}});
  const int go = co_await ctx.wait_for_event<int>("Go");
  ctx.set_custom_status(nlohmann::json{{"stage", 2}});
  co_return n * go;
}

perdure::activity_options within_an_hour() {
  perdure::activity_options options;
  options.start_to_close_timeout = std::chrono::hours(1);
  options.heartbeat_timeout = std::chrono::minutes(1);
  return options;
}

// One activity call with options, which fails after a heartbeat.
perdure::task<int> beat_then_fail(perdure::orchestration_context& ctx) {
  co_return co_await ctx.call_activity<int>("BeatThenBoom", 1, within_an_hour());
}

perdure::task<std::string> sleep_for(perdure::orchestration_context& ctx, int millis) {
  co_await ctx.create_timer(std::chrono::milliseconds(millis));
  co_return "slept";
}

// An entity for the entity routes: "add" adds its input to the count.
void counter(perdure::entity_context& ctx) {
  if (ctx.operation() != "add") throw std::invalid_argument("Counter has no operation '" + ctx.operation() + "'");
  ctx.set_state(ctx.state<int>(0) + ctx.input<int>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: cli_test_node DATA_DIR [NODE FLAGS...]\n";
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  perdure::host host;
  host.add_activity("Greet", greet);
  host.add_activity("Boom", boom);
  host.add_activity("BeatThenBoom", beat_then_boom);
  host.add_orchestration("Chain", chain);
  host.add_orchestration("WaitForApproval", wait_for_approval);
  host.add_orchestration("Fail", fail);
  host.add_orchestration("BeatThenFail", beat_then_fail);
  host.add_orchestration("WithStatus", with_status);
  host.add_orchestration("Sleep", sleep_for);
  host.add_entity("Counter", counter);

  perdure::node_options defaults;
  defaults.data_dir = argv[1];
  defaults.partitions = 4;
  defaults.activity_workers = 2;
  defaults.scheduler_threads = 2;
  defaults.sync = false;  // tests need no power-loss durability
  defaults.max_payload_bytes = 64 * 1024;  // small, so the tests reach the body limit cheaply
  defaults.log_level = "warn";
  defaults.http_port = 0;
  perdure::node_flags flags{defaults};
  std::vector<const char*> flag_args{argv[0]};
  flag_args.insert(flag_args.end(), argv + 2, argv + argc);
  if (auto exit_code = flags.parse(static_cast<int>(flag_args.size()), flag_args.data())) return *exit_code;
  try {
    host.start(flags.options());
  } catch (const std::exception& e) {
    std::cerr << "cli_test_node: " << e.what() << "\n";
    return 1;
  }
  std::cout << "HTTP_PORT " << host.http_port() << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  host.stop();
  return 0;
}
