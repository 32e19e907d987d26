#include "patterns.hpp"

namespace patterns {

// Long enough that the HTTP caller polls a few times; the custom status shows the progress.
perdure::task<std::string> slow_report(perdure::orchestration_context& ctx, int sections) {
  std::string report;
  for (int i = 1; i <= sections; ++i) {
    ctx.set_custom_status(nlohmann::json{{"section", i}, {"of", sections}});
    co_await ctx.create_timer(std::chrono::milliseconds(300));
    report += co_await ctx.call_activity<std::string>("WriteSection", i);
  }
  co_return report;
}

}  // namespace patterns
