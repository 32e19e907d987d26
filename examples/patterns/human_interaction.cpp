#include "patterns.hpp"

#include <optional>

namespace patterns {

perdure::task<std::string> approval(perdure::orchestration_context& ctx, approval_request r) {
  const auto timeout = std::chrono::milliseconds(r.timeout_ms);
  std::optional<bool> approved;
  // Messages are named: GCC 12 mishandles braced temporaries inside a co_await expression.
  const nlohmann::json ask{{"to", r.approver}, {"request", r.request_id}};
  co_await ctx.call_activity("AskForApproval", ask);
  ctx.set_custom_status(nlohmann::json{{"waiting_for", r.approver}});
  try {
    approved = co_await ctx.wait_for_event<bool>("Approval", timeout);
  } catch (const perdure::timeout_error&) {
    // No answer in time: escalate below (co_await is not allowed inside a catch block).
  }
  if (!approved) {
    const nlohmann::json escalation{{"to", r.manager}, {"request", r.request_id}, {"escalated", true}};
    co_await ctx.call_activity("AskForApproval", escalation);
    ctx.set_custom_status(nlohmann::json{{"waiting_for", r.manager}, {"escalated", true}});
    try {
      approved = co_await ctx.wait_for_event<bool>("Approval", timeout);
    } catch (const perdure::timeout_error&) {
      co_return std::string("rejected: nobody answered");
    }
  }
  co_return std::string(*approved ? "approved" : "rejected");
}

}  // namespace patterns
