// The management API under load: a real node (embedded in a child process, durable commits unless
// --sync off) driven over HTTP on 127.0.0.1 by keep-alive clients in this process.
//
//   http_bench [--workflows N] [--clients C] [--idle I] [--polls P] [--partitions P] [--workers N]
//              [--sync on|off] [--phase w1|hold|all]
//
// W1 start-and-wait: N workflows of 3 no-op activities in sequence (runtime_bench's W1), each one
//    POST /api/orchestrations/HelloSequence?waitForCompletion=30s on one of C keep-alive
//    connections, one request at a time per connection; workflows/s and client-side p50/p99.
// HOLD: I idle keep-alive connections (each served one status request, then silent) and P
//    long-polls (GET /api/instances/{id}?waitForCompletion=120s on P waiting instances) held at
//    once; whether any was refused, the node's threads while they are held, whether a status
//    request is still answered, then every long-poll answered when its event is raised; the
//    kernel's listen-queue overflow counter (TcpExt ListenOverflows, system-wide) before and after.
//
// The client and the node share the machine's cores. The node runs in a child process so that each
// side has its own descriptor table: the soft limit of open files is raised (setrlimit) to what
// I + P connections need, if the hard limit allows.
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

int noop(perdure::activity_context&, int x) { return x; }

perdure::task<int> hello_sequence(perdure::orchestration_context& ctx, int x) {
  x = co_await ctx.call_activity<int>("Noop", x);
  x = co_await ctx.call_activity<int>("Noop", x);
  co_return co_await ctx.call_activity<int>("Noop", x);
}

perdure::task<int> await_go(perdure::orchestration_context& ctx, int x) {
  co_return x + co_await ctx.wait_for_event<int>("Go");
}

struct settings {
  int workflows = 10'000;
  int clients = 100;
  int idle = 10'000;
  int polls = 1'000;
  std::string phase = "all";
  perdure::node_options node;
};

// The node: serves until SIGTERM; its HTTP port goes to `port_pipe`.
[[noreturn]] void run_node(const settings& s, int port_pipe) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  int code = 0;
  {
    perdure::host h;
    h.add_activity("Noop", noop);
    h.add_orchestration("HelloSequence", hello_sequence);
    h.add_orchestration("AwaitGo", await_go);
    try {
      h.start(s.node);
      const int port = h.http_port();
      if (write(port_pipe, &port, sizeof port) != sizeof port) throw std::runtime_error("cannot report the port");
      int received = 0;
      sigwait(&stop, &received);
      h.stop();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http_bench node: %s\n", e.what());
      code = 1;
    }
  }
  std::filesystem::remove_all(s.node.data_dir);
  std::_Exit(code);
}

long listen_overflows() {
  std::ifstream netstat("/proc/net/netstat");
  std::string names, values;
  while (std::getline(netstat, names) && std::getline(netstat, values)) {
    if (!names.starts_with("TcpExt:")) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == "ListenOverflows") return std::stol(value);
  }
  return -1;
}

