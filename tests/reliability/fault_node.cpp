// A node process for the fault tests that need a real restart.
//
//   fault_node activity-crash DIR SIDE_FILE   runs instance "crash-1": one slow activity that
//       appends a line to SIDE_FILE each time it starts; waits for the result and prints
//       "DONE <output> <results in history>" (a kill -9 while the activity runs is the test's job)
//   fault_node flow DIR v1|v2 start|event|resume
//       "Flow" v1 calls activity A, waits for event "go", calls B; v2 (the changed code) calls C
//       first. start: starts "nd-1" and stops once it waits for the event ("WAITING");
//       event: raises "go" and prints the record once it is stalled ("STALLED <type>|<message>");
//       resume: sends resume and waits: "DONE <output> <go events in history> <replay status>"
#include <perdure/host.hpp>
#include <perdure/replay.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

std::string side_file;

void append_line(const std::string& line) {
  // O_APPEND + fsync: the line survives the kill -9 that follows.
  const int fd = ::open(side_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + side_file);
  const std::string text = line + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) throw std::runtime_error("cannot write " + side_file);
}

int slow(activity_context& ctx, int x) {
  append_line("run " + ctx.instance_id() + " " + std::to_string(ctx.task_id()));
  std::this_thread::sleep_for(1500ms);
  return x * 2;
}

task<int> crashy(orchestration_context& ctx, int x) { co_return co_await ctx.call_activity<int>("Slow", x); }

task<std::string> flow_v1(orchestration_context& ctx) {
  const int a = co_await ctx.call_activity<int>("A", 1);
  const std::string go = co_await ctx.wait_for_event<std::string>("go");
  const int b = co_await ctx.call_activity<int>("B", a);
  co_return go + ":" + std::to_string(b);
}

task<std::string> flow_v2(orchestration_context& ctx) {
  const int c = co_await ctx.call_activity<int>("C", 1);
  const std::string go = co_await ctx.wait_for_event<std::string>("go");
  co_return go + ":" + std::to_string(c);
}

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 2;
  options.activity_workers = 2;
  options.scheduler_threads = 2;
  options.log_level = "off";
  return options;
}

size_t count_kind(const history& events, size_t kind_index, std::string_view name = {}) {
  size_t n = 0;
  for (const auto& e : events) {
    if (e.payload.index() != kind_index) continue;
    auto* raised = std::get_if<events::event_raised>(&e.payload);
    if (name.empty() || (raised && raised->name == name)) ++n;
  }
  return n;
}

template <class Event>
constexpr size_t kind_of() {
  return event_payload(Event{}).index();
}

int activity_crash(const std::string& dir) {
  host h;
  h.add_activity("Slow", slow);
  h.add_orchestration("Crashy", crashy);
  h.start(options_for(dir));
  auto& c = h.client();
  if (!c.status("crash-1")) c.start("Crashy", "21", {"crash-1"});
  std::cout << "UP" << std::endl;
  auto record = c.wait_for_completion("crash-1", 60s);
  std::cout << "DONE " << record.output << " " << count_kind(c.history("crash-1"), kind_of<events::task_completed>())
            << std::endl;
  h.stop();
  return 0;
}

int flow(const std::string& dir, const std::string& version, const std::string& step) {
  host h;
  h.add_activity("A", [](activity_context&, int x) { return x + 1; });
  h.add_activity("B", [](activity_context&, int x) { return x * 10; });
  h.add_activity("C", [](activity_context&, int x) { return x + 100; });
  if (version == "v1")
    h.add_orchestration("Flow", flow_v1);
  else
    h.add_orchestration("Flow", flow_v2);
  h.start(options_for(dir));
  auto& c = h.client();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto until = [&](auto done) {
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  };
  int code = 0;
  if (step == "start") {
    c.start("Flow", "", {"nd-1"});
    until([&] { return count_kind(c.history("nd-1"), kind_of<events::task_completed>()) == 1; });
    std::cout << "WAITING" << std::endl;
  } else if (step == "event") {
    c.raise_event("nd-1", "go", "\"go\"");
    until([&] { return c.status("nd-1")->failure.has_value(); });
    auto record = *c.status("nd-1");
    std::cout << "STALLED " << to_string(record.status) << "|" << (record.failure ? record.failure->error_type : "")
              << "|" << (record.failure ? record.failure->message : "") << std::endl;
  } else {
    c.resume("nd-1", "fixed");
    auto record = c.wait_for_completion("nd-1", 30s);
    const auto events = c.history("nd-1");
    std::cout << "DONE " << record.output << " " << count_kind(events, kind_of<events::event_raised>(), "go") << " "
              << to_string(replay(events, h.functions()).status) << std::endl;
  }
  h.stop();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "activity-crash" && argc == 4) {
    side_file = argv[3];
    return activity_crash(argv[2]);
  }
  if (mode == "flow" && argc == 5) return flow(argv[2], argv[3], argv[4]);
  std::cerr << "usage: fault_node activity-crash DIR SIDE_FILE | flow DIR v1|v2 start|event|resume\n";
  return 2;
}
