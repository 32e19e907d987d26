#include "http_page_size.hpp"

#include <perdure/replay.hpp>
#include <perdure/replay_check.hpp>

namespace perdure {
namespace {

// Replays one instance's history into the report.
void check_instance(const instance_record& instance, const history& events, const registry& functions,
                    replay_check_report& report) {
  try {
    if (auto mismatch = check_replay(events, functions)) {
      report.mismatches.push_back(replay_mismatch{instance.instance_id, instance.name, instance.version,
                                                  mismatch->position(), mismatch->in_history(),
                                                  mismatch->in_code()});
    }
    ++report.checked;
  } catch (const unknown_orchestration_error& e) {
    report.not_registered.push_back(replay_not_registered{instance.instance_id, instance.name, instance.version, e.what()});
  }
}

}  // namespace

instance_query instances_to_replay_check() {
  instance_query q;
  q.statuses = {runtime_status::running, runtime_status::suspended};
  q.page_size = max_page_size;  // the largest page a node answers: fewer round trips across a cluster
  return q;
}

replay_check_report replay_check(client& hub, const registry& functions, instance_query filter) {
  replay_check_report report;
  do {
    const instance_page page = hub.list(filter);
    for (const auto& instance : page.records) {
      history events;
      try {
        events = hub.history(instance.instance_id);
      } catch (const instance_not_found&) {
        continue;  // purged since it was listed (a filter may include finished instances)
      }
      if (events.empty()) continue;  // nothing stored to replay yet
      check_instance(instance, events, functions, report);
    }
    filter.continuation_token = page.continuation_token;
  } while (!filter.continuation_token.empty());
  return report;
}

}  // namespace perdure
