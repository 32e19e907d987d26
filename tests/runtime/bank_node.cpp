// A node process for the critical-section kill -9 test: transfers between accounts under
// lock_entities.
//
//   bank_node run DIR     starts a node on DIR and 40 new "Transfers" orchestrations (each moves
//                         money 5 times between two of 6 accounts, inside a critical section on
//                         both), prints STARTED, then, until killed, starts an "Audit" (which locks
//                         every account and sums them) and reads every account as a client
//                         (each balance must be between 0 and the total), printing PROBLEM lines
//                         for what it sees wrong
//   bank_node check DIR   starts the node, waits for every Transfers and Audit of every run to
//                         complete, checks that every audit saw exactly the total and that the
//                         accounts sum to it at the end (and a last audit can still lock them);
//                         prints "VERIFIED ..." and exits 0, or "PROBLEM ..." lines and exits 1
//
// Every account starts with 100 (its state's initial value), so the total is known without a
// set-up step that a kill could cut short.
#include "support/run_log.hpp"

#include <perdure/host.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

using perdure::testing_support::begin_run;
using perdure::testing_support::runs_so_far;

constexpr int accounts = 6;
constexpr int initial_balance = 100;
constexpr int total = accounts * initial_balance;
constexpr int transfer_orchestrations = 40;
constexpr int transfers_each = 5;

void account(entity_context& ctx) {
  const int balance = ctx.state<int>(initial_balance);
  if (ctx.operation() == "get") {
    ctx.return_value(balance);
  } else if (ctx.operation() == "deposit") {
    ctx.set_state(balance + ctx.input<int>());
  } else if (ctx.operation() == "withdraw") {
    if (ctx.input<int>() > balance) throw std::runtime_error("insufficient funds");
    ctx.set_state(balance - ctx.input<int>());
  } else {
    throw std::invalid_argument("Account has no operation '" + ctx.operation() + "'");
  }
}

entity_id acct(int i) { return entity_id{"Account", std::to_string(i)}; }

// Input [from, to, seed]: 5 transfers between the two accounts, alternating direction.
task<int> transfers(orchestration_context& ctx, std::vector<int> order) {
  int moved = 0;
  for (int i = 0; i < transfers_each; ++i) {
    const int from = i % 2 == 0 ? order[0] : order[1];
    const int to = i % 2 == 0 ? order[1] : order[0];
    const int amount = 1 + (order[2] * 7 + i * 13) % 60;
    std::vector<entity_id> both{acct(from), acct(to)};
    auto lock = co_await ctx.lock_entities(both);
    const int balance = co_await ctx.call_entity<int>(acct(from), "get");
    if (balance < amount) continue;
    co_await ctx.call_entity(acct(from), "withdraw", amount);
    co_await ctx.call_entity(acct(to), "deposit", amount);
    moved += amount;
  }
  co_return moved;
}

task<int> audit(orchestration_context& ctx) {
  std::vector<entity_id> all;
  for (int i = 0; i < accounts; ++i) all.push_back(acct(i));
  auto lock = co_await ctx.lock_entities(all);
  int sum = 0;
  for (int i = 0; i < accounts; ++i) sum += co_await ctx.call_entity<int>(acct(i), "get");
  co_return sum;
}

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 4;
  options.activity_workers = 2;
  options.scheduler_threads = 2;
  options.log_level = "error";
  return options;
}

std::string transfers_id(int run, int i) { return "transfers-" + std::to_string(run) + "-" + std::to_string(i); }
std::string audit_id(int run, int i) { return "audit-" + std::to_string(run) + "-" + std::to_string(i); }

int balance_of(client& hub, int i) {
  const auto entity = hub.get_entity(acct(i));
  return entity ? codec<int>::decode(entity->state) : initial_balance;
}

int run(host& node, const std::string& dir) {
  auto& hub = node.client();
  const int run = begin_run(dir);
  for (int i = 0; i < transfer_orchestrations; ++i) {
    const int from = i % accounts;
    const int to = (i * 5 + 1 + run) % accounts == from ? (from + 1) % accounts : (i * 5 + 1 + run) % accounts;
    hub.start("Transfers", nlohmann::json{from, to, i + run * 100}.dump(), start_options{transfers_id(run, i)});
  }
  std::cout << "STARTED" << std::endl;
  for (int i = 0;; ++i) {
    hub.start("Audit", "null", start_options{audit_id(run, i)});
    for (int a = 0; a < accounts; ++a) {
      const int balance = balance_of(hub, a);
      if (balance < 0 || balance > total)
        std::cout << "PROBLEM a client read account " << a << " as " << balance << std::endl;
    }
    std::this_thread::sleep_for(20ms);
  }
}

int check(host& node, const std::string& dir) {
  auto& hub = node.client();
  std::vector<std::string> problems;
  int completed_transfers = 0, audits = 0;
  auto wait = [&](const std::string& id) -> std::optional<instance_record> {
    if (!hub.status(id)) return std::nullopt;
    auto record = hub.wait_for_completion(id, 180s);
    if (record.status != runtime_status::completed) problems.push_back(id + " ended " + to_string(record.status));
    return record;
  };
  for (int run = 0, runs = runs_so_far(dir); run < runs; ++run) {
    for (int i = 0; i < transfer_orchestrations; ++i)
      if (wait(transfers_id(run, i))) ++completed_transfers;
    for (int i = 0;; ++i) {
      const auto record = wait(audit_id(run, i));
      if (!record) break;  // audits start in order: the first missing one is the last
      ++audits;
      if (record->status == runtime_status::completed && record->output != std::to_string(total))
        problems.push_back(audit_id(run, i) + " saw a total of " + record->output);
    }
  }
  int sum = 0;
  for (int a = 0; a < accounts; ++a) sum += balance_of(hub, a);
  if (sum != total) problems.push_back("the accounts sum to " + std::to_string(sum) + ", not " + std::to_string(total));
  hub.start("Audit", "null", start_options{"final-audit"});
  const auto last = hub.wait_for_completion("final-audit", 60s);
  if (last.status != runtime_status::completed || last.output != std::to_string(total))
    problems.push_back(std::string("the final audit ended ") + to_string(last.status) + " with " + last.output);
  for (const auto& p : problems) std::cout << "PROBLEM " << p << std::endl;
  if (!problems.empty()) return 1;
  std::cout << "VERIFIED " << completed_transfers << " transfer orchestrations, " << audits
            << " audits, every one saw " << total << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bank_node run|check DIR\n";
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  host node;
  node.add_entity("Account", account);
  node.add_orchestration("Transfers", transfers);
  node.add_orchestration("Audit", audit);
  node.start(options_for(dir));
  const int code = mode == "run" ? run(node, dir) : check(node, dir);
  node.stop();
  return code;
}
