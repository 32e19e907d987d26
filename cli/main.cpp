// perdure: manage the orchestrations of a Perdure node, and look at its cluster, from the shell
// (docs/cli.md).
#include "activities.hpp"
#include "cluster_moves.hpp"
#include "commands.hpp"
#include "entities.hpp"
#include "schedules.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>

namespace {

using namespace perdure::cli;

std::string environment(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

void add_filters(CLI::App& cmd, filter_options& f) {
  cmd.add_option("--status", f.statuses, "Runtime statuses (comma-separated or repeated): Running, Completed, ...")
      ->delimiter(',');
  cmd.add_option("--name", f.name, "Orchestration name");
  cmd.add_option("--from", f.created_from, "Created at or after (ISO 8601, e.g. 2024-05-01T12:00:00Z)");
  cmd.add_option("--to", f.created_to, "Created before (ISO 8601)");
  cmd.add_option("--prefix", f.prefix, "Instance id prefix");
  cmd.add_option("--version", f.version, "Orchestration version the instance runs (0 = unversioned)");
  cmd.add_flag("--waiting-for-version", f.waiting_for_version,
               "Only instances that wait for an orchestration version the node serving them lacks");
}

void add_json_input(CLI::App& cmd, json_input& in, const std::string& flag, const std::string& what) {
  cmd.add_option("--" + flag, in.inline_text, what + " as JSON text (a string needs quotes: '\"text\"')");
  cmd.add_option("--" + flag + "-file", in.file, what + " read from a JSON file");
}

void add_traceparent(CLI::App& cmd, trace_options& trace, const std::string& effect) {
  cmd.add_option("--traceparent", trace.traceparent, "The caller's W3C traceparent (docs/tracing.md): " + effect);
}

int run(int argc, char** argv) {
  CLI::App app{"perdure: manage the orchestrations of a Perdure node through its management API"};
  app.require_subcommand(1);
  app.fallthrough();
  global_options g;
  g.node.endpoint = environment("PERDURE_ENDPOINT", "http://127.0.0.1:8080");
  app.add_option("--endpoint", g.node.endpoint,
                 "Node management API, http:// or https:// (default: $PERDURE_ENDPOINT or http://127.0.0.1:8080)");
  g.node.token = environment("PERDURE_TOKEN", "");
  app.add_option("--token", g.node.token,
                 "Bearer token of a node started with --api-token-file (default: $PERDURE_TOKEN, which keeps it out "
                 "of the process list)");
  app.add_option("--cacert", g.node.ca_file, "PEM file of the CA(s) that signed an https:// node's certificate");
  double call_timeout = 30;
  app.add_option("--timeout", call_timeout, "Seconds to wait for the node's answer to a call (exit 5 when none comes)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  std::string output = "table";
  app.add_option("-o,--output", output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.footer(
      "Exit codes: 0 ok, 1 failed (node error; wait: instance Failed/Terminated), 2 usage or invalid input,\n"
      "3 not found, 4 node unreachable, 5 timeout, 6 conflict (already exists / still running / activity ended),\n"
      "6 also: rewind of an instance that has not failed, restart of one that still runs,\n"
      "7 the instance has already ended (terminate, raise, suspend, resume did nothing),\n"
      "8 denied: the node wants a token (--token, PERDURE_TOKEN), or an admin token for a change,\n"
      "9 replay-check: the node's code no longer replays some instances' histories.");

  std::function<exit_code()> action;
  std::string id, name, event, reason, token;
  json_input input;
  filter_options filters;
  std::optional<int> start_version;
  trace_options trace;
  bool flag_a = false, flag_b = false;
  size_t top = 100;
  double timeout = 60, interval = 0.5;

  auto* start_cmd = app.add_subcommand("start", "Start an orchestration; prints the instance id");
  start_cmd->add_option("name", name, "Orchestration name")->required();
  add_json_input(*start_cmd, input, "input", "The input");
  start_cmd->add_option("--id", id, "Instance id (default: a new random id)");
  start_cmd->add_option("--version", start_version, "Orchestration version to run (default: the latest registered)");
  add_traceparent(*start_cmd, trace, "the instance's span is a child of the span it names");
  start_cmd->add_option("--tracestate", trace.tracestate, "The W3C tracestate passed on with --traceparent");
  start_cmd->callback([&] { action = [&] { return start(g, name, input, id, start_version, trace); }; });

  auto* status_cmd = app.add_subcommand("status", "Show an instance's status");
  status_cmd->add_option("id", id, "Instance id")->required();
  status_cmd->add_flag("--history", flag_a, "Also show the history");
  status_cmd->add_flag("--no-input", flag_b, "Leave the input out");
  status_cmd->callback([&] { action = [&] { return status(g, id, flag_a, !flag_b); }; });

  auto* list_cmd = app.add_subcommand("list", "List instances (newest last), one page or --all");
  add_filters(*list_cmd, filters);
  list_cmd->add_option("--top", top, "Page size (1-1000)")->capture_default_str();
  list_cmd->add_option("--continuation-token", token, "Continue after a previous page");
  list_cmd->add_flag("--all", flag_a, "Follow continuation tokens to the last page");
  list_cmd->add_flag("--show-input", flag_b, "Include inputs (json output)");
  list_cmd->callback([&] { action = [&] { return list(g, filters, top, token, flag_a, flag_b); }; });

  auto* history_cmd = app.add_subcommand("history", "Show an instance's history as a timeline");
  history_cmd->add_option("id", id, "Instance id")->required();
  history_cmd->add_flag("--episodes", flag_a, "Also show the EpisodeStarted markers");
  std::string export_file;
  history_cmd->add_option("--export", export_file,
                          "Write the history to this file in the export format, exactly (replayable in tests)");
  history_cmd->callback([&] { action = [&] { return history(g, id, flag_a, export_file); }; });

  auto* replay_check_cmd = app.add_subcommand(
      "replay-check", "Replay the histories of running and suspended instances (or those the filters match) against "
                      "the node's code, changing nothing; exit 9 if some no longer match");
  add_filters(*replay_check_cmd, filters);
  replay_check_cmd->callback([&] { action = [&] { return replay_check(g, filters); }; });

  auto* raise_cmd = app.add_subcommand("raise", "Raise an external event on an instance");
  raise_cmd->add_option("id", id, "Instance id")->required();
  raise_cmd->add_option("event", event, "Event name")->required();
  add_json_input(*raise_cmd, input, "data", "The event data");
  add_traceparent(*raise_cmd, trace, "the receiving episode's span links to the span it names");
  raise_cmd->callback([&] { action = [&] { return raise(g, id, event, input, trace); }; });

  for (const char* verb : {"terminate", "suspend", "resume", "rewind"}) {
    const std::string about = std::string(verb) == "rewind"
                                  ? "Ask the node to rewind a Failed instance: the failed step runs again"
                                  : std::string("Ask the node to ") + verb + " an instance";
    auto* cmd = app.add_subcommand(verb, about);
    cmd->add_option("id", id, "Instance id")->required();
    cmd->add_option("--reason", reason, "Why (recorded in the history)");
    cmd->callback([&, verb] { action = [&, verb] { return command(g, verb, id, reason); }; });
  }

  auto* restart_cmd = app.add_subcommand(
      "restart", "Restart a finished instance as a new execution (same id and input), from the start or --from a "
                 "position of its history");
  restart_cmd->add_option("id", id, "Instance id")->required();
  int from_event = 0;
  restart_cmd->add_option("--from", from_event,
                          "Keep the first N events of the history (N: the position of an EpisodeStarted, "
                          "`perdure history --episodes` shows them) and continue from there; 0: from the start")
      ->capture_default_str();
  restart_cmd->add_option("--version", start_version, "Orchestration version to run (default: the previous execution's)");
  restart_cmd->callback([&] { action = [&] { return restart(g, id, from_event, start_version); }; });

  auto* purge_cmd = app.add_subcommand("purge", "Delete finished instances and their history: one id, or by filters");
  purge_cmd->add_option("id", id, "Instance id");
  add_filters(*purge_cmd, filters);
  purge_cmd->callback([&] { action = [&] { return purge(g, id, filters); }; });

  auto* wait_cmd = app.add_subcommand("wait", "Wait until an instance finishes; exit 0 if Completed, 1 if Failed/Terminated");
  wait_cmd->add_option("id", id, "Instance id")->required();
  wait_cmd->add_option("--timeout", timeout, "Give up after this many seconds (exit 5)")->capture_default_str();
  wait_cmd->add_option("--interval", interval, "Seconds between polls")->capture_default_str();
  wait_cmd->add_flag("--no-input", flag_b, "Leave the input out");
  wait_cmd->callback([&] { action = [&] { return wait(g, id, timeout, interval, !flag_b); }; });

  auto* cluster_cmd = app.add_subcommand("cluster", "The node's hub: its members and who owns each partition");
  cluster_cmd->require_subcommand(1);
  cluster_cmd->add_subcommand("members", "Each member: whether the node reaches it, the partitions it owns")
      ->callback([&] { action = [&] { return cluster_members(g); }; });
  cluster_cmd->add_subcommand("partitions", "Each partition: its owner, epoch, followers and move, as the node sees them")
      ->callback([&] { action = [&] { return cluster_partitions(g); }; });
  std::string node_id;
  uint32_t partition = 0;
  auto* drain_cmd = cluster_cmd->add_subcommand(
      "drain", "Move a member's partitions away (one at a time) and stop its leased activities, so it can be stopped");
  drain_cmd->add_option("node", node_id, "The member's node id")->required();
  drain_cmd->callback([&] { action = [&] { return cluster_drain(g, node_id); }; });
  auto* activate_cmd = cluster_cmd->add_subcommand("activate", "Undo a drain: the member takes partitions again");
  activate_cmd->add_option("node", node_id, "The member's node id")->required();
  activate_cmd->callback([&] { action = [&] { return cluster_activate(g, node_id); }; });
  auto* remove_cmd = cluster_cmd->add_subcommand(
      "remove", "Forget a member gone for good (drained and stopped, or lost): no member connects to it or lists it");
  remove_cmd->add_option("node", node_id, "The member's node id")->required();
  remove_cmd->callback([&] { action = [&] { return cluster_remove(g, node_id); }; });
  auto* move_cmd = cluster_cmd->add_subcommand(
      "move", "Move a partition to a member (it follows the log, then takes over) and pin it there");
  move_cmd->add_option("partition", partition, "The partition")->required();
  move_cmd->add_option("node", node_id, "The member's node id")->required();
  move_cmd->callback([&] { action = [&] { return cluster_move(g, partition, node_id); }; });
  auto* unpin_cmd = cluster_cmd->add_subcommand("unpin", "Let the balancer move a partition an operator moved again");
  unpin_cmd->add_option("partition", partition, "The partition")->required();
  unpin_cmd->callback([&] { action = [&] { return cluster_unpin(g, partition); }; });

  add_schedule_commands(app, g, action);
  add_entity_commands(app, g, action);
  add_activity_commands(app, g, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(exit_code::usage);
  }
  g.output = output == "json" ? output_format::json : output_format::table;
  g.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(call_timeout));
  try {
    return static_cast<int>(action());
  } catch (const failure& e) {
    std::cerr << "perdure: " << e.what() << '\n';
    return static_cast<int>(e.code());
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "perdure: " << e.what() << '\n';
    return static_cast<int>(exit_code::failed);
  }
}
