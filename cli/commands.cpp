#include "commands.hpp"

#include "http_time.hpp"
#include "http_url.hpp"
#include "http_wait_param.hpp"
#include "instance_ids.hpp"
#include "node_client.hpp"
#include "render.hpp"

#include <perdure/instance.hpp>
#include <perdure/trace_context.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace perdure::cli {
namespace {

using nlohmann::json;

void print_json(const json& value) {
  std::cout << value.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

std::string checked_id(const std::string& id) {
  if (auto problem = instance_id_problem(id)) throw failure(exit_code::usage, *problem);
  return percent_encode(id);
}

// Invalid JSON is refused here, with the parser's position, before anything is sent.
std::string read_json(const json_input& input, const char* flag) {
  if (input.inline_text && input.file)
    throw failure(exit_code::usage, std::string("give ") + flag + " or " + flag + "-file, not both");
  std::string text;
  std::string origin = flag;
  if (input.inline_text) {
    text = *input.inline_text;
  } else if (input.file) {
    std::ifstream in(*input.file, std::ios::binary);
    if (!in) throw failure(exit_code::usage, "cannot read " + *input.file);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
    origin = *input.file;
  } else {
    return {};
  }
  try {
    [[maybe_unused]] const json parsed = json::parse(text);
  } catch (const json::parse_error& e) {
    throw failure(exit_code::usage, origin + " is not valid JSON: " + e.what() +
                                        " (a JSON string needs quotes: --input '\"text\"')");
  }
  return text;
}

int checked_version(int version) {
  if (version < 0) throw failure(exit_code::usage, "--version must be 0 (unversioned) or more, not " + std::to_string(version));
  return version;
}

// The filters as a query string ("" or "?a=b&c=d"); times and statuses are checked first.
std::string filter_query(const filter_options& f, std::vector<std::string> extra = {}) {
  std::vector<std::string> parts;
  if (!f.statuses.empty()) {
    std::string joined;
    for (const auto& s : f.statuses) {
      // CLI11 splits on commas itself only with delimiters set; accept "a,b" in one value too.
      std::stringstream names(s);
      std::string name;
      while (std::getline(names, name, ',')) {
        if (!parse_runtime_status(name))
          throw failure(exit_code::usage, "unknown status '" + name +
                                              "' (Pending, Running, Completed, Failed, Terminated, Suspended, "
                                              "ContinuedAsNew)");
        joined += (joined.empty() ? "" : ",") + name;
      }
    }
    parts.push_back("runtimeStatus=" + percent_encode(joined));
  }
  if (!f.name.empty()) parts.push_back("name=" + percent_encode(f.name));
  for (auto [flag, param, value] : {std::tuple{"--from", "createdTimeFrom", &f.created_from},
                                    std::tuple{"--to", "createdTimeTo", &f.created_to}}) {
    if (value->empty()) continue;
    if (!parse_iso8601(*value))
      throw failure(exit_code::usage, std::string(flag) + " is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z): '" +
                                          *value + "'");
    parts.push_back(std::string(param) + "=" + percent_encode(*value));
  }
  if (!f.prefix.empty()) parts.push_back("instanceIdPrefix=" + percent_encode(f.prefix));
  if (f.version) parts.push_back("version=" + std::to_string(checked_version(*f.version)));
  if (f.waiting_for_version) parts.push_back("waitingForVersion=true");
  for (auto& e : extra) parts.push_back(std::move(e));
  std::string query;
  for (const auto& p : parts) query += (query.empty() ? "?" : "&") + p;
  return query;
}

bool is_terminal_status(const std::string& s) { return s == "Completed" || s == "Failed" || s == "Terminated"; }

// GET /api/cluster; nullopt (after saying so) when the node is a hub of its own.
std::optional<json> cluster_view(const global_options& g) {
  node_client node(g.node, g.timeout);
  json view = node.get("/api/cluster").body;
  if (view.value("status", "") != "SingleNode") return view;
  if (g.output == output_format::json) {
    print_json(view);
  } else {
    std::cout << "the node at " << g.node.endpoint << " is a hub of its own (started without --members): no cluster\n";
  }
  return std::nullopt;
}

}  // namespace

httplib::Headers trace_headers(const trace_options& trace) {
  if (trace.traceparent.empty()) {
    if (!trace.tracestate.empty()) throw failure(exit_code::usage, "--tracestate needs a --traceparent");
    return {};
  }
  if (auto problem = traceparent_problem(trace.traceparent))
    throw failure(exit_code::usage, "--traceparent '" + trace.traceparent + "' is not a W3C traceparent: " + *problem);
  httplib::Headers headers{{"traceparent", trace.traceparent}};
  if (!trace.tracestate.empty()) headers.emplace("tracestate", trace.tracestate);
  return headers;
}

bool filter_options::any() const noexcept {
  return !statuses.empty() || !name.empty() || !created_from.empty() || !created_to.empty() || !prefix.empty() ||
         version || waiting_for_version;
}

exit_code start(const global_options& g, const std::string& name, const json_input& input, const std::string& id,
                std::optional<int> version, const trace_options& trace) {
  if (name.empty()) throw failure(exit_code::usage, "the orchestration name is empty");
  std::string target = "/api/orchestrations/" + percent_encode(name);
  std::vector<std::string> params;
  if (!id.empty()) params.push_back("instanceId=" + checked_id(id));
  if (version) params.push_back("version=" + std::to_string(checked_version(*version)));
  for (size_t i = 0; i < params.size(); ++i) target += (i == 0 ? "?" : "&") + params[i];
  const std::string body = read_json(input, "--input");
  const auto headers = trace_headers(trace);
  node_client node(g.node, g.timeout);
  const reply r = node.post(target, body, headers);
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    std::cout << r.body.value("id", "") << '\n';
  }
  return exit_code::ok;
}

