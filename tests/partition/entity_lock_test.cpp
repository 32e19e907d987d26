// Critical sections on entities (lock_entities) in the in-memory tester, which runs production's
// partition state machine.
#include <perdure/orchestration_context.hpp>
#include <perdure/testing.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

// An account: deposit(n), withdraw(n) (refused beyond the balance), get.
void account(entity_context& ctx) {
  const int balance = ctx.state<int>(0);
  if (ctx.operation() == "deposit") {
    ctx.set_state(balance + ctx.input<int>());
  } else if (ctx.operation() == "withdraw") {
    if (ctx.input<int>() > balance) throw std::runtime_error("insufficient funds");
    ctx.set_state(balance - ctx.input<int>());
  } else if (ctx.operation() == "get") {
    ctx.return_value(balance);
  } else {
    throw std::invalid_argument("unknown operation '" + ctx.operation() + "'");
  }
}

entity_id acct(int i) { return entity_id{"Account", std::to_string(i)}; }

struct transfer_order {
  int from = 0;
  int to = 0;
  int amount = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(transfer_order, from, to, amount)

task<bool> transfer(orchestration_context& ctx, transfer_order order) {
  std::vector<entity_id> both{acct(order.from), acct(order.to)};
  auto lock = co_await ctx.lock_entities(both);
  const int balance = co_await ctx.call_entity<int>(acct(order.from), "get");
  if (balance < order.amount) co_return false;  // the lock is released as the section's scope ends
  co_await ctx.call_entity(acct(order.from), "withdraw", order.amount);
  co_await ctx.call_entity(acct(order.to), "deposit", order.amount);
  co_return true;
}

// Reads every account inside one section: the sum it sees is one consistent instant.
task<int> audit(orchestration_context& ctx, int accounts) {
  std::vector<entity_id> all;
  for (int i = 0; i < accounts; ++i) all.push_back(acct(i));
  auto lock = co_await ctx.lock_entities(all);
  int total = 0;
  for (int i = 0; i < accounts; ++i) total += co_await ctx.call_entity<int>(acct(i), "get");
  lock.release();
  co_return total;
}

constexpr int accounts = 4;
constexpr int initial_balance = 100;

task<std::vector<int>> bank(orchestration_context& ctx) {
  for (int i = 0; i < accounts; ++i) ctx.signal_entity(acct(i), "deposit", initial_balance);
  std::vector<task<bool>> transfers;
  std::vector<task<int>> audits;
  for (int i = 0; i < 24; ++i) {
    transfers.push_back(ctx.call_sub_orchestration<bool>("Transfer", transfer_order{i % accounts, (i * 3 + 1) % accounts, 7 + i * 5}));
    if (i % 4 == 0) audits.push_back(ctx.call_sub_orchestration<int>("Audit", accounts));
  }
  co_await when_all(std::move(transfers));
  auto totals = co_await when_all(std::move(audits));
  totals.push_back(co_await ctx.call_sub_orchestration<int>("Audit", accounts));
  co_return totals;
}

// Holds account 0 across a timer; a client's deposit sent meanwhile waits for the release.
task<std::vector<int>> hold_across_timer(orchestration_context& ctx) {
  std::vector<entity_id> one{acct(0)};
  auto lock = co_await ctx.lock_entities(one);
  std::vector<int> seen;
  seen.push_back(co_await ctx.call_entity<int>(acct(0), "get"));
  co_await ctx.create_timer(1h);
  seen.push_back(co_await ctx.call_entity<int>(acct(0), "get"));
  lock.release();
  seen.push_back(co_await ctx.call_entity<int>(acct(0), "get"));
  co_return seen;
}

// Holds two accounts and never releases them itself: only the end of its execution can.
task<void> hold_forever(orchestration_context& ctx) {
  std::vector<entity_id> two{acct(1), acct(0)};
  auto lock = co_await ctx.lock_entities(two);
  co_await ctx.wait_for_event("never");
}

task<int> opposite_orders(orchestration_context& ctx) {
  auto a = ctx.call_sub_orchestration<bool>("Transfer", transfer_order{0, 1, 1});
  auto b = ctx.call_sub_orchestration<bool>("Transfer", transfer_order{1, 0, 1});
  co_await when_all(std::move(a), std::move(b));
  co_return co_await ctx.call_sub_orchestration<int>("Audit", 2);
}

// Each breaks one rule of critical sections; the output names the error it got.
task<std::string> break_rule(orchestration_context& ctx, std::string rule) {
  std::vector<entity_id> one{acct(0)};
  try {
    if (rule == "reserved") {
      ctx.signal_entity(acct(0), "$unlock");
      co_return "allowed";
    }
    auto lock = co_await ctx.lock_entities(one);
    if (rule == "nested") {
      std::vector<entity_id> other{acct(1)};
      auto inner = co_await ctx.lock_entities(other);
    } else if (rule == "unlocked call") {
      co_await ctx.call_entity<int>(acct(1), "get");
    } else if (rule == "signal locked") {
      ctx.signal_entity(acct(0), "deposit", 1);
    } else if (rule == "sub-orchestration") {
      co_await ctx.call_sub_orchestration<int>("Audit", 1);
    }
    co_return "allowed";
  } catch (const invalid_argument_error& e) {
    co_return std::string(e.what());
  }
}

task<int> lock_then_read(orchestration_context& ctx) {
  std::vector<entity_id> one{acct(0)};
  auto lock = co_await ctx.lock_entities(one);
  co_return co_await ctx.call_entity<int>(acct(0), "get");
}

// A section that broke a rule (the error left its scope) released its lock: another one takes it.
task<int> break_then_lock(orchestration_context& ctx) {
  co_await ctx.call_sub_orchestration<std::string>("BreakRule", std::string("unlocked call"));
  std::vector<entity_id> one{acct(0)};
  auto lock = co_await ctx.lock_entities(one);
  co_return co_await ctx.call_entity<int>(acct(0), "get");
}

// Gives up waiting for its lock after an hour and fails while the lock is still being acquired.
task<void> impatient(orchestration_context& ctx) {
  std::vector<entity_id> two{acct(0), acct(1)};
  auto lock = ctx.lock_entities(two);
  auto timeout = ctx.create_timer(1h);
  if (co_await when_any(lock, timeout) == 1) throw std::runtime_error("gave up waiting for the lock");
}

task<void> hold_two_hours(orchestration_context& ctx) {
  std::vector<entity_id> one{acct(1)};
  auto lock = co_await ctx.lock_entities(one);
  co_await ctx.create_timer(2h);
}

// The grant that reaches the failed Impatient later (kept in its history for a rewind) must not
// leave the accounts locked: a later section takes them.
task<int> after_an_impatient_one(orchestration_context& ctx) {
  auto holder = ctx.call_sub_orchestration("HoldTwoHours");
  co_await ctx.create_timer(1min);
  try {
    co_await ctx.call_sub_orchestration("Impatient");
  } catch (const task_failed&) {
  }
  co_await holder;
  std::vector<entity_id> two{acct(0), acct(1)};
  auto lock = co_await ctx.lock_entities(two);
  co_return co_await ctx.call_entity<int>(acct(0), "get");
}

registry functions() {
  registry r;
  r.add_entity("Account", account);
  r.add_orchestration("Transfer", transfer);
  r.add_orchestration("Audit", audit);
  r.add_orchestration("Bank", bank);
  r.add_orchestration("HoldAcrossTimer", hold_across_timer);
  r.add_orchestration("HoldForever", hold_forever);
  r.add_orchestration("OppositeOrders", opposite_orders);
  r.add_orchestration("BreakRule", break_rule);
  r.add_orchestration("LockThenRead", lock_then_read);
  r.add_orchestration("BreakThenLock", break_then_lock);
  r.add_orchestration("Impatient", impatient);
  r.add_orchestration("HoldTwoHours", hold_two_hours);
  r.add_orchestration("AfterAnImpatientOne", after_an_impatient_one);
  return r;
}

events::entity_operation client_signal(std::string operation, int input) {
  return events::entity_operation{std::move(operation), std::to_string(input), {}, {}, -1};
}

int balance(const orchestration_tester& tester, int i) { return std::stoi(tester.entity(acct(i))->state); }

}  // namespace

