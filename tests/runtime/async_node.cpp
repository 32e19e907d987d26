// A node process for the async completion test: activities that complete asynchronously, on a data
// dir that survives a kill -9.
//
//   async_node DIR   starts a node with its management API on a free port, prints "PORT <port>", and
//                    serves until killed
//
// "Approval" calls the activity its input names, then waits for the event "close" and returns what
// the call gave ("failed: <type>: <message>" when it failed). The activities hand their task token
// to the test as an external system would get it: in DIR/<instance id>.token; each run appends a
// line to DIR/<instance id>.runs, so the test counts them.
//   "Ask"       completes asynchronously, with no timeout
//   "AskBriefly" completes asynchronously, with a start-to-close timeout of 1 s and no retry
//   "AskWithHeartbeat" completes asynchronously, with a heartbeat timeout of 2 s and 2 attempts;
//                its runs line is "run <the call's last heartbeat details>"
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

std::filesystem::path data_dir;

std::string ask(activity_context& ctx, std::string) {
  std::ofstream{data_dir / (ctx.instance_id() + ".runs"), std::ios::app} << "run " << ctx.heartbeat_details_json() << "\n";
  const auto token = ctx.complete_asynchronously();
  const auto written = data_dir / (ctx.instance_id() + ".token.part");
  std::ofstream{written} << token;
  std::filesystem::rename(written, data_dir / (ctx.instance_id() + ".token"));  // whole or absent
  return {};
}

activity_options options_for(const std::string& activity) {
  activity_options options;
  if (activity == "AskBriefly") options.start_to_close_timeout = 1s;
  if (activity == "AskWithHeartbeat") {
    options.heartbeat_timeout = 2s;
    retry_policy retry;
    retry.max_attempts = 2;
    retry.first_interval = 100ms;
    options.retry = retry;
  }
  return options;
}

task<std::string> approval(orchestration_context& ctx, std::string activity) {
  std::string outcome;
  try {
    outcome = co_await ctx.call_activity<std::string>(activity, std::string{}, options_for(activity));
  } catch (const task_failed& e) {
    outcome = "failed: " + e.failure().error_type + ": " + e.failure().message;
  }
  co_await ctx.wait_for_event<int>("close");
  co_return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: async_node DIR\n";
    return 2;
  }
  data_dir = argv[1];
  host h;
  h.add_activity("Ask", ask);
  h.add_activity("AskBriefly", ask);
  h.add_activity("AskWithHeartbeat", ask);
  h.add_orchestration("Approval", approval);
  node_options options;
  options.data_dir = data_dir / "hub";
  options.partitions = 2;
  options.activity_workers = 2;
  options.log_level = "error";
  options.http_port = 0;
  h.start(options);
  std::cout << "PORT " << h.http_port() << std::endl;
  for (;;) std::this_thread::sleep_for(1s);
}
