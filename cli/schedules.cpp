#include "schedules.hpp"

#include "http_time.hpp"
#include "http_url.hpp"
#include "node_client.hpp"
#include "render.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace perdure::cli {

namespace {

using nlohmann::json;

// What create and update take from the command line; unset options leave an update's field alone.
struct spec_options {
  std::optional<std::string> cron;
  std::optional<std::string> time_zone;
  std::optional<std::string> every;
  std::optional<std::string> orchestration;
  std::optional<std::string> input;
  std::optional<std::string> input_file;
  std::optional<std::string> overlap;
  std::optional<std::string> catch_up;
  std::optional<std::string> start;
  std::optional<std::string> end;
  bool paused = false;
  bool no_end = false;
};

struct schedule_options {
  std::string id;
  spec_options spec;
  size_t next = 5;
};

void print_json(const json& value) { std::cout << value.dump(2, ' ', false, json::error_handler_t::replace) << '\n'; }

std::string schedule_target(const std::string& id) {
  if (id.empty()) throw failure(exit_code::usage, "the schedule id is empty");
  return "/api/schedules/" + percent_encode(id);
}

// "90", "90s", "15m", "2h", "1d" as seconds.
int64_t seconds_of(const std::string& text, const char* flag) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  const std::string unit = used ? text.substr(used) : "";
  const int64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (used == 0 || scale == 0 || value < 1)
    throw failure(exit_code::usage, std::string(flag) + " must be a positive duration such as 30s, 15m, 2h or 1d, not '" +
                                        text + "'");
  return value * scale;
}

json checked_time(const std::string& text, const char* flag) {
  if (!parse_iso8601(text))
    throw failure(exit_code::usage, std::string(flag) + " is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z): '" + text + "'");
  return text;
}

json input_of(const spec_options& o) {
  if (o.input && o.input_file) throw failure(exit_code::usage, "give --input or --input-file, not both");
  std::string text;
  std::string origin = "--input";
  if (o.input) {
    text = *o.input;
  } else {
    std::ifstream in(*o.input_file, std::ios::binary);
    if (!in) throw failure(exit_code::usage, "cannot read " + *o.input_file);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
    origin = *o.input_file;
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw failure(exit_code::usage, origin + " is not valid JSON: " + e.what() +
                                        " (a JSON string needs quotes: --input '\"text\"')");
  }
}

// Applies the options given to a spec in the API's JSON (empty for a create).
void apply(const spec_options& o, json& spec) {
  if (o.cron && o.every) throw failure(exit_code::usage, "give --cron or --every, not both");
  if (o.cron) {
    spec["cron"] = *o.cron;
    spec["intervalSeconds"] = nullptr;
  }
  if (o.every) {
    spec["intervalSeconds"] = seconds_of(*o.every, "--every");
    spec["cron"] = nullptr;
  }
  if (o.time_zone) spec["timeZone"] = *o.time_zone;
  if (o.orchestration) spec["orchestration"] = *o.orchestration;
  if (o.input || o.input_file) spec["input"] = input_of(o);
  if (o.overlap) spec["overlap"] = *o.overlap;
  if (o.catch_up) spec["catchUpWindowSeconds"] = seconds_of(*o.catch_up, "--catch-up");
  if (o.start) spec["startTime"] = checked_time(*o.start, "--start");
  if (o.end) spec["endTime"] = checked_time(*o.end, "--end");
  if (o.no_end) spec["endTime"] = nullptr;
}

// Whole seconds in the largest unit that divides them, as --every takes them: "30s", "15m", "2h", "1d".
std::string seconds_text(int64_t s) {
  for (auto [unit, size] : {std::pair{"d", 86400}, std::pair{"h", 3600}, std::pair{"m", 60}})
    if (s % size == 0) return std::to_string(s / size) + unit;
  return std::to_string(s) + "s";
}

std::string or_dash(const json& value) { return value.is_string() ? value.get<std::string>() : "-"; }

std::string tick_text(const json& d) {
  if (d["cron"].is_string())
    return "cron \"" + d["cron"].get<std::string>() + "\" in " + d["timeZone"].get<std::string>();
  return "every " + seconds_text(d["intervalSeconds"].get<int64_t>());
}

