// greeter: an orchestration that calls an activity, on a node embedded in this program.
//
//   greeter [--name NAME] [node flags: --data DIR, --partitions P, ... (--help lists them)]
//
// Prints the orchestration's output, "Hello, NAME!" (a JSON string), and exits.
#include <perdure/host.hpp>
#include <perdure/node_flags.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

std::string greet(perdure::activity_context&, std::string name) { return "Hello, " + name + "!"; }

perdure::task<std::string> greeting(perdure::orchestration_context& ctx, std::string name) {
  co_return co_await ctx.call_activity<std::string>("Greet", name);
}

}  // namespace

int main(int argc, char** argv) {
  perdure::node_options defaults;
  defaults.data_dir = "greeter-data";
  defaults.partitions = 1;
  defaults.activity_workers = 1;
  defaults.log_level = "warn";
  perdure::node_flags flags{defaults};
  std::string name = "Perdure";
  flags.app().add_option("--name", name, "Whom to greet")->capture_default_str();
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;

  perdure::host host;
  host.add_orchestration("Greeting", greeting).add_activity("Greet", greet);
  host.start(flags.options());
  auto& client = host.client();
  const auto id = client.start("Greeting", perdure::codec<std::string>::encode(name));
  const auto record = client.wait_for_completion(id, std::chrono::seconds(60));
  std::cout << perdure::to_string(record.status) << ": " << record.output << std::endl;
  host.stop();
  return record.status == perdure::runtime_status::completed ? 0 : 1;
}
