#include "render.hpp"

#include "http_time.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

namespace perdure::cli {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return {};
  const json& v = object[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<time_point> time_of(const json& object, const char* key) { return parse_iso8601(text(object, key)); }

// "2024-05-01T12:00:00.123Z": milliseconds are enough to read; durations carry the precision.
std::string short_time(const std::string& iso) {
  return iso.size() == 27 ? iso.substr(0, 23) + "Z" : iso;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string failure_text(const json& failure) {
  if (!failure.is_object()) return {};
  std::string s = text(failure, "errorType");
  const std::string message = text(failure, "message");
  if (!message.empty()) s += (s.empty() ? "" : ": ") + message;
  return s;
}

struct started_task {
  std::string name;
  std::optional<time_point> at;
};

}  // namespace

std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  char buf[32];
  const bool negative = d < nanoseconds::zero();
  if (negative) d = -d;
  const double ns = static_cast<double>(d.count());
  if (d == nanoseconds::zero()) return "0s";
  if (d < microseconds(1)) {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(d.count()));
  } else if (d < milliseconds(1)) {
    std::snprintf(buf, sizeof buf, "%.0fus", ns / 1e3);
  } else if (d < seconds(1)) {
    std::snprintf(buf, sizeof buf, "%.1fms", ns / 1e6);
  } else if (d < minutes(1)) {
    std::snprintf(buf, sizeof buf, "%.3fs", ns / 1e9);
  } else if (d < hours(1)) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(duration_cast<minutes>(d).count()),
                  static_cast<long long>(duration_cast<seconds>(d).count() % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(duration_cast<hours>(d).count()),
                  static_cast<long long>(duration_cast<minutes>(d).count() % 60));
  }
  return negative ? std::string("-") + buf : std::string(buf);
}

std::string short_payload(const json& value, size_t width) {
  if (value.is_null()) return "-";
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > width) s = s.substr(0, width - 3) + "...";
  return s;
}

namespace {
// The status view cuts long payloads; it says so, and how to see all.
std::string payload_field(const json& value) {
  constexpr size_t width = 200;
  std::string s = short_payload(value, width);
  const size_t whole = value.is_null() ? 0 : value.dump(-1, ' ', false, json::error_handler_t::replace).size();
  if (whole > width) s += " (cut: " + std::to_string(whole) + " characters in all; -o json shows all)";
  return s;
}
}  // namespace

namespace {
// "Running", or "Running, waiting for its version" for an instance whose node lacks its code.
std::string status_text(const json& instance) {
  std::string status = text(instance, "runtimeStatus");
  if (instance.value("waitingForVersion", false)) status += ", waiting for its version";
  return status;
}
}  // namespace

void print_instance(std::ostream& out, const json& instance) {
  auto line = [&](const char* label, const std::string& value) { out << pad(label, 16) << value << '\n'; };
  line("Instance:", text(instance, "instanceId"));
  line("Name:", text(instance, "name"));
  line("Version:", std::to_string(instance.value("version", 0)));
  line("Status:", status_text(instance));
  line("Created:", text(instance, "createdTime"));
  line("Last updated:", text(instance, "lastUpdatedTime"));
  auto created = time_of(instance, "createdTime");
  auto updated = time_of(instance, "lastUpdatedTime");
  if (created && updated) line("Age at update:", format_duration(*updated - *created));
  if (instance.contains("input")) line("Input:", payload_field(instance["input"]));
  line("Output:", payload_field(instance.value("output", json())));
  line("Custom status:", payload_field(instance.value("customStatus", json())));
  if (instance.contains("failureDetails")) {
    line("Failure:", failure_text(instance["failureDetails"]));
    const std::string details = text(instance["failureDetails"], "details");
    if (!details.empty()) line("Details:", details);
  }
  if (instance.contains("parentInstanceId")) line("Parent:", text(instance, "parentInstanceId"));
}