void print_schedule_table(const json& schedules) {
  std::cout << std::left << std::setw(24) << "ID" << std::setw(12) << "STATUS" << std::setw(40) << "TICKS"
            << std::setw(20) << "ORCHESTRATION" << std::setw(8) << "PAUSED" << "NEXT\n";
  for (const auto& d : schedules) {
    const auto& next = d["nextFireTimes"];
    std::cout << std::setw(23) << d["id"].get<std::string>() << ' ' << std::setw(11)
              << d["runtimeStatus"].get<std::string>() << ' ' << std::setw(39) << tick_text(d) << ' ' << std::setw(19)
              << d["orchestration"].get<std::string>() << ' ' << std::setw(7) << (d["paused"].get<bool>() ? "yes" : "no")
              << ' ' << (next.empty() ? "-" : next[0].get<std::string>()) << '\n';
  }
}

void print_description(const json& d) {
  auto row = [](const char* label, const std::string& value) {
    std::cout << std::left << std::setw(16) << label << value << '\n';
  };
  row("schedule", d["id"].get<std::string>() + " (instance " + d["instanceId"].get<std::string>() + ")");
  row("status", d["runtimeStatus"].get<std::string>() + (d["paused"].get<bool>() ? ", paused" : ""));
  row("ticks", tick_text(d));
  row("starts", d["orchestration"].get<std::string>() + " with input " + short_payload(d["input"]));
  row("overlap", d["overlap"].get<std::string>());
  row("catch-up window", seconds_text(d["catchUpWindowSeconds"].get<int64_t>()));
  row("start / end", or_dash(d["startTime"]) + " / " + or_dash(d["endTime"]));
  row("skipped", std::to_string(d["skipped"].get<uint64_t>()) + " by the overlap policy, " +
                     std::to_string(d["missed"].get<uint64_t>()) + " older than the catch-up window");
  if (d["waitingOn"].is_string()) row("waiting on", d["waitingOn"].get<std::string>());
  if (d["buffered"].is_object()) row("buffered", d["buffered"]["instanceId"].get<std::string>());
  const auto& next = d["nextFireTimes"];
  if (next.empty()) row("next", "-");
  for (size_t i = 0; i < next.size(); ++i) row(i == 0 ? "next" : "", next[i].get<std::string>());
  const auto& runs = d["recentRuns"];
  if (runs.empty()) row("last runs", "-");
  for (size_t i = 0; i < runs.size(); ++i) {
    const json& run = runs[runs.size() - 1 - i];  // newest first
    const std::string status = run["runtimeStatus"].is_string() ? run["runtimeStatus"].get<std::string>() : "(purged)";
    row(i == 0 ? "last runs" : "", run["instanceId"].get<std::string>() + "  " + status +
                                       (run["triggered"].get<bool>() ? "  (triggered)" : ""));
  }
}

exit_code create(const global_options& g, const schedule_options& o) {
  if (!o.spec.cron && !o.spec.every) throw failure(exit_code::usage, "give --cron EXPRESSION or --every DURATION");
  if (!o.spec.orchestration) throw failure(exit_code::usage, "give --orchestration NAME: what each tick starts");
  json spec{{"id", o.id}};
  apply(o.spec, spec);
  spec["paused"] = o.spec.paused;
  node_client node(g.node, g.timeout);
  const reply r = node.post("/api/schedules", spec.dump());
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    std::cout << "created schedule " << r.body["id"].get<std::string>() << '\n';
  }
  return exit_code::ok;
}

exit_code list(const global_options& g) {
  node_client node(g.node, g.timeout);
  const reply r = node.get("/api/schedules");
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    print_schedule_table(r.body["schedules"]);
  }
  return exit_code::ok;
}

exit_code describe(const global_options& g, const schedule_options& o) {
  node_client node(g.node, g.timeout);
  const reply r = node.get(schedule_target(o.id) + "?next=" + std::to_string(o.next));
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    print_description(r.body);
  }
  return exit_code::ok;
}

exit_code command(const global_options& g, const std::string& verb, const std::string& id) {
  node_client node(g.node, g.timeout);
  node.post(schedule_target(id) + "/" + verb, "");
  if (g.output == output_format::table) std::cout << verb << ": sent to schedule " << id << '\n';
  return exit_code::ok;
}

