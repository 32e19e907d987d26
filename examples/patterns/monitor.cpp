#include "patterns.hpp"

namespace patterns {

namespace {
int64_t to_ms(perdure::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

perdure::task<std::string> watch_job(perdure::orchestration_context& ctx, watch w) {
  if (w.deadline_ms == 0) w.deadline_ms = to_ms(ctx.current_time()) + w.timeout_ms;
  const auto state = co_await ctx.call_activity<std::string>("CheckJob", w.job_id);
  ++w.checks;
  ctx.set_custom_status(nlohmann::json{{"job_state", state}, {"checks", w.checks}});
  if (state == "done") co_return "done after " + std::to_string(w.checks) + " checks";
  if (to_ms(ctx.current_time()) + w.interval_ms > w.deadline_ms) {
    co_await ctx.call_activity("Alert", w.job_id + " is still " + state + " at its deadline");
    co_return "deadline passed after " + std::to_string(w.checks) + " checks";
  }
  co_await ctx.create_timer(std::chrono::milliseconds(w.interval_ms));
  ctx.continue_as_new(w);  // one round per execution: the history never grows
  co_return std::string();  // dropped: the next execution's result is the instance's
}

}  // namespace patterns
