#include "nats_cluster.hpp"

#include "free_ports.hpp"

#include <chrono>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

namespace perdure::testing_support {

nats_cluster::nats_cluster(int size) {
  std::random_device random;
  dir_ = std::filesystem::temp_directory_path() / ("perdure-nats-" + std::to_string(random()) + std::to_string(random()));
  std::filesystem::create_directories(dir_);
  const uint16_t base = free_base_port(static_cast<uint16_t>(2 * size));
  for (int i = 0; i < size; ++i)
    servers_.push_back(server{"n" + std::to_string(i), static_cast<uint16_t>(base + i),
                              static_cast<uint16_t>(base + size + i), nullptr});
  for (int i = 0; i < size; ++i) start(i);
}

nats_cluster::~nats_cluster() {
  servers_.clear();  // each child_process kills and reaps its server
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void nats_cluster::start(int i) {
  auto& s = servers_.at(static_cast<size_t>(i));
  const auto config = dir_ / (s.name + ".conf");
  {
    std::ofstream out(config);
    out << "server_name: " << s.name << "\n"
        << "listen: 127.0.0.1:" << s.client_port << "\n"
        << "jetstream { store_dir: \"" << (dir_ / (s.name + "-data")).string()
        << "\", max_memory_store: 64MB, max_file_store: 1GB }\n";
    if (size() > 1) {
      out << "cluster {\n  name: perdure-test\n  listen: 127.0.0.1:" << s.route_port << "\n  routes: [\n";
      for (const auto& peer : servers_) out << "    \"nats-route://127.0.0.1:" << peer.route_port << "\"\n";
      out << "  ]\n}\n";
    }
  }
  s.process = std::make_unique<child_process>(std::vector<std::string>{
      "/usr/sbin/nats-server", "-c", config.string(), "-l", (dir_ / (s.name + ".log")).string()});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepts_connections(s.client_port)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("nats-server " + s.name + " did not listen on port " + std::to_string(s.client_port) +
                               "; see " + (dir_ / (s.name + ".log")).string());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string nats_cluster::url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(servers_.at(static_cast<size_t>(i)).client_port);
}

std::vector<std::string> nats_cluster::urls() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(url(i));
  return all;
}

int nats_cluster::index_of(std::string_view name) const {
  for (int i = 0; i < size(); ++i)
    if (servers_[static_cast<size_t>(i)].name == name) return i;
  return -1;
}

void nats_cluster::kill(int i) {
  auto& s = servers_.at(static_cast<size_t>(i));
  if (!s.process) return;
  s.process->kill(SIGKILL);
  s.process->wait();
  s.process.reset();
}

void nats_cluster::wipe(int i) {
  const auto& s = servers_.at(static_cast<size_t>(i));
  if (s.process) throw std::logic_error("nats-server " + s.name + " runs: kill it before wiping its store");
  std::filesystem::remove_all(dir_ / (s.name + "-data"));
}

std::vector<std::string> nats_cluster::warnings() const {
  std::vector<std::string> out;
  for (const auto& s : servers_) {
    std::ifstream log(dir_ / (s.name + ".log"));
    for (std::string line; std::getline(log, line);)
      if (line.find("[WRN]") != std::string::npos || line.find("[ERR]") != std::string::npos)
        out.push_back(s.name + ": " + line);
  }
  return out;
}

void nats_cluster::restart(int i) {
  kill(i);
  start(i);
}

}  // namespace perdure::testing_support