TEST_CASE("lock_entities: concurrent transfers never create or lose money, and every audit under lock sees the total") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("Bank");
  REQUIRE(result.status == runtime_status::completed);
  const auto totals = result.output_as<std::vector<int>>();
  REQUIRE(totals.size() == 7);
  for (int total : totals) CHECK(total == accounts * initial_balance);
  int sum = 0;
  for (int i = 0; i < accounts; ++i) {
    CHECK(balance(tester, i) >= 0);
    sum += balance(tester, i);
  }
  CHECK(sum == accounts * initial_balance);
  CHECK(balance(tester, 0) != initial_balance);  // transfers did happen
}

TEST_CASE("lock_entities: a client's signal sent while an orchestration holds the entity runs after the release") {
  registry r = functions();
  orchestration_tester tester(r);
  tester.schedule(30min, client_signal("deposit", 5), acct(0).instance_id());
  const auto& result = tester.run("HoldAcrossTimer");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<std::vector<int>>() == std::vector<int>{0, 0, 5});
  CHECK(balance(tester, 0) == 5);
}

TEST_CASE("lock_entities: two sections taking the same entities in opposite orders do not deadlock") {
  registry r = functions();
  orchestration_tester tester(r);
  tester.schedule(0s, client_signal("deposit", 10), acct(0).instance_id());
  tester.schedule(0s, client_signal("deposit", 10), acct(1).instance_id());
  const auto& result = tester.run("OppositeOrders");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<int>() == 20);
}

