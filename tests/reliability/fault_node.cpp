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
//   fault_node load DIR THREADS INPUT_BYTES
//       a node (4 partitions, HTTP on a free port: "UP <port>") and THREADS clients that start
//       "Hold" instances with incompressible inputs and raise "go" on each one's previous instance.
//       Prints "ACK <id>" once a start returned, "EVENT <id>" once a raise did, "REFUSED <id> <error>"
//       when one failed; a client stops after 3 refusals, and "FULL" follows once all stopped. Runs
//       until killed; SIGTERM stops the node ("STOPPED") and exits 0.
//   fault_node finish DIR LINES_FILE
//       restarts on DIR; every id of an ACK line in LINES_FILE must exist ("MISSING <id>" if not) and
//       every id of an EVENT line must hold its "go" event ("LOST_EVENT <id>"); raises "go" where it
//       is missing and waits for all: "DONE <completed> <missing> <lost events>"
//   fault_node serve DIR [NODE FLAGS]
//       host::run on DIR as a node program does (its stderr on stdout): the exit code and message
//       of a node that cannot open its data dir
#include <perdure/host.hpp>
#include <perdure/replay.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
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

task<std::string> hold(orchestration_context& ctx, std::string input) {
  const std::string go = co_await ctx.wait_for_event<std::string>("go");
  const size_t length = co_await ctx.call_activity<size_t>("Length", input);
  co_return go + ":" + std::to_string(length);
}

void register_hold(host& h) {
  h.add_orchestration("Hold", hold);
  h.add_activity("Length", [](activity_context&, std::string input) { return input.size(); });
}

node_options load_options(const std::string& dir) {
  node_options options = options_for(dir);
  options.partitions = 4;
  return options;
}

std::mutex output_mutex;

void say(const std::string& line) {
  std::lock_guard lock(output_mutex);
  std::cout << line << std::endl;
}

// Random letters and digits: the WAL is compressed (ZSTD), and the load must fill a disk.
std::string incompressible(std::mt19937_64& random, size_t bytes) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string text(bytes, ' ');
  for (auto& c : text) c = alphabet[random() % alphabet.size()];
  return "\"" + text + "\"";
}

void load_client(client& c, int thread, size_t input_bytes) {
  std::mt19937_64 random(static_cast<uint64_t>(thread) * 7919 + 1);
  std::string previous;
  int refusals = 0;
  for (int n = 0; refusals < 3; ++n) {
    const std::string id = "L" + std::to_string(thread) + "-" + std::to_string(n);
    try {
      c.start("Hold", incompressible(random, input_bytes), {id});
      say("ACK " + id);
    } catch (const std::exception& e) {
      ++refusals;
      say("REFUSED " + id + " " + e.what());
      continue;
    }
    if (previous.empty()) {
      previous = id;
      continue;
    }
    try {
      c.raise_event(previous, "go", "\"" + previous + "\"");
      say("EVENT " + previous);
    } catch (const std::exception& e) {
      ++refusals;
      say("REFUSED " + previous + " " + e.what());
    }
    previous = id;
  }
}

int load(const std::string& dir, int threads, size_t input_bytes) {
  sigset_t stop_signal;
  sigemptyset(&stop_signal);
  sigaddset(&stop_signal, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signal, nullptr);  // before any thread starts: they inherit it
  host h;
  register_hold(h);
  auto options = load_options(dir);
  options.http_port = 0;
  h.start(options);
  say("UP " + std::to_string(h.http_port()));
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) clients.emplace_back(load_client, std::ref(h.client()), t, input_bytes);
  for (auto& t : clients) t.join();
  say("FULL");
  int received = 0;
  sigwait(&stop_signal, &received);
  h.stop();
  say("STOPPED");
  return 0;
}

size_t go_events(const history& events) { return count_kind(events, kind_of<events::event_raised>(), "go"); }

int finish(const std::string& dir, const std::string& lines_file) {
  std::set<std::string> started, raised;
  std::ifstream in(lines_file);
  for (std::string kind, id; in >> kind >> id;) (kind == "ACK" ? started : raised).insert(id);
  host h;
  register_hold(h);
  h.start(load_options(dir));
  auto& c = h.client();
  size_t missing = 0, lost_events = 0, completed = 0;
  for (const auto& id : started) {
    if (!c.status(id)) {
      ++missing;
      say("MISSING " + id);
      continue;
    }
    const size_t go = go_events(c.history(id));
    if (go == 0 && raised.count(id)) {
      ++lost_events;
      say("LOST_EVENT " + id);
    }
    if (go == 0) c.raise_event(id, "go", "\"" + id + "\"");
  }
  for (const auto& id : started) {
    if (!c.status(id)) continue;
    const auto record = c.wait_for_completion(id, 60s);
    if (record.status == runtime_status::completed && go_events(c.history(id)) == 1) ++completed;
    else say("UNFINISHED " + id + " " + to_string(record.status));
  }
  say("DONE " + std::to_string(completed) + " " + std::to_string(missing) + " " + std::to_string(lost_events));
  h.stop();
  return 0;
}

int serve(const std::string& dir, const std::vector<std::string>& flags) {
  dup2(STDOUT_FILENO, STDERR_FILENO);
  host h;
  register_hold(h);
  std::vector<std::string> args = {"fault_node", "--data", dir, "--partitions", "4", "--log-level", "off"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return h.run(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "activity-crash" && argc == 4) {
    side_file = argv[3];
    return activity_crash(argv[2]);
  }
  if (mode == "flow" && argc == 5) return flow(argv[2], argv[3], argv[4]);
  if (mode == "load" && argc == 5) return load(argv[2], std::stoi(argv[3]), std::stoul(argv[4]));
  if (mode == "finish" && argc == 4) return finish(argv[2], argv[3]);
  if (mode == "serve" && argc >= 3) return serve(argv[2], {argv + 3, argv + argc});
  std::cerr << "usage: fault_node activity-crash DIR SIDE_FILE | flow DIR v1|v2 start|event|resume\n"
               "       | load DIR THREADS INPUT_BYTES | finish DIR LINES_FILE | serve DIR [NODE FLAGS]\n";
  return 2;
}
