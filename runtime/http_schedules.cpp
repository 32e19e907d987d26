#include "http_schedules.hpp"

#include "http_errors.hpp"
#include "http_json.hpp"
#include "http_time.hpp"

#include <perdure/errors.hpp>
#include <perdure/schedule.hpp>

#include <nlohmann/json.hpp>

namespace perdure {

namespace {

using nlohmann::json;

constexpr size_t max_next_fire_times = 100;

http::response json_response(int status, const json& body) {
  return http::response{status, "application/json", {}, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

[[noreturn]] void bad_request(const std::string& message) { throw http_error(400, "InvalidArgument", message); }

[[noreturn]] void no_schedule(const std::string& id) { throw http_error(404, "ScheduleNotFound", "no schedule '" + id + "'"); }

std::optional<time_point> time_field(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  if (!body[name].is_string()) bad_request(std::string(name) + " must be an ISO 8601 time string");
  const auto text = body[name].get<std::string>();
  auto t = parse_iso8601(text);
  if (!t) bad_request(std::string(name) + " is not an ISO 8601 time: '" + text + "'");
  return t;
}

template <class T>
T field(const json& body, const char* name, T fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  try {
    return body[name].get<T>();
  } catch (const json::exception&) {
    bad_request(std::string(name) + " has the wrong type: " + body[name].dump());
  }
}

int64_t seconds_field(const json& body, const char* name, int64_t fallback) {
  if (body.contains(name) && !body[name].is_null() && !body[name].is_number_integer())
    bad_request(std::string(name) + " must be a whole number of seconds, not " + body[name].dump());
  return field<int64_t>(body, name, fallback);
}

// The body of a create or an update: the spec, in the API's names (docs/http-api.md).
schedule_spec spec_of(const std::string& text, const std::string& id) {
  json body;
  try {
    body = json::parse(text);
  } catch (const json::exception& e) {
    throw http_error(400, "InvalidJson", std::string("the schedule is not JSON: ") + e.what());
  }
  if (!body.is_object()) bad_request("the schedule must be a JSON object");
  schedule_spec spec;
  spec.id = field<std::string>(body, "id", id);
  if (!id.empty() && spec.id != id) bad_request("the body's id '" + spec.id + "' is not the URL's '" + id + "'");
  spec.cron = field<std::string>(body, "cron", "");
  spec.time_zone = field<std::string>(body, "timeZone", "UTC");
  spec.interval = std::chrono::seconds(seconds_field(body, "intervalSeconds", 0));
  spec.orchestration = field<std::string>(body, "orchestration", "");
  if (body.contains("input") && !body["input"].is_null()) spec.input = body["input"].dump();
  const auto overlap = field<std::string>(body, "overlap", to_string(overlap_policy::skip));
  const auto policy = parse_overlap_policy(overlap);
  if (!policy) bad_request("unknown overlap policy '" + overlap + "' (skip, bufferOne, allowAll or cancelPrevious)");
  spec.overlap = *policy;
  spec.catch_up_window = std::chrono::seconds(seconds_field(body, "catchUpWindowSeconds", spec.catch_up_window.count()));
  spec.paused = field<bool>(body, "paused", false);
  spec.start_at = time_field(body, "startTime");
  spec.end_at = time_field(body, "endTime");
  return spec;
}

json time_json(std::optional<time_point> t) { return t ? json(format_iso8601(*t)) : json(); }

json run_json(const schedule_run& run) {
  return json{{"instanceId", run.instance_id},
              {"scheduledTime", format_iso8601(run.scheduled_at)},
              {"triggered", run.triggered},
              {"runtimeStatus", run.status ? json(to_string(*run.status)) : json()}};
}

json description_json(const schedule_description& d) {
  const schedule_spec& s = d.spec;
  json next = json::array();
  for (auto t : d.next_fire_times) next.push_back(format_iso8601(t));
  json runs = json::array();
  for (const auto& r : d.recent_runs) runs.push_back(run_json(r));
  return json{{"id", s.id},
              {"instanceId", schedule_instance_id(s.id)},
              {"runtimeStatus", to_string(d.status)},
              {"cron", s.cron.empty() ? json() : json(s.cron)},
              {"timeZone", s.time_zone},
              {"intervalSeconds", s.interval.count() == 0 ? json() : json(s.interval.count())},
              {"orchestration", s.orchestration},
              {"input", payload_json(s.input)},
              {"overlap", to_string(s.overlap)},
              {"catchUpWindowSeconds", s.catch_up_window.count()},
              {"paused", s.paused},
              {"startTime", time_json(s.start_at)},
              {"endTime", time_json(s.end_at)},
              {"nextFireTimes", std::move(next)},
              {"recentRuns", std::move(runs)},
              {"waitingOn", d.waiting_on.empty() ? json() : json(d.waiting_on)},
              {"buffered", d.buffered ? run_json(*d.buffered) : json()},
              {"skipped", d.skipped},
              {"missed", d.missed}};
}

size_t next_param(const http::request& req) {
  if (!req.has_param("next")) return 5;
  const std::string value = req.param("next");
  size_t used = 0;
  size_t parsed = 0;
  try {
    parsed = std::stoul(value, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || parsed > max_next_fire_times)
    bad_request("next must be a number from 0 to " + std::to_string(max_next_fire_times) + ", not '" + value + "'");
  return parsed;
}

// A command to a schedule that does not exist is the schedule's 404, not its instance's.
template <class F>
http::response command(const std::string& id, F&& f) {
  try {
    f();
  } catch (const instance_not_found&) {
    no_schedule(id);
  }
  return http::response{202, "application/json", {}, {}};
}

}  // namespace

std::optional<http::response> route_schedules(const http::request& req, client& hub) {
  const auto& s = req.segments;
  if (s.size() < 2 || s[0] != "api" || s[1] != "schedules") return std::nullopt;
  const std::string& m = req.method;
  schedule_client schedules(hub);
  if (s.size() == 2 && m == "POST") {
    const schedule_spec spec = spec_of(req.body, "");
    schedules.create(spec);
    return json_response(201, json{{"id", spec.id}, {"instanceId", schedule_instance_id(spec.id)}});
  }
  if (s.size() == 2 && m == "GET") {
    json out = json::array();
    for (const auto& d : schedules.list()) out.push_back(description_json(d));
    return json_response(200, json{{"schedules", std::move(out)}});
  }
  if (s.size() == 3) {
    const std::string& id = s[2];
    if (m == "GET") {
      auto d = schedules.describe(id, next_param(req));
      if (!d) no_schedule(id);
      return json_response(200, description_json(*d));
    }
    if (m == "PUT") return command(id, [&] { schedules.update(spec_of(req.body, id)); });
    if (m == "DELETE") {
      if (!schedules.remove(id)) no_schedule(id);
      return json_response(200, json{{"deleted", id}});
    }
  }
  if (s.size() == 4 && m == "POST") {
    const std::string& id = s[2];
    if (s[3] == "pause") return command(id, [&] { schedules.pause(id); });
    if (s[3] == "resume") return command(id, [&] { schedules.resume(id); });
    if (s[3] == "trigger") return command(id, [&] { schedules.trigger(id); });
  }
  return http::response{404, "application/json", {},
                        error_body("NotFound", "no route for " + m + " " + req.path)};
}

}  // namespace perdure
