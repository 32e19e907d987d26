#include "patterns.hpp"

#include <perdure/combinators.hpp>

#include <vector>

namespace patterns {

perdure::task<directory_size> directory_size_of(perdure::orchestration_context& ctx, std::string directory) {
  const auto files = co_await ctx.call_activity<std::vector<std::string>>("ListFiles", directory);
  std::vector<perdure::task<int64_t>> sizes;
  for (const auto& file : files) sizes.push_back(ctx.call_activity<int64_t>("FileSize", file));
  directory_size total{static_cast<int>(files.size()), 0};
  for (int64_t bytes : co_await perdure::when_all(std::move(sizes))) total.bytes += bytes;
  co_return total;
}

}  // namespace patterns
