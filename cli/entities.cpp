#include "entities.hpp"

#include "http_time.hpp"
#include "http_url.hpp"
#include "instance_ids.hpp"
#include "node_client.hpp"
#include "render.hpp"

#include <iostream>
#include <memory>

namespace perdure::cli {

namespace {

using nlohmann::json;

struct entity_options {
  std::string name;
  std::string key;
  std::string operation;
  std::string input;  // JSON text; empty: no input
  std::string at;     // a scheduled signal's delivery time (ISO 8601); empty: at once
  trace_options trace;  // the caller's; the operation's span is a child of its span
  std::string key_prefix;
  size_t page_size = 100;
  bool all = false;
};

void print_json(const json& value) { std::cout << value.dump(2, ' ', false, json::error_handler_t::replace) << '\n'; }

// Checked here, so that a bad id is refused (exit 2) before anything is sent.
std::string entity_target(const entity_options& o) {
  if (auto problem = entity_id_problem(entity_id{o.name, o.key})) throw failure(exit_code::usage, *problem);
  return "/api/entities/" + percent_encode(o.name) + "/" + percent_encode(o.key);
}

exit_code signal(const global_options& g, const entity_options& o) {
  const std::string target = entity_target(o);
  if (auto problem = operation_name_problem(o.operation)) throw failure(exit_code::usage, *problem);
  if (!o.input.empty() && !json::accept(o.input))
    throw failure(exit_code::usage, "the input is not valid JSON: '" + o.input + "' (a JSON string needs quotes: '\"text\"')");
  std::string path = target + "/signals/" + percent_encode(o.operation);
  if (!o.at.empty()) {
    if (!parse_iso8601(o.at))
      throw failure(exit_code::usage, "--at is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z): '" + o.at + "'");
    path += "?at=" + percent_encode(o.at);
  }
  const auto headers = trace_headers(o.trace);
  node_client node(g.node, g.timeout);
  node.post(path, o.input, headers);
  if (g.output == output_format::table)
    std::cout << "signalled " << o.operation << " to entity " << o.name << " " << o.key
              << (o.at.empty() ? std::string{} : " for delivery at " + o.at) << '\n';
  return exit_code::ok;
}

exit_code get(const global_options& g, const entity_options& o) {
  node_client node(g.node, g.timeout);
  const reply r = node.get(entity_target(o));
  if (g.output == output_format::json) {
    print_json(r.body);
  } else {
    print_entity(std::cout, r.body);
  }
  return exit_code::ok;
}

exit_code list(const global_options& g, const entity_options& o) {
  if (o.page_size < 1 || o.page_size > 1000) throw failure(exit_code::usage, "--page-size must be from 1 to 1000");
  if (o.name.empty() && !o.key_prefix.empty()) throw failure(exit_code::usage, "--key-prefix needs --name");
  std::string base = "/api/entities?pageSize=" + std::to_string(o.page_size);
  if (!o.name.empty()) base += "&name=" + percent_encode(o.name);
  if (!o.key_prefix.empty()) base += "&keyPrefix=" + percent_encode(o.key_prefix);
  node_client node(g.node, g.timeout);
  json entities = json::array();
  std::string next;
  do {
    const reply r = node.get(base + (next.empty() ? "" : "&continuationToken=" + percent_encode(next)));
    for (const json& e : r.body.value("entities", json::array())) entities.push_back(e);
    const json& token = r.body["continuationToken"];
    next = token.is_string() ? token.get<std::string>() : "";
  } while (o.all && !next.empty());
  if (g.output == output_format::json) {
    print_json(json{{"entities", entities}, {"continuationToken", next.empty() ? json() : json(next)}});
  } else {
    print_entity_table(std::cout, entities);
    if (!next.empty()) std::cerr << "more entities: add --all to list every page\n";
  }
  return exit_code::ok;
}

exit_code remove(const global_options& g, const entity_options& o) {
  node_client node(g.node, g.timeout);
  node.del(entity_target(o));
  if (g.output == output_format::table)
    std::cout << "delete queued for entity " << o.name << " " << o.key << " (after the operations sent to it before)\n";
  return exit_code::ok;
}

void add_id(CLI::App& cmd, entity_options& o) {
  cmd.add_option("name", o.name, "Entity name")->required();
  cmd.add_option("key", o.key, "Entity key")->required();
}

}  // namespace

void add_entity_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action) {
  auto o = std::make_shared<entity_options>();
  auto* entity = app.add_subcommand("entity", "Durable entities: signal operations, read state, list, delete");
  entity->require_subcommand(1);

  auto* signal_cmd = entity->add_subcommand("signal", "Send an operation to an entity, one-way (creates a new one)");
  add_id(*signal_cmd, *o);
  signal_cmd->add_option("operation", o->operation, "Operation name")->required();
  signal_cmd->add_option("input", o->input, "Its input, as JSON text (a string needs quotes: '\"text\"')");
  signal_cmd->add_option("--at", o->at, "Deliver it at this time (ISO 8601, e.g. 2024-05-01T12:00:00Z), not before");
  signal_cmd->add_option("--traceparent", o->trace.traceparent,
                         "The caller's W3C traceparent (docs/tracing.md): the operation's span is a child of the span it names");
  signal_cmd->callback([&g, &action, o] { action = [&g, o] { return signal(g, *o); }; });

  auto* get_cmd = entity->add_subcommand("get", "Show an entity's state");
  add_id(*get_cmd, *o);
  get_cmd->callback([&g, &action, o] { action = [&g, o] { return get(g, *o); }; });

  auto* list_cmd = entity->add_subcommand("list", "List entities by name, then key: one page or --all");
  list_cmd->add_option("--name", o->name, "Entity name");
  list_cmd->add_option("--key-prefix", o->key_prefix, "Key prefix (with --name)");
  list_cmd->add_option("--page-size", o->page_size, "Page size (1-1000)")->capture_default_str();
  list_cmd->add_flag("--all", o->all, "Follow continuation tokens to the last page");
  list_cmd->callback([&g, &action, o] { action = [&g, o] { return list(g, *o); }; });

  auto* delete_cmd = entity->add_subcommand("delete", "Delete an entity's state, after the operations sent to it before");
  add_id(*delete_cmd, *o);
  delete_cmd->callback([&g, &action, o] { action = [&g, o] { return remove(g, *o); }; });
}

}  // namespace perdure::cli
