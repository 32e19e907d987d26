// Quick start: function chaining and fan-out/fan-in on an embedded single node.
//
//   ./quickstart [--data DIR] [node flags: --help lists them]
//
// Starts a node in this process, runs a chaining orchestration and a fan-out/fan-in one, and
// prints each instance's status and history.
#include <perdure/host.hpp>
#include <perdure/node_flags.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace {

std::string greet(perdure::activity_context&, std::string name) { return "Hello, " + name + "!"; }

int word_count(perdure::activity_context&, std::string line) {
  int words = 0;
  bool in_word = false;
  for (char c : line) {
    const bool letter = c != ' ';
    words += letter && !in_word;
    in_word = letter;
  }
  return words;
}

// Function chaining: each step's output feeds the next.
perdure::task<std::string> hello_chain(perdure::orchestration_context& ctx, std::string who) {
  auto first = co_await ctx.call_activity<std::string>("Greet", who);
  auto second = co_await ctx.call_activity<std::string>("Greet", first);
  co_return co_await ctx.call_activity<std::string>("Greet", second);
}

// Fan-out/fan-in: one activity per line, in parallel, then the sum.
perdure::task<int> count_words(perdure::orchestration_context& ctx, std::vector<std::string> lines) {
  std::vector<perdure::task<int>> counts;
  for (const auto& line : lines) counts.push_back(ctx.call_activity<int>("WordCount", line));
  int total = 0;
  for (int n : co_await perdure::when_all(std::move(counts))) total += n;
  co_return total;
}

void show(perdure::client& client, const std::string& id) {
  auto record = client.wait_for_completion(id, std::chrono::seconds(30));
  std::cout << "instance " << id << " (" << record.name << "): " << perdure::to_string(record.status)
            << ", output " << record.output << "\n";
  for (const auto& event : client.history(id)) std::cout << "    " << perdure::event_kind_name(event.payload) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  perdure::node_options defaults;
  defaults.data_dir = "quickstart-data";
  defaults.partitions = 4;
  defaults.log_level = "warn";
  perdure::node_flags flags{defaults};  // --data DIR and every other node flag (--help lists them)
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;

  perdure::host host;
  host.add_orchestration("HelloChain", hello_chain);
  host.add_orchestration("CountWords", count_words);
  host.add_activity("Greet", greet);
  host.add_activity("WordCount", word_count);

  host.start(flags.options());
  auto& client = host.client();
  const auto chain = client.start("HelloChain", R"("Perdure")");
  const auto words = client.start("CountWords", R"(["the quick brown fox", "jumps over", "the lazy dog"])");
  show(client, chain);
  show(client, words);
  host.stop();
}
