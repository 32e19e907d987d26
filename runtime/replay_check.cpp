#include "replay_check_source.hpp"

#include "http_page_size.hpp"

#include <perdure/replay.hpp>

#include <algorithm>
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

replay_check_report replay_check(const instance_source& source, const registry& functions, instance_query filter) {
  replay_check_report report;
  do {
    const instance_page page = source.list(filter);
    for (const auto& instance : page.records) {
      history events;
      try {
        events = source.history_of(instance.instance_id);
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

replay_check_report replay_check(client& hub, const registry& functions, instance_query filter) {
  return replay_check(instance_source{[&](const instance_query& q) { return hub.list(q); },
                                      [&](std::string_view id) { return hub.history(id); }},
                      functions, std::move(filter));
}

std::string replay_check_refusal(const replay_check_report& report) {
  constexpr size_t listed = 10;
  std::string text = "this code no longer replays the history of " + std::to_string(report.mismatches.size()) +
                     " of the " + std::to_string(report.checked) + " running instance(s) checked:";
  for (size_t i = 0; i < std::min(listed, report.mismatches.size()); ++i) {
    const auto& m = report.mismatches[i];
    text += "\n  " + m.instance_id + " (" + m.name + " v" + std::to_string(m.version) + ") at history position " +
            std::to_string(m.position) + ": the history holds " + m.in_history + " but the code did " + m.in_code;
  }
  if (report.mismatches.size() > listed)
    text += "\n  and " + std::to_string(report.mismatches.size() - listed) + " more";
  return text + "\n(`perdure replay-check` against a node running this code lists them all; deploy code that "
                "replays them, or start without --check-before-serving to let them stall)";
}

}  // namespace perdure
