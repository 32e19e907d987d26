// schedule_client: schedules are instances of perdure.schedule, so managing them is starting,
// signalling, reading, terminating and purging those instances through any perdure::client.
#include "instance_ids.hpp"
#include "schedule_host.hpp"

#include "model/schedule_state.hpp"

#include <perdure/errors.hpp>
#include <perdure/schedule.hpp>

namespace perdure {

namespace {

// The spec the schedule runs with: its custom status once it ran an episode, its input before.
detail::schedule_state state_of(const instance_record& record) {
  return detail::decode_schedule_state(record.custom_status.empty() ? record.input : record.custom_status);
}

void check(const schedule_spec& spec) {
  validate(spec);
  require_valid_instance_id(schedule_instance_id(spec.id));
}

schedule_description description_of(const instance_record& record, time_point now, size_t next) {
  detail::schedule_state state = state_of(record);
  schedule_description d;
  d.status = record.status;
  if (!state.spec.paused && !is_terminal(record.status))
    d.next_fire_times = next_fire_times(state.spec, std::max(now, state.after.value_or(now)), next);
  d.spec = std::move(state.spec);
  d.recent_runs = std::move(state.recent_runs);
  d.waiting_on = std::move(state.waiting_on);
  d.buffered = std::move(state.buffered);
  d.skipped = state.skipped;
  d.missed = state.missed;
  return d;
}

}  // namespace

void schedule_client::create(const schedule_spec& spec) {
  check(spec);
  if (next_fire_times(spec, clock::now(), 1).empty())
    throw invalid_argument_error("schedule '" + spec.id + "' would never fire: no tick comes after now" +
                                 (spec.end_at ? " and before its end time" : ""));
  detail::schedule_state state;
  state.spec = spec;
  start_options options;
  options.instance_id = schedule_instance_id(spec.id);
  hub_.start(schedule_orchestration_name, detail::encode_schedule_state(state), options);
}

std::vector<schedule_description> schedule_client::list() {
  std::vector<schedule_description> out;
  instance_query query;
  query.name = schedule_orchestration_name;
  query.page_size = 1000;
  const time_point now = clock::now();
  do {
    instance_page page = hub_.list(query);
    for (const auto& record : page.records) out.push_back(description_of(record, now, 1));
    query.continuation_token = std::move(page.continuation_token);
  } while (!query.continuation_token.empty());
  return out;
}

std::optional<schedule_description> schedule_client::describe(std::string_view id, size_t next) {
  const auto record = hub_.status(schedule_instance_id(id));
  if (!record) return std::nullopt;
  schedule_description d = description_of(*record, clock::now(), next);
  for (auto& run : d.recent_runs)
    if (auto run_record = hub_.status(run.instance_id)) run.status = run_record->status;
  return d;
}

void schedule_client::command(std::string_view id, const std::string& json) {
  hub_.raise_event(schedule_instance_id(id), detail::schedule_command_event, json);
}

void schedule_client::pause(std::string_view id) {
  command(id, detail::encode_schedule_command({detail::schedule_command_kind::pause, {}}));
}

void schedule_client::resume(std::string_view id) {
  command(id, detail::encode_schedule_command({detail::schedule_command_kind::resume, {}}));
}

void schedule_client::trigger(std::string_view id) {
  command(id, detail::encode_schedule_command({detail::schedule_command_kind::trigger, {}}));
}

void schedule_client::update(const schedule_spec& spec) {
  check(spec);
  command(spec.id, detail::encode_schedule_command({detail::schedule_command_kind::update, spec}));
}

void register_schedules(registry& functions, std::function<client&()> hub) {
  add_schedule_functions(functions, [hub = std::move(hub)](const std::string& instance_id, const std::string& reason) {
    try {
      hub().terminate(instance_id, reason);
    } catch (const instance_finished&) {
      // it ended on its own meanwhile
    } catch (const instance_not_found&) {
      // it was purged meanwhile
    }
  });
}

bool schedule_client::remove(std::string_view id) {
  const std::string instance_id = schedule_instance_id(id);
  const auto record = hub_.status(instance_id);
  if (!record) return false;
  if (!is_terminal(record->status)) {
    try {
      hub_.terminate(instance_id, "schedule deleted");
    } catch (const instance_finished&) {
      // it ended (its end time) between the two calls: purge it all the same
    }
  }
  return hub_.purge(instance_id);
}

}  // namespace perdure
