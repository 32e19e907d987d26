#include "nats_cluster.hpp"

#include "free_ports.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <thread>

namespace perdure::testing_support {
namespace {

constexpr const char* system_user = "sys";
constexpr const char* system_password = "sys";

struct connection_deleter {
  void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }
};
using connection_ptr = std::unique_ptr<natsConnection, connection_deleter>;

}  // namespace

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
    // Clients without credentials land in APP, the account with JetStream; SYS is the system
    // account, for operator requests such as removing a lost peer.
    out << "server_name: " << s.name << "\n"
        << "listen: 127.0.0.1:" << s.client_port << "\n"
        << "accounts {\n  SYS { users: [{user: " << system_user << ", password: " << system_password
        << "}] }\n  APP { jetstream: enabled, users: [{user: app, password: app}] }\n}\n"
        << "system_account: SYS\nno_auth_user: app\n"
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

void nats_cluster::replace(int i, std::string name) {
  auto& s = servers_.at(static_cast<size_t>(i));
  wipe(i);
  s.name = std::move(name);
  start(i);
}

void nats_cluster::remove_peer(const std::string& name) const {
  for (const auto& s : servers_) {
    if (!s.process || s.name == name) continue;
    natsConnection* raw = nullptr;
    const std::string url = std::string{"nats://"} + system_user + ":" + system_password + "@127.0.0.1:" +
                            std::to_string(s.client_port);
    if (natsConnection_ConnectTo(&raw, url.c_str()) != NATS_OK) continue;
    connection_ptr connection{raw};
    const std::string request = "{\"peer\":\"" + name + "\"}";
    // The meta leader answers; a cluster still electing one may not answer at once.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string answer;
    while (std::chrono::steady_clock::now() < deadline) {
      natsMsg* reply = nullptr;
      if (natsConnection_RequestString(&reply, connection.get(), "$JS.API.SERVER.REMOVE", request.c_str(), 2000) ==
          NATS_OK) {
        answer.assign(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
        natsMsg_Destroy(reply);
        if (answer.find("\"success\":true") != std::string::npos) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    throw std::runtime_error("JetStream did not remove peer " + name + "; it answered: " + answer);
  }
  throw std::runtime_error("no running nats-server to remove peer " + name + " through");
}

std::vector<pid_t> nats_cluster::pids() const {
  std::vector<pid_t> out;
  for (const auto& s : servers_)
    if (s.process) out.push_back(s.process->pid());
  return out;
}

void nats_cluster::ask_any_server(const std::function<bool(jsCtx*)>& ask) const {
  for (const auto& s : servers_) {
    if (!s.process) continue;
    natsConnection* raw = nullptr;
    if (natsConnection_ConnectTo(&raw, url(index_of(s.name)).c_str()) != NATS_OK) continue;
    connection_ptr connection{raw};
    jsCtx* js = nullptr;
    if (natsConnection_JetStream(&js, connection.get(), nullptr) != NATS_OK) continue;
    const bool answered = ask(js);
    jsCtx_Destroy(js);
    if (answered) return;
  }
}

std::vector<std::string> nats_cluster::current_replicas(const std::string& stream) const {
  std::vector<std::string> names;
  ask_any_server([&](jsCtx* js) {
    jsStreamInfo* info = nullptr;
    jsErrCode code{};
    if (js_GetStreamInfo(&info, js, stream.c_str(), nullptr, &code) == NATS_OK && info->Cluster) {
      if (info->Cluster->Leader) names.emplace_back(info->Cluster->Leader);
      for (int r = 0; r < info->Cluster->ReplicasLen; ++r)
        if (info->Cluster->Replicas[r]->Current && !info->Cluster->Replicas[r]->Offline)
          names.emplace_back(info->Cluster->Replicas[r]->Name);
    }
    if (info) jsStreamInfo_Destroy(info);
    return true;  // the first reachable server's answer, even "no such stream"
  });
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> nats_cluster::stream_names() const {
  std::vector<std::string> names;
  ask_any_server([&](jsCtx* js) {
    jsStreamNamesList* list = nullptr;
    jsErrCode code{};
    const bool listed = js_StreamNames(&list, js, nullptr, &code) == NATS_OK;
    if (listed)
      for (int n = 0; n < list->Count; ++n) names.emplace_back(list->List[n]);
    if (list) jsStreamNamesList_Destroy(list);
    return listed;
  });
  return names;
}

void nats_cluster::wait_caught_up(int i, std::chrono::seconds timeout) const {
  const std::string& name = servers_.at(static_cast<size_t>(i)).name;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<std::string> behind;
    const auto streams = stream_names();
    for (const auto& stream : streams) {
      const auto current = current_replicas(stream);
      if (std::find(current.begin(), current.end(), name) == current.end()) behind.push_back(stream);
    }
    if (!streams.empty() && behind.empty()) return;
    if (std::chrono::steady_clock::now() > deadline) {
      std::string which = streams.empty() ? std::string{"(no stream could be listed)"} : "";
      for (const auto& stream : behind) which += " " + stream;
      throw std::runtime_error("nats-server " + name + " did not catch up in " + std::to_string(timeout.count()) +
                               " s; behind on:" + which);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void nats_cluster::restart(int i) {
  kill(i);
  start(i);
}

}  // namespace perdure::testing_support
