// Real-time data enrichment on an embedded single node.
//
//   enrichment generate --file clicks.jsonl [--events 2000] [--seed 1]
//   enrichment run --data DIR --file clicks.jsonl [--threads 8]
//   enrichment serve --data DIR --http-port 8080
//   enrichment publish --nats nats://127.0.0.1:4222 --file clicks.jsonl [--subject clicks]
//   enrichment consume --data DIR --nats nats://127.0.0.1:4222 [--subject clicks]
//
// `run` enriches every click of the file into DIR/stores/warehouse.jsonl and prints the throughput.
// Kill it (even with kill -9) and run it again: it picks up where it stopped, and the warehouse
// still holds exactly one row per event. `serve` takes clicks over the management API until Ctrl-C
// (a click's instance id is its event id):
//   curl -d '{"event_id":"e-1","user_id":"u-0001","product_id":"p-0002"}' 'http://127.0.0.1:8080/api/orchestrations/EnrichClick?instanceId=e-1'
// `publish` puts the file's clicks on a NATS JetStream subject, as a website's producer would;
// `consume` runs a node whose queue trigger enriches every click of that subject until Ctrl-C
// (kill it, even with kill -9, and start it again: the stream is consumed exactly once).
#include "click_stream.hpp"
#include "enrich_workflow.hpp"
#include "stores.hpp"

#include <perdure/host.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
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

// Runs the node until SIGINT or SIGTERM; `running` says what it does once started.
int run_until_stopped(const std::filesystem::path& data, const perdure::node_options& options,
                      const std::function<std::string(const perdure::host&)>& running) {
  // Block the stop signals in every thread (the node's threads inherit the mask) and wait for one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  perdure::host host;
  enrichment::register_enrichment(host, data / "stores");
  host.start(options);
  std::cout << running(host) << "; Ctrl-C stops" << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  host.stop();
  return 0;
}

int serve(const std::filesystem::path& data, int port) {
  auto options = node_at(data);
  options.http_port = port;
  return run_until_stopped(data, options, [&](const perdure::host& host) {
    return "listening on http://127.0.0.1:" + std::to_string(host.http_port());
  });
}

int consume(const std::filesystem::path& data, const std::string& nats, const std::string& subject) {
  auto options = node_at(data);
  options.trigger_nats = nats;
  options.queue_triggers.push_back(enrichment::click_trigger(subject));
  return run_until_stopped(data, options, [&](const perdure::host&) { return "consuming " + subject + " from " + nats; });
}

int publish(const std::string& nats, const std::string& subject, const std::filesystem::path& file) {
  const auto clicks = enrichment::read_clicks(file);
  enrichment::publish_clicks(nats, subject, clicks);
  std::cout << "published " << clicks.size() << " clicks on " << subject << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Real-time data enrichment on an embedded single node"};
  app.require_subcommand(1);
  std::filesystem::path data = "enrichment-data";
  std::filesystem::path file = "clicks.jsonl";
  size_t events = 2000;
  unsigned seed = 1;
  size_t threads = 8;
  int http_port = 8080;
  auto* generate = app.add_subcommand("generate", "Write a file of clicks");
  generate->add_option("--file", file, "The clicks file")->capture_default_str();
  generate->add_option("--events", events, "Clicks to write")->capture_default_str();
  generate->add_option("--seed", seed, "Seed of the generator")->capture_default_str();
  auto* run_clicks = app.add_subcommand("run", "Enrich every click of the file, then print the throughput");
  run_clicks->add_option("--data", data, "DIR/node the node's store, DIR/stores the stores and warehouse")
      ->capture_default_str();
  run_clicks->add_option("--file", file, "The clicks file")->capture_default_str();
  run_clicks->add_option("--threads", threads, "Threads submitting clicks")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{256}));
  auto* serve_clicks = app.add_subcommand("serve", "Take clicks over the management API until Ctrl-C");
  serve_clicks->add_option("--data", data, "DIR/node the node's store, DIR/stores the stores and warehouse")
      ->capture_default_str();
  serve_clicks->add_option("--http-port", http_port, "Management API port")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  std::string nats = "nats://127.0.0.1:4222";
  std::string subject = "clicks";
  auto* publish_clicks = app.add_subcommand("publish", "Publish the file's clicks on a NATS JetStream subject");
  publish_clicks->add_option("--nats", nats, "NATS server URLs, comma separated")->capture_default_str();
  publish_clicks->add_option("--subject", subject, "The clicks' subject")->capture_default_str();
  publish_clicks->add_option("--file", file, "The clicks file")->capture_default_str();
  auto* consume_clicks = app.add_subcommand("consume", "Enrich the clicks of a NATS JetStream subject until Ctrl-C");
  consume_clicks->add_option("--data", data, "DIR/node the node's store, DIR/stores the stores and warehouse")
      ->capture_default_str();
  consume_clicks->add_option("--nats", nats, "NATS server URLs, comma separated")->capture_default_str();
  consume_clicks->add_option("--subject", subject, "The clicks' subject")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (generate->parsed()) {
    enrichment::write_clicks(file, enrichment::generate_clicks(events, seed));
    std::cout << "wrote " << events << " clicks to " << file.string() << "\n";
    return 0;
  }
  if (run_clicks->parsed()) return run(data, file, threads);
  if (publish_clicks->parsed()) return publish(nats, subject, file);
  if (consume_clicks->parsed()) return consume(data, nats, subject);
  return serve(data, http_port);
}
