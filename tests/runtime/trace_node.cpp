// A node process for the trace test: a node with the node flags (--otlp-endpoint, --log-format,
// --data, ...), its management API on a free port (it prints "PORT <port>"), serving until
// killed.
//
// "Parent" calls the activity "Work", waits on a timer of 200 ms, calls the sub-orchestration
// "Child" (which calls "Work" once more), sets its custom status to "waiting", waits for the event
// "finish", calls "Work" a last time and returns what the activities saw as their traceparents.
// "Work" returns its activity_context::traceparent().
//
// "Sender" sends the event "ping" to the instance its input names, signals "add" 1 to the entity
// Counter "shared", calls "add" 10 on it and returns the call's result; "Receiver" waits for "ping".
// The entity "Counter": "add" adds its input to its state and returns it; "relay" signals "add"
// with its input to Counter "relayed" (an entity's own signal).
#include <perdure/entity.hpp>
#include <perdure/host.hpp>
#include <perdure/node_flags.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

std::string work(activity_context& ctx, std::string) { return ctx.traceparent(); }

task<std::string> child(orchestration_context& ctx, std::string) {
  co_return co_await ctx.call_activity<std::string>("Work", std::string{"child"});
}

task<std::vector<std::string>> parent(orchestration_context& ctx, std::string) {
  ctx.log("parent begins");
  std::vector<std::string> seen;
  seen.push_back(co_await ctx.call_activity<std::string>("Work", std::string{"first"}));
  co_await ctx.create_timer(200ms);
  seen.push_back(co_await ctx.call_sub_orchestration<std::string>("Child", std::string{}, ctx.instance_id() + "-child"));
  ctx.set_custom_status(std::string{"waiting"});
  co_await ctx.wait_for_event<int>("finish");
  seen.push_back(co_await ctx.call_activity<std::string>("Work", std::string{"last"}));
  co_return seen;
}

task<int> receiver(orchestration_context& ctx, std::string) { co_return co_await ctx.wait_for_event<int>("ping"); }

task<int> sender(orchestration_context& ctx, std::string receiver_id) {
  ctx.send_event(receiver_id, "ping", 7);
  ctx.signal_entity(entity_id{"Counter", "shared"}, "add", 1);
  co_return co_await ctx.call_entity<int>(entity_id{"Counter", "shared"}, "add", 10);
}

void counter(entity_context& ctx) {
  if (ctx.operation() == "relay") {
    ctx.signal_entity(entity_id{"Counter", "relayed"}, "add", ctx.input<int>());
    return;
  }
  if (ctx.operation() != "add") throw std::invalid_argument("Counter has no operation '" + ctx.operation() + "'");
  ctx.set_state(ctx.state<int>(0) + ctx.input<int>());
  ctx.return_value(ctx.state<int>());
}

}  // namespace

int main(int argc, char** argv) {
  node_options defaults;
  defaults.partitions = 2;
  defaults.activity_workers = 2;
  defaults.http_port = 0;
  node_flags flags{defaults};
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  host h;
  h.add_activity("Work", work);
  h.add_orchestration("Child", child);
  h.add_orchestration("Parent", parent);
  h.add_orchestration("Receiver", receiver);
  h.add_orchestration("Sender", sender);
  h.add_entity("Counter", counter);
  h.start(flags.options());
  std::cout << "PORT " << h.http_port() << std::endl;
  for (;;) std::this_thread::sleep_for(1s);
}
