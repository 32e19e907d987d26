#include "activities.hpp"

#include "http_url.hpp"
#include "node_client.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace perdure::cli {

namespace {

using nlohmann::json;

struct activity_options {
  std::string token;
  std::string result;  // JSON text; empty: no result
  std::string error_type = "ActivityFailed";
  std::string message;
  std::string details;
  bool non_retriable = false;
};

std::string activity_target(const activity_options& o, const char* verb) {
  if (o.token.empty()) throw failure(exit_code::usage, "the task token is empty");
  return "/api/activities/" + percent_encode(o.token) + "/" + verb;
}

void report(const global_options& g, const activity_options& o, const char* done) {
  if (g.output == output_format::json)
    std::cout << json{{"taskToken", o.token}, {"accepted", true}}.dump(2) << '\n';
  else
    std::cout << "activity " << done << '\n';
}

exit_code complete(const global_options& g, const activity_options& o) {
  if (!o.result.empty() && !json::accept(o.result))
    throw failure(exit_code::usage,
                  "the result is not valid JSON: '" + o.result + "' (a JSON string needs quotes: '\"text\"')");
  node_client node(g.node, g.timeout);
  node.post(activity_target(o, "complete"), o.result);
  report(g, o, "completed");
  return exit_code::ok;
}

exit_code fail(const global_options& g, const activity_options& o) {
  const json failure_object{{"errorType", o.error_type},
                            {"message", o.message},
                            {"details", o.details},
                            {"nonRetriable", o.non_retriable}};
  node_client node(g.node, g.timeout);
  node.post(activity_target(o, "fail"), failure_object.dump());
  report(g, o, "failed");
  return exit_code::ok;
}

}  // namespace

void add_activity_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action) {
  auto o = std::make_shared<activity_options>();
  auto* activity = app.add_subcommand(
      "activity", "Complete or fail an activity that awaits completion by its task token "
                  "(activity_context::complete_asynchronously)");
  activity->require_subcommand(1);

  auto* complete_cmd = activity->add_subcommand("complete", "Complete the attempt with a result");
  complete_cmd->add_option("token", o->token, "The attempt's task token")->required();
  complete_cmd->add_option("--result", o->result, "The result as JSON text (default: none)");
  complete_cmd->callback([&g, &action, o] { action = [&g, o] { return complete(g, *o); }; });

  auto* fail_cmd = activity->add_subcommand("fail", "Fail the attempt (the orchestration's retry policy decides)");
  fail_cmd->add_option("token", o->token, "The attempt's task token")->required();
  fail_cmd->add_option("--message", o->message, "What went wrong")->required();
  fail_cmd->add_option("--type", o->error_type, "The error type the orchestration sees")->capture_default_str();
  fail_cmd->add_option("--details", o->details, "More about the failure");
  fail_cmd->add_flag("--non-retriable", o->non_retriable, "Do not retry the call, whatever its retry policy");
  fail_cmd->callback([&g, &action, o] { action = [&g, o] { return fail(g, *o); }; });
}

}  // namespace perdure::cli