exit_code status(const global_options& g, const std::string& id, bool history, bool show_input) {
  const std::string target = "/api/instances/" + checked_id(id) + "?showHistory=" + (history ? "true" : "false") +
                             "&showInput=" + (show_input ? "true" : "false");
  node_client node(g.node, g.timeout);
  const reply r = node.get(target);
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    print_instance(std::cout, r.body);
    if (history && r.body.contains("historyEvents")) {
      std::cout << '\n';
      print_timeline(std::cout, r.body["historyEvents"], false);
    }
  }
  return exit_code::ok;
}

exit_code list(const global_options& g, const filter_options& filters, size_t top, const std::string& token, bool all,
               bool show_input) {
  if (top < 1 || top > 1000) throw failure(exit_code::usage, "--top must be from 1 to 1000");
  const std::string base = "/api/instances" + filter_query(filters, {"top=" + std::to_string(top),
                                                  std::string("showInput=") + (show_input ? "true" : "false")});
  node_client node(g.node, g.timeout);
  json instances = json::array();
  std::string next = token;
  do {
    const reply r = node.get(base + (next.empty() ? "" : "&continuationToken=" + percent_encode(next)));
    for (const json& i : r.body.value("instances", json::array())) instances.push_back(i);
    next = r.continuation_token;
  } while (all && !next.empty());
  if (g.output == output_format::json) {
    print_json(json{{"instances", instances}, {"continuationToken", next.empty() ? json() : json(next)}});
  } else {
    print_instance_table(std::cout, instances);
    if (!next.empty()) std::cerr << "more instances: add --continuation-token " << next << " (or --all)\n";
  }
  return exit_code::ok;
}

exit_code history(const global_options& g, const std::string& id, bool episodes, const std::string& export_file) {
  node_client node(g.node, g.timeout);
  if (!export_file.empty()) {
    const reply r = node.get("/api/instances/" + checked_id(id) + "/history?format=export");
    std::ofstream out(export_file, std::ios::binary | std::ios::trunc);
    // Payloads are strings in the export: writing the parsed document again keeps their text.
    out << r.body.dump(2) << '\n';
    if (!out.flush()) throw failure(exit_code::usage, "cannot write " + export_file);  // as an unreadable --input-file
    std::cerr << "exported " << r.body.value("events", json::array()).size() << " event(s) of " << id << " to "
              << export_file << '\n';
    return exit_code::ok;
  }
  const reply r = node.get("/api/instances/" + checked_id(id) + "/history");
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    print_timeline(std::cout, r.body.value("events", json::array()), episodes);
  }
  return exit_code::ok;
}

exit_code replay_check(const global_options& g, const filter_options& filters) {
  node_client node(g.node, g.timeout);
  const json report = node.get("/api/replay-check" + filter_query(filters)).body;
  if (g.output == output_format::json) {
    print_json(report);
  } else {
    print_replay_check(std::cout, report);
  }
  return report.value("passed", false) ? exit_code::ok : exit_code::mismatch;
}

exit_code raise(const global_options& g, const std::string& id, const std::string& event, const json_input& data,
                const trace_options& trace) {
  if (auto problem = event_name_problem(event)) throw failure(exit_code::usage, *problem);
  const std::string target = "/api/instances/" + checked_id(id) + "/raiseEvent/" + percent_encode(event);
  const std::string body = read_json(data, "--data");
  const auto headers = trace_headers(trace);
  node_client node(g.node, g.timeout);
  node.post(target, body, headers);
  if (g.output == output_format::json) {
    print_json(json{{"instanceId", id}, {"event", event}, {"accepted", true}});
  } else {
    std::cout << "raised " << event << " on " << id << '\n';
  }
  return exit_code::ok;
}

exit_code command(const global_options& g, const std::string& verb, const std::string& id, const std::string& reason) {
  const std::string target = "/api/instances/" + checked_id(id) + "/" + verb + "?reason=" + percent_encode(reason);
  node_client node(g.node, g.timeout);
  node.post(target, "");
  if (g.output == output_format::json) {
    print_json(json{{"instanceId", id}, {"command", verb}, {"accepted", true}});
  } else {
    std::cout << verb << " of " << id << " accepted\n";
  }
  return exit_code::ok;
}