long process_status(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  return -1;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

bhttp::request<bhttp::string_body> make_request(bhttp::verb verb, const std::string& target, std::string body = {}) {
  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// One request on a connection of its own, from the calling thread (control requests).
bhttp::response<bhttp::string_body> call(const tcp::endpoint& node, bhttp::verb verb, const std::string& target,
                                         std::string body = {}) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(node);
  auto req = make_request(verb, target, std::move(body));
  req.keep_alive(false);
  bhttp::write(socket, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  return res;
}

// One keep-alive client of W1: start-and-wait, one workflow after another.
net::awaitable<void> w1_client(tcp::endpoint node, int& next, int total, std::vector<double>& latencies, int& failed) {
  tcp::socket socket(co_await net::this_coro::executor);
  co_await socket.async_connect(node, net::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  while (next < total) {
    const int i = next++;
    auto req = make_request(bhttp::verb::post, "/api/orchestrations/HelloSequence?waitForCompletion=30s",
                            std::to_string(i));
    const auto started = steady::now();
    co_await bhttp::async_write(socket, req, net::use_awaitable);
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(socket, buffer, res, net::use_awaitable);
    latencies[static_cast<size_t>(i)] = std::chrono::duration<double, std::milli>(steady::now() - started).count();
    if (res.result_int() != 200 || res.body().find("\"output\":" + std::to_string(i) + ",") == std::string::npos)
      ++failed;
  }
}

void w1(const settings& s, const tcp::endpoint& node) {
  net::io_context io(1);
  int next = 0, failed = 0, errors = 0;
  std::vector<double> latencies(static_cast<size_t>(s.workflows));
  const auto begin = steady::now();
  for (int c = 0; c < s.clients; ++c)
    net::co_spawn(io, w1_client(node, next, s.workflows, latencies, failed), [&](std::exception_ptr e) {
      if (e) ++errors;
    });
  io.run();
  const double seconds = std::chrono::duration<double>(steady::now() - begin).count();
  std::printf("W1  start-and-wait over HTTP: %d workflows, %d keep-alive clients, in %.2f s = %.0f workflows/s; "
              "client-side p50 %.1f ms, p99 %.1f ms; %d answers not 200 with the output, %d connections failed\n",
              s.workflows, s.clients, seconds, s.workflows / seconds, percentile(latencies, 0.5),
              percentile(latencies, 0.99), failed, errors);
}

struct hold_counters {
  std::atomic<int> idle_held{0}, idle_refused{0};
  std::atomic<int> polls_sent{0}, polls_answered{0}, polls_refused{0};
};

// Opens idle connections one after another from a shared count: `openers` of these run at once,
// which bounds the connection attempts in flight (as clients arriving, not a SYN flood).
net::awaitable<void> idle_opener(tcp::endpoint node, std::string target, int& next, int total,
                                 std::vector<tcp::socket>& held, hold_counters& counters) {
  auto executor = co_await net::this_coro::executor;
  beast::flat_buffer buffer;
  while (next < total) {
    ++next;
    try {
      tcp::socket socket(executor);
      co_await socket.async_connect(node, net::use_awaitable);
      auto req = make_request(bhttp::verb::get, target);
      co_await bhttp::async_write(socket, req, net::use_awaitable);
      bhttp::response<bhttp::string_body> res;
      buffer.clear();
      co_await bhttp::async_read(socket, buffer, res, net::use_awaitable);
      if (res.result_int() != 202 || !res.keep_alive()) throw std::runtime_error("refused");
      held.push_back(std::move(socket));
      ++counters.idle_held;
    } catch (const std::exception&) {
      ++counters.idle_refused;
    }
  }
}

net::awaitable<void> long_poll(tcp::endpoint node, std::string id, hold_counters& counters) {
  try {
    tcp::socket socket(co_await net::this_coro::executor);
    co_await socket.async_connect(node, net::use_awaitable);
    auto req = make_request(bhttp::verb::get, "/api/instances/" + id + "?waitForCompletion=120s&showInput=false");
    co_await bhttp::async_write(socket, req, net::use_awaitable);
    ++counters.polls_sent;
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(socket, buffer, res, net::use_awaitable);
    if (res.result_int() == 200 && res.body().find("\"Completed\"") != std::string::npos)
      ++counters.polls_answered;
    else
      ++counters.polls_refused;
  } catch (const std::exception&) {
    ++counters.polls_refused;
  }
}

long waiting_requests(const tcp::endpoint& node) {
  const std::string text = call(node, bhttp::verb::get, "/metrics").body();
  const auto at = text.find("\nperdure_http_waiting_requests ");
  return at == std::string::npos ? -1 : std::stol(text.substr(at + 31));
}

template <class Done>
bool await_until(Done done, std::chrono::seconds limit) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

void hold(const settings& s, const tcp::endpoint& node, pid_t node_pid) {
  std::vector<std::string> ids;
  for (int i = 0; i < s.polls; ++i) {
    auto res = call(node, bhttp::verb::post, "/api/orchestrations/AwaitGo", std::to_string(i));
    const std::string& body = res.body();
    const auto at = body.find("\"id\":\"");
    if (res.result_int() != 202 || at == std::string::npos) throw std::runtime_error("cannot start AwaitGo: " + body);
    ids.push_back(body.substr(at + 6, body.find('"', at + 6) - at - 6));
  }
  const long overflows_before = listen_overflows();
  net::io_context io(1);
  auto guard = net::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  hold_counters counters;
  std::vector<tcp::socket> held;
  int next = 0;
  const auto opening = steady::now();
  net::post(io, [&] {
    const std::string status = "/api/instances/" + ids.front() + "?showInput=false";
    for (int o = 0; o < std::min(s.idle, 500); ++o)
      net::co_spawn(io, idle_opener(node, status, next, s.idle, held, counters), net::detached);
  });
  await_until([&] { return counters.idle_held + counters.idle_refused >= s.idle; }, 600s);
  const double open_seconds = std::chrono::duration<double>(steady::now() - opening).count();
  net::post(io, [&] {
    for (const auto& id : ids) net::co_spawn(io, long_poll(node, id, counters), net::detached);
  });
  const bool all_waiting = await_until([&] { return waiting_requests(node) == s.polls; }, 120s);
  const auto health = call(node, bhttp::verb::get, "/api/health").result_int();
  const auto status = call(node, bhttp::verb::get, "/api/instances/" + ids.front()).result_int();
  const long threads = process_status(node_pid, "Threads:");
  const long rss_kb = process_status(node_pid, "VmRSS:");
  std::printf("HOLD %d idle keep-alive connections opened in %.1f s (%d refused); %d long-polls %s; "
              "meanwhile health answered %d, a status request %d; the node runs %ld threads, RSS %.0f MB\n",
              counters.idle_held.load(), open_seconds, counters.idle_refused.load(), s.polls,
              all_waiting ? "all held" : "NOT all held", health, status, threads, rss_kb / 1024.0);
  for (size_t i = 0; i < ids.size(); ++i) call(node, bhttp::verb::post, "/api/instances/" + ids[i] + "/raiseEvent/Go", "1");
  await_until([&] { return counters.polls_answered + counters.polls_refused >= s.polls; }, 120s);
  const long overflows_after = listen_overflows();
  std::printf("HOLD long-polls answered 200 Completed: %d, refused or failed: %d; idle connections still held: %d; "
              "TcpExt ListenOverflows before %ld, after %ld (system-wide)\n",
              counters.polls_answered.load(), counters.polls_refused.load(), static_cast<int>(held.size()),
              overflows_before, overflows_after);
  net::post(io, [&] {
    held.clear();
    guard.reset();
    io.stop();
  });
  io_thread.join();
}

// Room for `needed` descriptors (this process and the node it forks inherit the soft limit).
void raise_fd_limit(rlim_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= needed) return;
  const rlim_t wanted = std::min(needed, limit.rlim_max);
  std::printf("http_bench: raising the soft limit of open files from %lu to %lu (hard limit %lu)\n",
              static_cast<unsigned long>(limit.rlim_cur), static_cast<unsigned long>(wanted),
              static_cast<unsigned long>(limit.rlim_max));
  limit.rlim_cur = wanted;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Perdure's management API under load"};
  settings s;
  std::string sync = "on";
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  s.node.partitions = cores;
  s.node.activity_workers = cores;
  s.node.log_level = "warn";
  app.add_option("--workflows", s.workflows)->capture_default_str();
  app.add_option("--clients", s.clients)->capture_default_str();
  app.add_option("--idle", s.idle)->capture_default_str();
  app.add_option("--polls", s.polls)->capture_default_str();
  app.add_option("--partitions", s.node.partitions)->capture_default_str();
  app.add_option("--workers", s.node.activity_workers)->capture_default_str();
  app.add_option("--sync", sync)->check(CLI::IsMember({"on", "off"}));
  app.add_option("--phase", s.phase)->check(CLI::IsMember({"w1", "hold", "all"}));
  CLI11_PARSE(app, argc, argv);
  s.node.sync = sync == "on";
  s.node.http_port = 0;
  s.node.http_max_connections = static_cast<size_t>(s.idle + s.polls + s.clients + 64);
  s.node.http_max_waiters = static_cast<size_t>(std::max(s.polls, s.clients) + 64);
  s.node.data_dir = std::filesystem::temp_directory_path() / ("perdure-http-bench-" + std::to_string(std::random_device{}()));
  raise_fd_limit(static_cast<rlim_t>(s.idle + s.polls + s.clients + 1024));

  std::printf("http_bench: %u partitions, %zu activity workers, sync %s, data %s\n", s.node.partitions,
              s.node.activity_workers, sync.c_str(), s.node.data_dir.c_str());
  std::fflush(stdout);
  int port_pipe[2];
  if (pipe(port_pipe) != 0) return 1;
  const pid_t node_pid = fork();  // before any thread of this process exists
  if (node_pid < 0) return 1;
  if (node_pid == 0) run_node(s, port_pipe[1]);
  int port = 0;
  const bool started = read(port_pipe[0], &port, sizeof port) == sizeof port;
  int code = 0;
  if (started) {
    const tcp::endpoint node(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    try {
      if (s.phase != "hold") w1(s, node);
      std::fflush(stdout);
      if (s.phase != "w1") hold(s, node, node_pid);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http_bench: %s\n", e.what());
      code = 1;
    }
  } else {
    code = 1;
  }
  kill(node_pid, SIGTERM);
  int status = 0;
  waitpid(node_pid, &status, 0);
  return code;
}
