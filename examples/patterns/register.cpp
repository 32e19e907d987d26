#include "examples/common/jsonl_table.hpp"
#include "patterns.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

namespace patterns {

void register_patterns(perdure::host& host, const std::filesystem::path& dir) {
  host.add_orchestration("PriceChain", price_chain);
  host.add_activity("ToEuros", [](perdure::activity_context&, int usd_cents) { return usd_cents * 92 / 100; });
  host.add_activity("AddVat", [](perdure::activity_context&, int cents) { return cents * 119 / 100; });
  host.add_activity("FormatEuros", [](perdure::activity_context&, int cents) {
    char text[32];
    std::snprintf(text, sizeof text, "EUR %d.%02d", cents / 100, cents % 100);
    return std::string(text);
  });

  host.add_orchestration("DirectorySize", directory_size_of);
  host.add_activity("ListFiles", [](perdure::activity_context&, const std::string& directory) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(directory))
      if (entry.is_regular_file()) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
  });
  host.add_activity("FileSize", [](perdure::activity_context&, const std::string& file) {
    return static_cast<int64_t>(std::filesystem::file_size(file));
  });

  host.add_orchestration("SlowReport", slow_report);
  host.add_activity("WriteSection", [](perdure::activity_context&, int section) {
    return "[section " + std::to_string(section) + "]";
  });

  auto jobs = std::make_shared<examples::jsonl_table>(dir / "jobs.jsonl", "job_id");
  // Messages are keyed by the call's idempotency key: the same on every re-run of the activity, and
  // unlike a task id, not repeated by WatchJob's next execution (continue-as-new).
  auto inbox = std::make_shared<examples::jsonl_table>(dir / "inbox.jsonl", "message_id");
  auto deliver = [inbox](const perdure::activity_context& ctx, nlohmann::json message) {
    message["message_id"] = ctx.idempotency_key();
    inbox->insert(message);
  };

  host.add_orchestration("WatchJob", watch_job);
  host.add_activity("CheckJob", [jobs](perdure::activity_context&, const std::string& job_id) {
    auto job = jobs->get(job_id);
    return job ? (*job)["state"].get<std::string>() : std::string("unknown");
  });
  host.add_activity("Alert", [deliver](perdure::activity_context& ctx, const std::string& text) {
    deliver(ctx, {{"to", "on-call"}, {"text", text}});
  });

  host.add_orchestration("Approval", approval);
  host.add_activity("AskForApproval", [deliver](perdure::activity_context& ctx, const nlohmann::json& ask) {
    deliver(ctx, ask);
  });

  host.add_entity("Cart", cart);
  host.add_orchestration("Checkout", checkout);
  // Keyed by the idempotency key: a charge re-run after a crash is recorded once.
  auto charges = std::make_shared<examples::jsonl_table>(dir / "charges.jsonl", "charge_id");
  host.add_activity("ChargeCard", [charges](perdure::activity_context& ctx, const order_summary& order) {
    charges->insert({{"charge_id", ctx.idempotency_key()}, {"cart", order.cart}, {"cents", order.total_cents}});
  });
}

}  // namespace patterns
