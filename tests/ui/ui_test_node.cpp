// The node the web view's browser test drives (tests/ui/ui_test.mjs): orchestrations that give
// every part of the page something to show: a fan-out, a history of thousands of events, a
// failure, a retried activity, a timer, a sub-orchestration, event waits, one instance whose
// code changes under it (non-determinism), and two versions of "Order", whose "Charge" has a bug
// until the second deploy (an instance to rewind).
//
//   ui_test_node DATA_DIR [--drift] [--api-token-file FILE]
//   prints "HTTP_PORT <n>" once serving; SIGTERM stops it.
//   --drift: the second deploy: "Drifting" calls another activity than it did before, as a code
//            change would, and "Charge" is fixed.
//   --api-token-file: the API's bearer tokens (docs/security.md).
#include <perdure/combinators.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/retry_policy.hpp>
#include <perdure/task.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

bool drifted = false;

std::string greet(perdure::activity_context&, std::string name) { return "Hello, " + name; }

int square(perdure::activity_context&, int n) { return n * n; }

int boom(perdure::activity_context&, int) { throw std::runtime_error("the card was declined"); }

std::string charge(perdure::activity_context&, std::string who) {
  if (!drifted) throw std::runtime_error("the card service rejects every card (a bug fixed in the next deploy)");
  return "charged " + who;
}

// Fails its first two attempts: a retried call.
std::string flaky(perdure::activity_context& ctx, std::string name) {
  if (ctx.attempt() < 3) throw std::runtime_error("service unavailable (attempt " + std::to_string(ctx.attempt()) + ")");
  return "reached " + name;
}

perdure::task<std::string> chain(perdure::orchestration_context& ctx, std::string who) {
  auto first = co_await ctx.call_activity<std::string>("Greet", who);
  co_return co_await ctx.call_activity<std::string>("Greet", first);
}

// n calls at once.
perdure::task<int> fan_out(perdure::orchestration_context& ctx, int n) {
  std::vector<perdure::task<int>> calls;
  for (int i = 0; i < n; ++i) calls.push_back(ctx.call_activity<int>("Square", i));
  int sum = 0;
  for (int v : co_await perdure::when_all(std::move(calls))) sum += v;
  co_return sum;
}

// `calls` activities in rounds of 500: a long history (about two events a call).
perdure::task<int> rounds(perdure::orchestration_context& ctx, int calls) {
  int done = 0;
  while (done < calls) {
    const int width = std::min(500, calls - done);
    std::vector<perdure::task<int>> round;
    for (int i = 0; i < width; ++i) round.push_back(ctx.call_activity<int>("Square", done + i));
    co_await perdure::when_all(std::move(round));
    done += width;
  }
  co_return done;
}

perdure::task<int> fail(perdure::orchestration_context& ctx) { co_return co_await ctx.call_activity<int>("Boom", 1); }

// A bit of everything, in order: a sub-orchestration, a retried call, a timer, an event.
perdure::task<std::string> showcase(perdure::orchestration_context& ctx, std::string who) {
  ctx.set_custom_status(nlohmann::json{{"stage", "greeting"}});
  auto greeting = co_await ctx.call_sub_orchestration<std::string>("Chain", who, "showcase-child");
  perdure::retry_policy retry;
  retry.max_attempts = 4;
  retry.first_interval = std::chrono::milliseconds(40);
  ctx.set_custom_status(nlohmann::json{{"stage", "calling a flaky service"}});
  auto reached = co_await ctx.call_activity<std::string>("Flaky", who, retry);
  co_await ctx.create_timer(std::chrono::milliseconds(60));
  ctx.set_custom_status(nlohmann::json{{"stage", "waiting for approval"}});
  const bool approved = co_await ctx.wait_for_event<bool>("Approval");
  co_return greeting + "; " + reached + (approved ? "; approved" : "; rejected");
}

perdure::task<std::string> wait_for_approval(perdure::orchestration_context& ctx) {
  const bool approved = co_await ctx.wait_for_event<bool>("Approval");
  co_return approved ? "approved" : "rejected";
}

perdure::task<std::string> order_v1(perdure::orchestration_context& ctx, std::string who) {
  co_return co_await ctx.call_activity<std::string>("Greet", who);
}

// Version 2: a patch (a text message first, recorded in the history) and a charge.
perdure::task<std::string> order_v2(perdure::orchestration_context& ctx, std::string who) {
  if (ctx.is_patched("send-sms")) co_await ctx.call_activity<std::string>("Greet", "sms to " + who);
  co_return co_await ctx.call_activity<std::string>("Charge", who);
}

// Calls Greet, or Square once the node runs with --drift: a replay then no longer matches.
perdure::task<std::string> drifting(perdure::orchestration_context& ctx) {
  if (drifted) {
    co_await ctx.call_activity<int>("Square", 2);
  } else {
    co_await ctx.call_activity<std::string>("Greet", std::string("drift"));
  }
  co_await ctx.wait_for_event<int>("Go");
  co_return "done";
}

}  // namespace

int main(int argc, char** argv) {
  std::string token_file;
  bool usage_ok = argc >= 2;
  for (int i = 2; i < argc && usage_ok; ++i) {
    const std::string arg = argv[i];
    if (arg == "--drift") {
      drifted = true;
    } else if (arg == "--api-token-file" && i + 1 < argc) {
      token_file = argv[++i];
    } else {
      usage_ok = false;
    }
  }
  if (!usage_ok) {
    std::cerr << "usage: ui_test_node DATA_DIR [--drift] [--api-token-file FILE]\n";
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  perdure::host host;
  host.add_activity("Greet", greet);
  host.add_activity("Square", square);
  host.add_activity("Boom", boom);
  host.add_activity("Flaky", flaky);
  host.add_activity("Charge", charge);
  host.add_orchestration("Chain", chain);
  host.add_orchestration("FanOut", fan_out);
  host.add_orchestration("Rounds", rounds);
  host.add_orchestration("Fail", fail);
  host.add_orchestration("Showcase", showcase);
  host.add_orchestration("WaitForApproval", wait_for_approval);
  host.add_orchestration("Drifting", drifting);
  host.add_orchestration("Order", order_v1, {.version = 1});
  host.add_orchestration("Order", order_v2, {.version = 2});

  perdure::node_options options;
  options.data_dir = argv[1];
  options.partitions = 4;
  options.activity_workers = 2;
  options.scheduler_threads = 2;
  options.sync = false;  // the test needs no power-loss durability
  options.log_level = "warn";
  options.http_port = 0;
  options.api_token_file = token_file;
  try {
    host.start(options);
  } catch (const std::exception& e) {
    std::cerr << "ui_test_node: " << e.what() << "\n";
    return 1;
  }
  std::cout << "HTTP_PORT " << host.http_port() << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  host.stop();
  return 0;
}
