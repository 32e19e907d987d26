#include "purge_by_filter.hpp"

#include <string>
#include <vector>

namespace perdure {

size_t purge_finished(client& hub, const instance_query& filter) {
  instance_query query = filter;
  query.statuses.clear();
  for (auto s : filter.statuses.empty() ? std::vector<runtime_status>(all_runtime_statuses.begin(), all_runtime_statuses.end())
                                        : filter.statuses)
    if (is_terminal(s)) query.statuses.push_back(s);
  if (query.statuses.empty()) return 0;
  query.page_size = 500;
  query.continuation_token.clear();
  std::vector<std::string> ids;
  do {
    auto page = hub.list(query);
    for (auto& record : page.records) ids.push_back(std::move(record.instance_id));
    query.continuation_token = std::move(page.continuation_token);
  } while (!query.continuation_token.empty());
  size_t purged = 0;
  for (const auto& id : ids) {
    try {
      purged += hub.purge(id) ? 1 : 0;
    } catch (const invalid_argument_error&) {
      // Restarted since it was listed: no longer finished, so not purged.
    }
  }
  return purged;
}

}  // namespace perdure
