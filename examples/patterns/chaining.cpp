#include "patterns.hpp"

namespace patterns {

// Each step is its own activity (retried, recorded); the orchestration only passes values along.
perdure::task<std::string> price_chain(perdure::orchestration_context& ctx, int usd_cents) {
  const int eur_cents = co_await ctx.call_activity<int>("ToEuros", usd_cents);
  const int with_vat = co_await ctx.call_activity<int>("AddVat", eur_cents);
  co_return co_await ctx.call_activity<std::string>("FormatEuros", with_vat);
}

}  // namespace patterns
