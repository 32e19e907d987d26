// Real-time data enrichment on an embedded single node.
//
//   enrichment generate --file clicks.jsonl [--events 2000] [--seed 1]
//   enrichment run --data DIR --file clicks.jsonl [--threads 8]
//   enrichment serve --data DIR --http-port 8080
//
// `run` enriches every click of the file into DIR/stores/warehouse.jsonl and prints the throughput.
// Kill it (even with kill -9) and run it again: it picks up where it stopped, and the warehouse
// still holds exactly one row per event. `serve` takes clicks over the management API until Ctrl-C
// (a click's instance id is its event id):
//   curl -d '{"event_id":"e-1","user_id":"u-0001","product_id":"p-0002"}' 'http://127.0.0.1:8080/api/orchestrations/EnrichClick?instanceId=e-1'
#include "enrich_workflow.hpp"
#include "stores.hpp"

#include <perdure/host.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

namespace {

perdure::node_options node_at(const std::filesystem::path& data) {
  perdure::node_options options;
  options.data_dir = data / "node";
  options.partitions = 4;
  options.log_level = "warn";
  return options;
}

int run(const std::filesystem::path& data, const std::filesystem::path& file, size_t threads) {
  const auto clicks = enrichment::read_clicks(file);
  perdure::host host;
  enrichment::register_enrichment(host, data / "stores");
  host.start(node_at(data));
  std::cout << "node started, " << clicks.size() << " clicks in " << file.string() << std::endl;

  const auto begin = std::chrono::steady_clock::now();
  const size_t submitted = enrichment::submit(host.client(), clicks, threads);
  size_t failed = 0;
  for (const auto& c : clicks)
    failed += host.client().wait_for_completion(c.event_id, std::chrono::seconds(120)).status != perdure::runtime_status::completed;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  host.stop();

  enrichment::stores stores(data / "stores");
  std::cout << "submitted " << submitted << " (the others were done before), failed " << failed << "\n"
            << "enriched " << clicks.size() << " events in " << seconds << " s: "
            << static_cast<long>(static_cast<double>(submitted) / seconds) << " events/s\n"
            << "warehouse " << (data / "stores" / "warehouse.jsonl").string() << ": "
            << stores.warehouse.rows().size() << " rows" << std::endl;
  return failed == 0 ? 0 : 1;
}

int serve(const std::filesystem::path& data, int port) {
  // Block the stop signals in every thread (the node's threads inherit the mask) and wait for one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  perdure::host host;
  enrichment::register_enrichment(host, data / "stores");
  auto options = node_at(data);
  options.http_port = port;
  host.start(options);
  std::cout << "listening on http://127.0.0.1:" << host.http_port() << "; Ctrl-C stops" << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  host.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: enrichment generate --file F [--events N] [--seed S]\n"
      "       enrichment run --data DIR --file F [--threads T]\n"
      "       enrichment serve --data DIR --http-port P\n";
  if (argc < 2 || argc % 2 != 0) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = argv[1];
  std::map<std::string, std::string> flags{{"--data", "enrichment-data"}, {"--file", "clicks.jsonl"},
                                           {"--events", "2000"}, {"--seed", "1"}, {"--threads", "8"},
                                           {"--http-port", "8080"}};
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!flags.contains(argv[i])) {
      std::cerr << "unknown flag " << argv[i] << "\n" << usage;
      return 2;
    }
    flags[argv[i]] = argv[i + 1];
  }
  if (command == "generate") {
    enrichment::write_clicks(flags["--file"], enrichment::generate_clicks(std::stoul(flags["--events"]),
                                                                          static_cast<unsigned>(std::stoul(flags["--seed"]))));
    std::cout << "wrote " << flags["--events"] << " clicks to " << flags["--file"] << "\n";
    return 0;
  }
  if (command == "run") return run(flags["--data"], flags["--file"], std::stoul(flags["--threads"]));
  if (command == "serve") return serve(flags["--data"], std::stoi(flags["--http-port"]));
  std::cerr << usage;
  return 2;
}
