#include "enrich_workflow.hpp"

#include "stores.hpp"

#include <perdure/combinators.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace enrichment {

perdure::task<enriched_click> enrich_click(perdure::orchestration_context& ctx, click c) {
  auto [user, item] = co_await perdure::when_all(ctx.call_activity<user_profile>("LookupUser", c.user_id),
                                                 ctx.call_activity<product>("LookupProduct", c.product_id));
  enriched_click row{c.event_id, c.user_id, c.product_id, user.loyalty_tier, user.location, item.category,
                     item.price_cents};
  co_await ctx.call_activity("AppendToWarehouse", row);
  co_return row;
}

void register_enrichment(perdure::host& host, const std::filesystem::path& dir) {
  auto data = std::make_shared<stores>(dir);
  data->seed();
  host.add_orchestration("EnrichClick", enrich_click);
  host.add_activity("LookupUser", [data](perdure::activity_context&, const std::string& id) { return data->profile(id); });
  host.add_activity("LookupProduct", [data](perdure::activity_context&, const std::string& id) { return data->item(id); });
  host.add_activity("AppendToWarehouse", [data](perdure::activity_context&, const enriched_click& row) {
    data->append(row);
  });
}

size_t submit(perdure::client& client, const std::vector<click>& clicks, size_t threads) {
  std::atomic<size_t> next{0};
  std::atomic<size_t> started{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  std::vector<std::jthread> submitters;
  for (size_t t = 0; t < threads; ++t)
    submitters.emplace_back([&] {
      try {
        for (size_t i; (i = next.fetch_add(1)) < clicks.size();) {
          const auto& c = clicks[i];
          // A finished instance would be started again as a new execution: skip it.
          if (auto record = client.status(c.event_id); record && perdure::is_terminal(record->status)) continue;
          perdure::start_options start;
          start.instance_id = c.event_id;
          start.when_running = perdure::if_running::return_existing;
          client.start("EnrichClick", nlohmann::json(c).dump(), start);
          started.fetch_add(1);
        }
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = clicks.size();  // stop the other submitters
      }
    });
  submitters.clear();  // joins
  if (failure) std::rethrow_exception(failure);
  return started.load();
}

}  // namespace enrichment
