#include "local_cluster.hpp"

#include "tests/support/free_ports.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>
#include <unistd.h>
#include <sys/wait.h>

namespace perdure::bench {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// Everything the child needs is made before the fork: between fork and exec it may only make
// async-signal-safe calls (an allocation can wait forever for a lock another thread held).
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = fork();
  if (pid == 0) {
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (out >= 0) ::close(out);
  return pid;
}

}  // namespace

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto close = text.rfind(')');
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

cluster_run start_cluster(const std::string& program, size_t count, const std::filesystem::path& dir, uint32_t partitions,
                          size_t workers, const std::string& sync, const std::string& nats, size_t clients_per_node,
                          const std::vector<std::string>& extra_args) {
  const uint16_t base = perdure::testing_support::free_base_port(static_cast<uint16_t>(2 * count));
  std::string members;
  for (size_t i = 0; i < count; ++i)
    members += (i ? "," : "") + std::string(1, static_cast<char>('a' + i)) + "@127.0.0.1:" + std::to_string(base + i);
  cluster_run run;
  for (size_t i = 0; i < count; ++i) {
    const std::string id(1, static_cast<char>('a' + i));
    const auto http_port = static_cast<uint16_t>(base + count + i);
    std::vector<std::string> args{program, "--node-id", id, "--members", members, "--data", (dir / id).string(),
                                  "--partitions", std::to_string(partitions), "--workers", std::to_string(workers),
                                  "--sync", sync, "--log-level", "error", "--http-port", std::to_string(http_port)};
    if (!nats.empty()) args.insert(args.end(), {"--nats", nats, "--hub", "bench"});
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    run.nodes.push_back({spawn(args, dir / (id + ".log")), static_cast<uint16_t>(base + i), http_port});
  }
  // Ready: every node reaches every other one.
  for (auto& node : run.nodes) {
    const auto deadline = steady::now() + 60s;
    for (;;) {
      try {
        auto client = perdure::connect("127.0.0.1", node.port);
        // Ready: reaches every node, and (a replicated hub) every partition runs on some node.
        const auto stats = client->cluster_stats();
        uint32_t owned = 0;
        for (const auto& s : stats) owned += s.partitions_owned;
        if (stats.size() == count && owned == partitions) {
          run.clients.push_back(std::move(client));
          for (size_t extra = 1; extra < clients_per_node; ++extra)
            run.clients.push_back(perdure::connect("127.0.0.1", node.port));
          break;
        }
      } catch (const perdure::error& e) {
        if (steady::now() > deadline)
          throw std::runtime_error("the cluster did not come up (" + std::string{e.what()} + "); see " + dir.string());
      }
      if (steady::now() > deadline) throw std::runtime_error("the cluster did not come up; see " + dir.string());
      std::this_thread::sleep_for(100ms);
    }
  }
  return run;
}

cluster_run::cluster_run(cluster_run&& other) noexcept
    : nodes(std::exchange(other.nodes, {})),
      nats_servers(std::move(other.nats_servers)),
      clients(std::move(other.clients)) {}

cluster_run::~cluster_run() { stop_cluster(*this); }

void stop_cluster(cluster_run& run) {
  run.clients.clear();
  for (auto& node : run.nodes)
    if (node.pid > 0) kill(node.pid, SIGTERM);
  for (auto& node : run.nodes)
    if (node.pid > 0) waitpid(std::exchange(node.pid, -1), nullptr, 0);
}

int run_reporting_errors(const char* program, int (*body)(int, char**), int argc, char** argv) {
  try {
    return body(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 1;
  }
}

void call_window::acquire() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return free_ > 0; });
  --free_;
}

void call_window::release() {
  {
    std::lock_guard lock(mutex_);
    ++free_;
  }
  changed_.notify_one();
}

double run_async(const std::vector<perdure::client*>& clients, const std::string& name, const std::string& input, int n,
                 const std::string& tag, size_t window) {
  const auto started = steady::now();
  const size_t k = clients.size();
  std::vector<std::unique_ptr<call_window>> windows;
  for (size_t t = 0; t < k; ++t) windows.push_back(std::make_unique<call_window>(window));
  std::mutex mutex;
  std::condition_variable all_done;
  int remaining = n;
  auto finish = [&](const std::string& id, const std::string& problem) {
    if (!problem.empty()) std::cerr << id << ": " << problem << "\n";
    std::lock_guard lock(mutex);
    if (--remaining == 0) all_done.notify_all();
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < k; ++t) {
    threads.emplace_back([&, t] {
      auto& c = *clients[t];
      auto& w = *windows[t];
      for (int i = static_cast<int>(t); i < n; i += static_cast<int>(k)) {
        perdure::start_options options;
        options.instance_id = tag + "-" + std::to_string(i);
        w.acquire();
        c.start_async(name, input, options, [&c, &w, &finish](perdure::start_result started) {
          if (auto* failure = std::get_if<std::exception_ptr>(&started)) {
            w.release();
            try {
              std::rethrow_exception(*failure);
            } catch (const std::exception& e) {
              finish("a start", e.what());
            }
            return;
          }
          // The wait keeps the start's place in the window.
          const auto id = std::get<std::string>(started);
          c.wait_for_completion_async(id, 300s, [id, &w, &finish](perdure::wait_result waited) {
            w.release();
            if (auto* record = std::get_if<perdure::instance_record>(&waited))
              return finish(id, record->status == perdure::runtime_status::completed
                                    ? ""
                                    : "ended " + std::string{perdure::to_string(record->status)});
            try {
              std::rethrow_exception(std::get<std::exception_ptr>(waited));
            } catch (const std::exception& e) {
              finish(id, e.what());
            }
          });
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  std::unique_lock lock(mutex);
  all_done.wait(lock, [&] { return remaining == 0; });
  return std::chrono::duration<double>(steady::now() - started).count();
}

std::vector<perdure::client*> clients_of(cluster_run& run) {
  std::vector<perdure::client*> out;
  for (auto& c : run.clients) out.push_back(c.get());
  return out;
}

}  // namespace perdure::bench
