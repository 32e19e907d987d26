#include "ip_guard.hpp"

#include "defenses.hpp"

#include <perdure/combinators.hpp>

#include <algorithm>
#include <memory>

namespace security {

namespace {

int64_t to_ms(perdure::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

perdure::time_point from_ms(int64_t ms) { return perdure::time_point(std::chrono::milliseconds(ms)); }

block_rule to_rule(const guard_state& state, const std::string& reason) {
  return block_rule{state.ip, state.blocked_until_ms, state.offenses, reason};
}

}  // namespace

perdure::task<void> guard_ip(perdure::orchestration_context& ctx, guard_state state) {
  ctx.set_custom_status(state);
  // While blocked, the guard stays in this execution and continues as new only once the block is
  // lifted, so that no expiry timer of a finished execution is left pending.
  for (;;) {
    auto next = ctx.wait_for_event<request>("NotFound");
    if (state.blocked_until_ms != 0) {
      auto expiry = ctx.create_timer(from_ms(state.blocked_until_ms));
      if (co_await perdure::when_any(next, expiry) == 1) {
        co_await ctx.call_activity("UnblockIp", state.ip);
        state.blocked_until_ms = 0;
        break;
      }
    }
    const request r = co_await next;
    const auto v = co_await ctx.call_activity<verdict>("AnalyzeRequest", r);
    if (v.block) {
      // A repeat offender's block is extended from its current end, not restarted.
      ++state.offenses;
      state.blocked_until_ms = std::max(state.blocked_until_ms, to_ms(ctx.current_time())) + state.block_ms;
      co_await ctx.call_activity("BlockIp", to_rule(state, v.reason));
      ctx.set_custom_status(state);
    }
    if (state.blocked_until_ms == 0) break;
  }
  ctx.continue_as_new(state, /*keep_unprocessed_events=*/true);
}

void register_security(perdure::host& host, const std::filesystem::path& dir) {
  auto feed = std::make_shared<threat_feed>(dir / "threat-feed.txt");
  auto rules = std::make_shared<firewall>(dir);
  host.add_orchestration("GuardIp", guard_ip);
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
