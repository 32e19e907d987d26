#include "schedule_state.hpp"

#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

namespace perdure::detail {

namespace {

using nlohmann::json;

json time_json(std::optional<time_point> t) { return t ? json(t->time_since_epoch().count()) : json(); }

std::optional<time_point> time_of(const json& j) {
  if (j.is_null()) return std::nullopt;
  return time_point(std::chrono::nanoseconds(j.get<int64_t>()));
}

json spec_json(const schedule_spec& s) {
  return json{{"id", s.id},
              {"cron", s.cron},
              {"interval_s", s.interval.count()},
              {"time_zone", s.time_zone},
              {"orchestration", s.orchestration},
              {"input", s.input},
              {"overlap", to_string(s.overlap)},
              {"catch_up_window_s", s.catch_up_window.count()},
              {"paused", s.paused},
              {"start_at", time_json(s.start_at)},
              {"end_at", time_json(s.end_at)}};
}

schedule_spec spec_of(const json& j) {
  schedule_spec s;
  s.id = j.at("id").get<std::string>();
  s.cron = j.at("cron").get<std::string>();
  s.interval = std::chrono::seconds(j.at("interval_s").get<int64_t>());
  s.time_zone = j.at("time_zone").get<std::string>();
  s.orchestration = j.at("orchestration").get<std::string>();
  s.input = j.at("input").get<std::string>();
  const auto policy = parse_overlap_policy(j.at("overlap").get<std::string>());
  if (!policy) throw payload_error("unknown overlap policy " + j.at("overlap").dump());
  s.overlap = *policy;
  s.catch_up_window = std::chrono::seconds(j.at("catch_up_window_s").get<int64_t>());
  s.paused = j.at("paused").get<bool>();
  s.start_at = time_of(j.at("start_at"));
  s.end_at = time_of(j.at("end_at"));
  return s;
}

json run_json(const schedule_run& r) {
  return json{{"instance_id", r.instance_id}, {"at", time_json(r.scheduled_at)}, {"triggered", r.triggered}};
}

schedule_run run_of(const json& j) {
  return schedule_run{j.at("instance_id").get<std::string>(), *time_of(j.at("at")), j.at("triggered").get<bool>(), {}};
}

constexpr std::pair<schedule_command_kind, const char*> command_names[] = {
    {schedule_command_kind::pause, "pause"},
    {schedule_command_kind::resume, "resume"},
    {schedule_command_kind::trigger, "trigger"},
    {schedule_command_kind::update, "update"},
};

// nlohmann's own exceptions (a missing key, a wrong type) become the payload_error the callers expect.
template <class F>
auto decoding(const char* what, F&& f) {
  try {
    return f();
  } catch (const json::exception& e) {
    throw payload_error(std::string("cannot decode the schedule's ") + what + ": " + e.what());
  }
}

}  // namespace

std::string encode_schedule_state(const schedule_state& state) {
  json runs = json::array();
  for (const auto& r : state.recent_runs) runs.push_back(run_json(r));
  return json{{"spec", spec_json(state.spec)},
              {"after", time_json(state.after)},
              {"recent_runs", std::move(runs)},
              {"waiting_on", state.waiting_on},
              {"buffered", state.buffered ? run_json(*state.buffered) : json()},
              {"skipped", state.skipped},
              {"missed", state.missed},
              {"triggers", state.triggers}}
      .dump();
}

schedule_state decode_schedule_state(std::string_view text) {
  return decoding("state", [&] {
    const json j = json::parse(text);
    schedule_state state;
    state.spec = spec_of(j.at("spec"));
    state.after = time_of(j.at("after"));
    for (const auto& r : j.at("recent_runs")) state.recent_runs.push_back(run_of(r));
    state.waiting_on = j.at("waiting_on").get<std::string>();
    if (!j.at("buffered").is_null()) state.buffered = run_of(j.at("buffered"));
    state.skipped = j.at("skipped").get<uint64_t>();
    state.missed = j.at("missed").get<uint64_t>();
    state.triggers = j.at("triggers").get<uint64_t>();
    return state;
  });
}

std::string encode_schedule_command(const schedule_command& command) {
  json j{{"command", ""}};
  for (const auto& [kind, name] : command_names)
    if (kind == command.kind) j["command"] = name;
  if (command.spec) j["spec"] = spec_json(*command.spec);
  return j.dump();
}

schedule_command decode_schedule_command(std::string_view text) {
  return decoding("command", [&] {
    const json j = json::parse(text);
    const auto name = j.at("command").get<std::string>();
    schedule_command command;
    bool known = false;
    for (const auto& [kind, n] : command_names)
      if (name == n) {
        command.kind = kind;
        known = true;
      }
    if (!known) throw payload_error("unknown schedule command '" + name + "'");
    if (command.kind == schedule_command_kind::update) command.spec = spec_of(j.at("spec"));
    return command;
  });
}

}  // namespace perdure::detail