TEST_CASE("lock_entities: the lock and its calls are recorded in the history, and the end of the section releases it") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("LockThenRead");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<int>() == 0);
  int locks = 0;
  int unlocks = 0;
  for (const auto& e : result.events) {
    if (auto* call = std::get_if<events::entity_called>(&e.payload); call && call->operation == "$lock") ++locks;
    if (auto* signal = std::get_if<events::entity_signaled>(&e.payload); signal && signal->operation == "$unlock")
      ++unlocks;
  }
  CHECK(locks == 1);
  CHECK(unlocks == 1);  // the handle went out of scope at co_return
}

TEST_CASE("lock_entities: a terminated holder's locks are released, and what waited behind them runs") {
  registry r = functions();
  orchestration_tester tester(r);
  tester.terminate("enough", 2h);
  tester.schedule(1h, client_signal("deposit", 3), acct(0).instance_id());
  tester.schedule(1h, client_signal("deposit", 4), acct(1).instance_id());
  const auto& result = tester.run("HoldForever");
  CHECK(result.status == runtime_status::terminated);
  REQUIRE(tester.entity(acct(0)).has_value());
  REQUIRE(tester.entity(acct(1)).has_value());
  CHECK(balance(tester, 0) == 3);
  CHECK(balance(tester, 1) == 4);
}

TEST_CASE("lock_entities: the rules of a critical section are refused with an error that says which") {
  registry r = functions();
  const std::vector<std::pair<std::string, std::string>> rules{
      {"nested", "sections do not nest"},
      {"unlocked call", "does not lock it"},
      {"signal locked", "call it (co_await) instead"},
      {"sub-orchestration", "would not hold the lock"},
      {"reserved", "reserved for Perdure"},
  };
  for (const auto& [rule, says] : rules) {
    CAPTURE(rule);
    orchestration_tester tester(r);
    const auto& result = tester.run("BreakRule", rule);
    REQUIRE(result.status == runtime_status::completed);
    CHECK(result.output_as<std::string>().find(says) != std::string::npos);
  }
  orchestration_tester tester(r);
  CHECK(tester.run("BreakThenLock").status == runtime_status::completed);
}

TEST_CASE("lock_entities: a grant that reaches a holder which failed while acquiring is released") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("AfterAnImpatientOne");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<int>() == 0);
}