// The spec it runs with, the options given applied, sent back whole.
exit_code update(const global_options& g, const schedule_options& o) {
  node_client node(g.node, g.timeout);
  const json current = node.get(schedule_target(o.id) + "?next=0").body;
  json spec;
  for (const char* key : {"id", "cron", "timeZone", "intervalSeconds", "orchestration", "input", "overlap",
                          "catchUpWindowSeconds", "paused", "startTime", "endTime"})
    spec[key] = current[key];
  apply(o.spec, spec);
  if (o.spec.paused) spec["paused"] = true;
  node.put(schedule_target(o.id), spec.dump());
  if (g.output == output_format::table) std::cout << "updated schedule " << o.id << '\n';
  return exit_code::ok;
}

exit_code remove(const global_options& g, const std::string& id) {
  node_client node(g.node, g.timeout);
  node.del(schedule_target(id));
  if (g.output == output_format::table) std::cout << "deleted schedule " << id << '\n';
  return exit_code::ok;
}

void add_spec_options(CLI::App& cmd, spec_options& o) {
  cmd.add_option("--cron", o.cron, "Cron expression: 5 fields, or 6 with seconds first ('0 3 * * *')");
  cmd.add_option("--tz", o.time_zone, "IANA time zone of the cron expression (default UTC)");
  cmd.add_option("--every", o.every, "A fixed interval instead of a cron expression: 30s, 15m, 2h, 1d");
  cmd.add_option("--orchestration", o.orchestration, "The orchestration each tick starts");
  cmd.add_option("--input", o.input, "Its input, as JSON text");
  cmd.add_option("--input-file", o.input_file, "Its input, read from a JSON file");
  cmd.add_option("--overlap", o.overlap, "While the previous run runs: skip, bufferOne, allowAll, cancelPrevious");
  cmd.add_option("--catch-up", o.catch_up, "Ticks missed while the hub was down start if at most this old (default 60s)");
  cmd.add_option("--start", o.start, "No tick before this time (ISO 8601)");
  cmd.add_option("--end", o.end, "No tick after this time (ISO 8601)");
  cmd.add_flag("--paused", o.paused, "Paused: no tick starts anything until resume");
}

}  // namespace

void add_schedule_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action) {
  auto o = std::make_shared<schedule_options>();
  auto* schedule = app.add_subcommand("schedule", "Durable cron: start an orchestration at every tick of a schedule");
  schedule->require_subcommand(1);

  auto* create_cmd = schedule->add_subcommand("create", "Create a schedule");
  create_cmd->add_option("id", o->id, "Schedule id")->required();
  add_spec_options(*create_cmd, o->spec);
  create_cmd->callback([&g, &action, o] { action = [&g, o] { return create(g, *o); }; });

  schedule->add_subcommand("list", "List the schedules with their next fire time")
      ->callback([&g, &action] { action = [&g] { return list(g); }; });

  auto* describe_cmd = schedule->add_subcommand("describe", "Show a schedule, its next fire times and its last runs");
  describe_cmd->add_option("id", o->id, "Schedule id")->required();
  describe_cmd->add_option("--next", o->next, "How many fire times to show")->capture_default_str();
  describe_cmd->callback([&g, &action, o] { action = [&g, o] { return describe(g, *o); }; });

  for (const char* verb : {"pause", "resume", "trigger"}) {
    const std::string help = std::string(verb) == "trigger" ? "Start a run now (through the overlap policy)"
                             : std::string(verb) == "pause" ? "Pause: ticks start nothing until resume"
                                                            : "Resume: ticks start runs again (missed ones are not caught up)";
    auto* cmd = schedule->add_subcommand(verb, help);
    cmd->add_option("id", o->id, "Schedule id")->required();
    cmd->callback([&g, &action, o, verb] { action = [&g, o, verb] { return command(g, verb, o->id); }; });
  }

  auto* update_cmd = schedule->add_subcommand("update", "Change a schedule: the options given replace its settings");
  update_cmd->add_option("id", o->id, "Schedule id")->required();
  add_spec_options(*update_cmd, o->spec);
  update_cmd->add_flag("--no-end", o->spec.no_end, "Remove the end time");
  update_cmd->callback([&g, &action, o] { action = [&g, o] { return update(g, *o); }; });

  auto* delete_cmd = schedule->add_subcommand("delete", "Delete a schedule (its runs are left alone)");
  delete_cmd->add_option("id", o->id, "Schedule id")->required();
  delete_cmd->callback([&g, &action, o] { action = [&g, o] { return remove(g, o->id); }; });
}

}  // namespace perdure::cli