exit_code restart(const global_options& g, const std::string& id, int from_event, std::optional<int> version) {
  if (from_event < 0) throw failure(exit_code::usage, "--from must be a position in the history, 0 or more");
  std::string target = "/api/instances/" + checked_id(id) + "/restart?fromEvent=" + std::to_string(from_event);
  if (version) target += "&version=" + std::to_string(checked_version(*version));
  node_client node(g.node, g.timeout);
  node.post(target, "");
  if (g.output == output_format::json) {
    print_json(json{{"instanceId", id}, {"command", "restart"}, {"fromEvent", from_event}, {"accepted", true}});
  } else {
    std::cout << "restart of " << id << (from_event > 0 ? " from event " + std::to_string(from_event) : "")
              << " accepted\n";
  }
  return exit_code::ok;
}

exit_code purge(const global_options& g, const std::string& id, const filter_options& filters) {
  if (id.empty() == !filters.any())
    throw failure(exit_code::usage, "purge takes an instance id or filters (--status, --name, --from, --to, --prefix)");
  const std::string target = id.empty() ? "/api/instances" + filter_query(filters) : "/api/instances/" + checked_id(id);
  node_client node(g.node, g.timeout);
  const reply r = node.del(target);
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    std::cout << "purged " << r.body.value("instancesDeleted", 0) << " instance(s)\n";
  }
  return exit_code::ok;
}

// Long-polls the node (GET with waitForCompletion) until the instance ends or --timeout passes;
// each long-poll waits for what is left, at most the node's maximum, then it is asked again. A
// node that answers at once (it does not long-poll) is polled every --interval instead.
exit_code wait(const global_options& g, const std::string& id, double timeout_seconds, double interval_seconds,
               bool show_input) {
  if (!(timeout_seconds >= 0) || !(interval_seconds > 0))
    throw failure(exit_code::usage, "--timeout must be >= 0 and --interval > 0");
  const std::string target = "/api/instances/" + checked_id(id) + (show_input ? "?showInput=true" : "?showInput=false");
  using steady = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  const auto wait_limit = std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(timeout_seconds));
  const milliseconds longest_poll = std::min<milliseconds>(wait_limit, max_request_wait);
  // A long-poll's answer comes after its wait; a node that answers nothing is given up soon after.
  node_client node(g.node, longest_poll.count() > 0 ? longest_poll + std::min<milliseconds>(g.timeout, std::chrono::seconds(5))
                                                        : g.timeout);
  const auto deadline = steady::now() + wait_limit;
  const auto interval = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(interval_seconds));
  while (true) {
    const auto asked_at = steady::now();
    const auto poll = std::min(longest_poll, std::chrono::duration_cast<milliseconds>(std::max(deadline - asked_at, steady::duration::zero())));
    const reply r = node.get(target + (poll.count() > 0 ? "&waitForCompletion=" + std::to_string(poll.count()) + "ms" : ""));
    const std::string s = r.body.value("runtimeStatus", "");
    if (is_terminal_status(s)) {
      if (g.output == output_format::json) {
        print_json(r.body);
      } else {
        print_instance(std::cout, r.body);
      }
      return s == "Completed" ? exit_code::ok : exit_code::failed;
    }
    const auto now = steady::now();
    if (now >= deadline)
      throw failure(exit_code::timeout, "instance " + id + " is still " + s + " after " +
                                            format_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::duration<double>(timeout_seconds))));
    if (now - asked_at < poll) std::this_thread::sleep_for(std::min(interval, deadline - now));
  }
}

}  // namespace perdure::cli

namespace perdure::cli {

exit_code cluster_members(const global_options& g) {
  const auto view = cluster_view(g);
  if (!view) return exit_code::ok;
  json members = json::array();
  for (const json& m : view->value("members", json::array())) {
    json owned = json::array();
    for (const json& p : view->value("partitions", json::array()))
      if (p.value("owner", json()) == m.value("nodeId", json())) owned.push_back(p.value("partition", json()));
    members.push_back(json{{"nodeId", m.value("nodeId", json())},
                           {"reachable", m.value("reachable", false)},
                           {"state", m.value("state", json())},
                           {"partitionsOwned", std::move(owned)}});
  }
  if (g.output == output_format::json) {
    print_json(json{{"status", view->value("status", json())},
                    {"nodeId", view->value("nodeId", json())},
                    {"replicated", view->value("replicated", false)},
                    {"members", std::move(members)}});
  } else {
    print_member_table(std::cout, members);
  }
  return exit_code::ok;
}

exit_code cluster_partitions(const global_options& g) {
  const auto view = cluster_view(g);
  if (!view) return exit_code::ok;
  const json partitions = view->value("partitions", json::array());
  if (g.output == output_format::json) {
    print_json(json{{"nodeId", view->value("nodeId", json())},
                    {"replicated", view->value("replicated", false)},
                    {"partitions", partitions}});
  } else {
    print_partition_table(std::cout, partitions);
  }
  return exit_code::ok;
}

}  // namespace perdure::cli