void print_instance_table(std::ostream& out, const json& instances) {
  std::vector<std::array<std::string, 6>> rows{{"INSTANCE ID", "NAME", "VERSION", "STATUS", "CREATED", "LAST UPDATED"}};
  for (const json& i : instances)
    rows.push_back({text(i, "instanceId"), text(i, "name"), std::to_string(i.value("version", 0)), status_text(i),
                    short_time(text(i, "createdTime")), short_time(text(i, "lastUpdatedTime"))});
  std::array<size_t, 6> widths{};
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows) {
    for (size_t c = 0; c + 1 < row.size(); ++c) out << pad(row[c], widths[c] + 2);
    out << row.back() << '\n';
  }
}

namespace {
// Columns padded to their widest cell, two spaces apart; the header is the first row.
void print_rows(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    for (size_t c = 0; c + 1 < row.size(); ++c) out << pad(row[c], widths[c] + 2);
    if (!row.empty()) out << row.back();
    out << '\n';
  }
}

// "0,3,5", or "-" when there is none.
std::string joined(const json& values) {
  std::string s;
  if (values.is_array())
    for (const json& v : values) s += (s.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
  return s.empty() ? "-" : s;
}
}  // namespace

void print_member_table(std::ostream& out, const json& members) {
  std::vector<std::vector<std::string>> rows{{"MEMBER", "REACHABLE", "STATE", "OWNED", "PARTITIONS"}};
  for (const json& m : members) {
    const json owned = m.value("partitionsOwned", json::array());
    const std::string state = text(m, "state");
    rows.push_back({text(m, "nodeId"), m.value("reachable", false) ? "yes" : "no", state.empty() ? "-" : state,
                    std::to_string(owned.size()), joined(owned)});
  }
  print_rows(out, rows);
}

void print_entity(std::ostream& out, const json& entity) {
  auto line = [&](const char* label, const std::string& value) { out << pad(label, 16) << value << '\n'; };
  line("Entity:", text(entity, "name") + " " + text(entity, "key"));
  line("Created:", text(entity, "createdTime"));
  line("Last modified:", text(entity, "lastModifiedTime"));
  line("State:", payload_field(entity.value("state", json())));
}

void print_entity_table(std::ostream& out, const json& entities) {
  std::vector<std::vector<std::string>> rows{{"NAME", "KEY", "STATE", "LAST MODIFIED"}};
  for (const json& e : entities)
    rows.push_back({text(e, "name"), text(e, "key"), short_payload(e.value("state", json()), 40),
                    short_time(text(e, "lastModifiedTime"))});
  print_rows(out, rows);
}

void print_partition_table(std::ostream& out, const json& partitions) {
  std::vector<std::vector<std::string>> rows{
      {"PARTITION", "OWNER", "EPOCH", "FOLLOWERS", "MOVING TO", "LAG", "PINNED"}};
  for (const json& p : partitions) {
    const std::string owner = text(p, "owner");
    const std::string target = text(p, "movingTo");
    const std::string lag = text(p, "moveLag");
    rows.push_back({text(p, "partition"), owner.empty() ? "(unassigned)" : owner, text(p, "epoch"),
                    joined(p.value("followers", json::array())), target.empty() ? "-" : target,
                    target.empty() ? "-" : lag.empty() ? "?" : lag, p.value("pinned", false) ? "yes" : "-"});
  }
  print_rows(out, rows);
}

