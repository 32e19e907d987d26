// Fuzzes the management API's request handling against a live node on 127.0.0.1 (the handler has
// no socket-free entry point). Input: byte 0 picks the method, then the path and query up to the
// first newline (bytes outside printable ASCII are %-encoded, so every input is a sendable
// request), then the body. Any 500 is a bug: bad input must get a 4xx with a JSON error.
#include "echo_workflow.hpp"

#include <perdure/host.hpp>

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>

namespace {

struct node {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("perdure-fuzz-http-" + std::to_string(::getpid()));
  perdure::host host;
  std::unique_ptr<httplib::Client> http;

  node() {
    std::filesystem::remove_all(dir);
    perdure::fuzzing::add_echo_workflow(host);
    perdure::node_options options;
    options.data_dir = dir;
    options.partitions = 2;
    options.activity_workers = 2;
    options.scheduler_threads = 2;
    options.sync = false;  // throughput: durability is not what is fuzzed here
    options.log_level = "off";
    options.http_port = 0;
    host.start(options);
    http = std::make_unique<httplib::Client>("127.0.0.1", host.http_port());
    http->set_read_timeout(std::chrono::seconds(5));
    http->Post("/api/orchestrations/Echo?instanceId=known", "\"x\"", "application/json");
  }
};

node* the_node = nullptr;

std::string sendable_path(std::string_view raw) {
  std::string path = "/";
  for (unsigned char c : raw.substr(raw.starts_with('/') ? 1 : 0)) {
    if (c > 0x20 && c < 0x7f && c != '#')
      path += static_cast<char>(c);
    else
      fmt::format_to(std::back_inserter(path), "%{:02X}", c);
  }
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Never destroyed: libFuzzer ends with exit(), and a node stopped from a static destructor then
  // crashes in CAF's statics that are already gone. Exiting releases it; only its files are removed.
  the_node = new node;
  std::atexit([] { std::filesystem::remove_all(the_node->dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t eol = rest.find('\n');
  const std::string path = sendable_path(rest.substr(0, eol));
  const std::string body(eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1));
  auto& http = *the_node->http;
  const auto send = [&]() -> httplib::Result {  // Debian's httplib::Result has no default constructor
    switch (data[0] % 4) {
      case 0: return http.Get(path);
      case 1: return http.Post(path, body, "application/json");
      case 2: return http.Delete(path, body, "application/json");
      default: return http.Put(path, body, "application/json");
    }
  };
  const auto result = send();
  if (!result) std::abort();  // the server stopped answering
  if (result->status == 500) std::abort();
  return 0;
}
