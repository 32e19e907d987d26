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
  std::string details;            // of a failure: text
  std::string heartbeat_details;  // JSON text; empty: none
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

// Empty: none; otherwise it must be JSON, checked before anything is sent.
void require_json(const char* what, const std::string& text) {
  if (!text.empty() && !json::accept(text))
    throw failure(exit_code::usage, std::string(what) + " is not valid JSON: '" + text +
                                        "' (a JSON string needs quotes: '\"text\"')");
}

exit_code post(const global_options& g, const activity_options& o, const char* verb, const std::string& body,
               const char* done) {
  node_client node(g.node, g.timeout);
  node.post(activity_target(o, verb), body);
  report(g, o, done);
  return exit_code::ok;
}

exit_code complete(const global_options& g, const activity_options& o) {
  require_json("the result", o.result);
  return post(g, o, "complete", o.result, "completed");
}

exit_code heartbeat(const global_options& g, const activity_options& o) {
  require_json("the details", o.heartbeat_details);
  return post(g, o, "heartbeat", o.heartbeat_details, "heartbeat recorded: go on");
}

exit_code fail(const global_options& g, const activity_options& o) {
  const json failure_object{{"errorType", o.error_type},
                            {"message", o.message},
                            {"details", o.details},
                            {"nonRetriable", o.non_retriable}};
  return post(g, o, "fail", failure_object.dump(), "failed");
}

}  // namespace

void add_activity_commands(CLI::App& app, const global_options& g, std::function<exit_code()>& action) {
  auto o = std::make_shared<activity_options>();
  auto* activity = app.add_subcommand(
      "activity", "Complete, fail or heartbeat an activity that awaits completion by its task token "
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

  auto* heartbeat_cmd = activity->add_subcommand(
      "heartbeat", "Record progress of the attempt: its heartbeat timeout starts again (exit code 6: it timed "
                   "out or was answered, 7: its instance ended; stop working on it either way)");
  heartbeat_cmd->add_option("token", o->token, "The attempt's task token")->required();
  heartbeat_cmd->add_option("details", o->heartbeat_details,
                            "Progress as JSON text, which the attempt's next retry reads (default: none)");
  heartbeat_cmd->callback([&g, &action, o] { action = [&g, o] { return heartbeat(g, *o); }; });
}

}  // namespace perdure::cli