void print_timeline(std::ostream& out, const json& events, bool episodes) {
  std::optional<time_point> first;
  std::map<long long, started_task> tasks;  // by task or timer id: for the durations
  out << pad("TIME", 26) << pad("OFFSET", 11) << pad("EVENT", 27) << "DETAILS\n";
  for (const json& e : events) {
    const std::string kind = text(e, "kind");
    const auto at = time_of(e, "timestamp");
    if (!first) first = at;
    const long long id = e.contains("taskId") ? e["taskId"].get<long long>()
                         : e.contains("timerId") ? e["timerId"].get<long long>()
                                                 : -1;
    auto took = [&](const char* verb) {
      auto it = tasks.find(id);
      if (it == tasks.end() || !it->second.at || !at) return std::string{};
      return std::string(" (") + verb + " " + format_duration(*at - *it->second.at) + ")";
    };
    auto task_name = [&] {
      auto it = tasks.find(id);
      return it == tasks.end() ? std::string{} : " " + it->second.name;
    };
    const std::string number = "#" + std::to_string(id);
    std::string details;
    if (kind == "ExecutionStarted") {
      details = text(e, "name") + " input=" + short_payload(e.value("input", json()));
    } else if (kind == "ExecutionCompleted") {
      details = "output=" + short_payload(e.value("output", json()));
    } else if (kind == "ExecutionFailed") {
      details = failure_text(e.value("failureDetails", json()));
    } else if (kind == "ContinuedAsNew") {
      details = "input=" + short_payload(e.value("input", json()));
    } else if (kind == "ExecutionTerminated" || kind == "ExecutionSuspended" || kind == "ExecutionResumed" ||
               kind == "ExecutionRewound") {
      details = "reason=" + json(text(e, "reason")).dump(-1, ' ', false, json::error_handler_t::replace);
    } else if (kind == "TaskScheduled" || kind == "SubOrchestrationCreated") {
      tasks[id] = {text(e, "name"), at};
      details = number + " " + text(e, "name") +
                (kind == "SubOrchestrationCreated" ? " instance=" + text(e, "instanceId") : "") +
                " input=" + short_payload(e.value("input", json()));
    } else if (kind == "TaskCompleted" || kind == "SubOrchestrationCompleted") {
      details = number + task_name() + " output=" + short_payload(e.value("output", json())) + took("took");
    } else if (kind == "TaskFailed" || kind == "SubOrchestrationFailed") {
      details = number + task_name() + " " + failure_text(e.value("failureDetails", json())) + took("took");
    } else if (kind == "TimerCreated") {
      tasks[id] = {"timer", at};
      auto fire = time_of(e, "fireAt");
      details = number + " fires at " + short_time(text(e, "fireAt")) +
                (fire && at ? " (in " + format_duration(*fire - *at) + ")" : "");
    } else if (kind == "TimerFired") {
      details = number + took("waited");
    } else if (kind == "EventRaised") {
      details = text(e, "name") + " input=" + short_payload(e.value("input", json()));
    } else if (kind == "EventSent") {
      details = number + " " + text(e, "name") + " to " + text(e, "instanceId") +
                " input=" + short_payload(e.value("input", json()));
    } else if (kind == "ExecutionRestarted") {
      details = "from event " + std::to_string(e.value("fromEvent", 0)) + " of " + text(e, "previousExecutionId") +
                " version=" + std::to_string(e.value("version", 0));
    } else if (kind == "EpisodeStarted") {
      if (!episodes) continue;
      details = "position " + std::to_string(e.value("index", 0)) + " (restart --from takes it)";
    }
    if (e.value("superseded", false)) details = "(superseded by a rewind) " + details;
    const std::string offset = first && at ? "+" + format_duration(*at - *first) : "";
    out << pad(short_time(text(e, "timestamp")), 26) << pad(offset, 11) << pad(kind, 27) << details << '\n';
  }
}

void print_replay_check(std::ostream& out, const json& report) {
  const json mismatches = report.value("mismatches", json::array());
  const json not_registered = report.value("notRegistered", json::array());
  for (const json& m : mismatches) {
    out << "MISMATCH " << text(m, "instanceId") << " (" << text(m, "name") << " v" << text(m, "version")
        << ") at history position " << text(m, "position") << "\n  history: " << text(m, "inHistory")
        << "\n  code:    " << text(m, "inCode") << '\n';
  }
  for (const json& n : not_registered)
    out << "NOT REGISTERED " << text(n, "instanceId") << " (" << text(n, "name") << " v" << text(n, "version")
        << "): " << text(n, "reason") << '\n';
  out << "checked " << text(report, "checked") << " instance(s): " << mismatches.size()
      << " no longer replay, " << not_registered.size() << " not registered in this code\n";
}

}  // namespace perdure::cli
