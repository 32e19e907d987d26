#include "ip_guard.hpp"

#include "defenses.hpp"

#include <algorithm>
#include <memory>
#include <vector>

namespace security {

namespace {

int64_t to_ms(perdure::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

perdure::time_point from_ms(int64_t ms) { return perdure::time_point(std::chrono::milliseconds(ms)); }

// block(offense) -> the IP's rule, its block extended from its current end; expire(rule) lifts the
// block if it still ends then (a later offense moved its end, and its own expiry comes later), by
// starting "LiftBlock", which tells the firewall; lifted(ip) -> whether the IP's block is lifted.
void block_list_entity(perdure::entity_context& ctx) {
  auto list = ctx.state<block_list>();
  if (ctx.operation() == "block") {
    const auto o = ctx.input<offense>();
    auto& rule = list[o.ip];
    rule.ip = o.ip;
    rule.until_ms = std::max(rule.until_ms, o.now_ms) + o.block_ms;
    ++rule.offenses;
    rule.reason = o.reason;
    ctx.set_state(list);
    ctx.return_value(rule);
  } else if (ctx.operation() == "expire") {
    const auto expiring = ctx.input<block_rule>();
    auto found = list.find(expiring.ip);
    if (found == list.end() || found->second.until_ms != expiring.until_ms) return;
    found->second.until_ms = 0;
    ctx.set_state(list);
    ctx.start_orchestration("LiftBlock", expiring.ip);
  } else if (ctx.operation() == "lifted") {
    const auto found = list.find(ctx.input<std::string>());
    ctx.return_value(found == list.end() || found->second.until_ms == 0);
  } else {
    throw std::invalid_argument("BlockList has no operation '" + ctx.operation() + "'");
  }
}

// The firewall is changed only inside a critical section on the block list, so its rules follow
// the block list's order: an unblock that is slow to reach the firewall cannot land after a newer
// block of the same IP, and a block cannot land after an unblock that its lift already decided.
perdure::task<void> lift_block(perdure::orchestration_context& ctx, std::string ip) {
  std::vector<perdure::entity_id> locked{block_list_id()};
  auto section = co_await ctx.lock_entities(std::move(locked));
  if (co_await ctx.call_entity<bool>(block_list_id(), "lifted", ip)) co_await ctx.call_activity("UnblockIp", ip);
}

}  // namespace

perdure::entity_id block_list_id() { return perdure::entity_id{"BlockList", "firewall"}; }

perdure::task<void> guard_ip(perdure::orchestration_context& ctx, guard_state state) {
  ctx.set_custom_status(state);
  const request r = co_await ctx.wait_for_event<request>("NotFound");
  const auto v = co_await ctx.call_activity<verdict>("AnalyzeRequest", r);
  if (v.block) {
    ++state.offenses;
    const offense o{state.ip, state.block_ms, to_ms(ctx.current_time()), v.reason};
    std::vector<perdure::entity_id> locked{block_list_id()};
    auto section = co_await ctx.lock_entities(std::move(locked));  // see lift_block
    const auto rule = co_await ctx.call_entity<block_rule>(block_list_id(), "block", o);
    co_await ctx.call_activity("BlockIp", rule);
    section.release();
    // The block's end is the block list's own durable timer: nothing waits here.
    ctx.signal_entity(block_list_id(), "expire", rule, from_ms(rule.until_ms));
  }
  ctx.continue_as_new(state, /*keep_unprocessed_events=*/true);
}

void register_security(perdure::host& host, const std::filesystem::path& dir) {
  auto feed = std::make_shared<threat_feed>(dir / "threat-feed.txt");
  auto rules = std::make_shared<firewall>(dir);
  host.add_orchestration("GuardIp", guard_ip);
  host.add_orchestration("LiftBlock", lift_block);
  host.add_entity("BlockList", block_list_entity);
  host.add_activity("AnalyzeRequest", [feed](perdure::activity_context&, const request& r) {
    if (!is_admin_probe(r.path)) return verdict{false, "ordinary 404"};
    if (!feed->lists(r.ip)) return verdict{false, "admin probe from an IP not in the threat feed"};
    return verdict{true, "probed " + r.path + " from a threat-feed IP"};
  });
  host.add_activity("BlockIp", [rules](perdure::activity_context&, const block_rule& b) {
    rules->block(b.ip, b.until_ms, b.offenses, b.reason);
  });
  host.add_activity("UnblockIp", [rules](perdure::activity_context&, const std::string& ip) {
    rules->unblock(ip);
  });
}

std::string guard_id(const std::string& ip) { return "ip-" + ip; }

void report_404(perdure::client& client, const request& r, std::chrono::milliseconds block_for) {
  if (!is_admin_probe(r.path)) return;
  perdure::start_options start;
  start.instance_id = guard_id(r.ip);
  start.when_running = perdure::if_running::return_existing;  // the guard lives until terminated
  client.start("GuardIp", nlohmann::json(guard_state{r.ip, block_for.count()}).dump(), start);
  client.raise_event(start.instance_id, "NotFound", nlohmann::json(r).dump());
}

}  // namespace security
