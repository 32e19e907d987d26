// Security automation on an embedded single node.
//
//   security [--data DIR] [--block-seconds N]
//
// Writes a threat feed (DIR/systems/threat-feed.txt) if there is none, then replays a few 404s:
// admin probes from listed IPs get blocked for N seconds (default 3) in DIR/systems/firewall.jsonl,
// a second probe extends the block, and the blocks are lifted when their expiry (a scheduled signal
// to the block list entity) arrives.
// Prints the firewall table as it changes, then each IP guard's state and history.
#include "examples/common/show.hpp"
#include "defenses.hpp"
#include "ip_guard.hpp"

#include <perdure/host.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

void print_firewall(security::firewall& fw, std::chrono::steady_clock::time_point start) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  std::cout << "t=" << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count() / 1000.0
            << "s firewall:";
  for (const auto& [ip, rule] : fw.rules().rows()) {
    std::cout << "  " << ip;
    if (rule["action"] == "block")
      std::cout << " BLOCKED (" << (rule["until_ms"].get<int64_t>() - now_ms) / 1000.0 << "s left, offenses "
                << rule["offenses"] << ")";
    else
      std::cout << " allowed";
  }
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Security automation on an embedded single node"};
  std::filesystem::path data = "security-data";
  app.add_option("--data", data, "The example's directory: DIR/node the node's store, DIR/systems the firewall")
      ->capture_default_str();
  double block_seconds = 3;
  app.add_option("--block-seconds", block_seconds, "How long a listed IP is blocked")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  CLI11_PARSE(app, argc, argv);
  const auto block_for = std::chrono::milliseconds(static_cast<int64_t>(block_seconds * 1000));
  const auto systems = data / "systems";
  std::filesystem::create_directories(systems);
  if (!std::filesystem::exists(systems / "threat-feed.txt"))
    std::ofstream(systems / "threat-feed.txt") << "# known scanners\n203.0.113.7\n198.51.100.23\n";

  perdure::host host;
  security::register_security(host, systems);
  perdure::node_options options;
  options.data_dir = data / "node";
  options.partitions = 4;
  options.log_level = "warn";
  host.start(options);
  auto& client = host.client();
  security::firewall firewall(systems);
  const auto start = std::chrono::steady_clock::now();

  const security::request first_wave[] = {
      {"203.0.113.7", "/wp-admin/install.php"},  // listed: blocked
      {"192.0.2.10", "/.env"},                   // probes, but not listed: watched, not blocked
      {"198.51.100.23", "/favicon.ico"},         // an ordinary 404: ignored
      {"198.51.100.23", "/phpmyadmin/"},         // listed: blocked
  };
  for (const auto& r : first_wave) security::report_404(client, r, block_for);
  std::this_thread::sleep_for(block_for / 3);
  print_firewall(firewall, start);
  security::report_404(client, {"203.0.113.7", "/.env"}, block_for);  // repeat offender: extended
  std::this_thread::sleep_for(block_for / 6);
  print_firewall(firewall, start);

  // Wait for the scheduled expiries to lift every block.
  const auto deadline = std::chrono::steady_clock::now() + 3 * block_for + 10s;
  auto any_blocked = [&] {
    for (const auto& [ip, rule] : firewall.rules().rows())
      if (rule["action"] == "block") return true;
    return false;
  };
  while (any_blocked() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(block_for / 3);
    print_firewall(firewall, start);
  }

  std::cout << "\nfirewall audit log (" << (systems / "firewall.jsonl").string() << "):\n";
  for (const auto& line : firewall.rules().log()) std::cout << "  " << line.dump() << "\n";
  std::cout << "\n";
  for (const char* ip : {"203.0.113.7", "198.51.100.23", "192.0.2.10"}) {
    if (auto record = client.status(security::guard_id(ip))) {
      examples::print_instance(std::cout, client, *record);
      std::cout << "\n";
    }
  }
  host.stop();
  return any_blocked() ? 1 : 0;
}
