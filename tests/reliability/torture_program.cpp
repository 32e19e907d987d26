#include "torture_program.hpp"

#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace perdure::torture {
namespace {

using namespace std::chrono_literals;

constexpr int tail_failure_value = 7777;
constexpr int flaky_attempts = 25;

// splitmix64: tiny, and the same sequence on every platform (std distributions are not).
class random_source {
 public:
  explicit random_source(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }

 private:
  uint64_t state_;
};

uint64_t fnv1a(std::string_view text, uint64_t h = 14695981039346656037ULL) {
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

json activity_step(random_source& r) {
  const int roll = r.below(100);
  const char* mode = roll < 55 ? "ok" : roll < 85 ? "flaky" : "fail";
  const int attempts = roll < 55 ? 1 + r.below(2) : roll < 85 ? flaky_attempts : 1 + r.below(3);
  return json{{"k", "act"}, {"v", r.below(1000)}, {"mode", mode}, {"att", attempts}};
}

json timer_step(random_source& r) { return json{{"k", "timer"}, {"ms", 10 + r.below(300)}}; }

json generate_program(random_source& r, int depth, bool top_level, const generation_options& options);

json sub_step(random_source& r, int depth, const generation_options& options) {
  return json{{"k", "sub"}, {"p", generate_program(r, depth + 1, false, options)}};
}

json branch_step(random_source& r, int depth, const generation_options& options) {
  const int roll = r.below(100);
  if (roll < 60 || depth >= 2) {
    if (roll >= 80) return timer_step(r);
    json step = activity_step(r);
    if (!options.retries_in_when_all && step.at("mode") != "ok") {
      if (step.at("mode") == "flaky") step["mode"] = "ok";
      step["att"] = 1;
    }
    return step;
  }
  return sub_step(r, depth, options);
}

json more_step(random_source& r, int depth, bool top_level, const generation_options& options) {
  const int roll = r.below(top_level ? 4 : 3);
  if (roll == 1) return json{{"k", "nosub"}};
  if (roll == 2 && depth < 2) return json{{"k", "dup"}, {"p", generate_program(r, depth + 1, false, options)}};
  if (roll == 3) return json{{"k", "stuck"}};
  return json{{"k", "send"}, {"n", 1 + r.below(2)}};
}

json generate_step(random_source& r, int depth, bool top_level, const generation_options& options) {
  if (options.more_steps && r.chance(12)) return more_step(r, depth, top_level, options);
  const int roll = r.below(100);
  if (roll < 35) return activity_step(r);
  if (roll < 50) return timer_step(r);
  if (roll < 65 && top_level) return json{{"k", "event"}, {"n", 1 + r.below(3)}};
  if (roll < 75 && depth < 2) return sub_step(r, depth, options);
  if (roll < 90) {
    json branches = json::array();
    for (int i = 0, n = 2 + r.below(4); i < n; ++i) branches.push_back(branch_step(r, depth, options));
    return json{{"k", "all"}, {"b", branches}};
  }
  return json{{"k", "any"}, {"v", r.below(1000)}};
}

json generate_program(random_source& r, int depth, bool top_level, const generation_options& options) {
  json steps = json::array();
  for (int i = 0, n = 1 + r.below(top_level ? 6 : 3); i < n; ++i)
    steps.push_back(generate_step(r, depth, top_level, options));
  const int round_roll = r.below(100);
  const int rounds = round_roll < 70 ? 1 : round_roll < 90 ? 2 : 3;
  const int tail_roll = r.below(100);
  const char* tail = tail_roll < 80 ? "none" : (tail_roll < 90 || !top_level) ? "fail" : "forever";
  return json{{"steps", steps}, {"rounds", rounds}, {"tail", tail}};
}

// ---- the interpreter -------------------------------------------------------------------------

json activity_input(const json& step) { return json{{"v", step.at("v")}, {"mode", step.at("mode")}}; }

retry_policy retries(int attempts) {
  retry_policy policy;
  policy.max_attempts = attempts;
  policy.first_interval = 10ms;
  policy.max_interval = 80ms;
  return policy;
}

task<json> run_activity(orchestration_context& ctx, json step) {
  const int attempts = step.at("att").get<int>();
  try {
    if (attempts <= 1) co_return co_await ctx.call_activity<json>(activity_name, activity_input(step));
    co_return co_await ctx.call_activity<json>(activity_name, activity_input(step), retries(attempts));
  } catch (const perdure::task_failed&) {
    co_return json("F" + std::to_string(step.at("v").get<int>()));
  }
}

task<json> run_sub(orchestration_context& ctx, std::string name, json program, std::string instance_id = {}) {
  try {
    co_return co_await ctx.call_sub_orchestration<json>(name, start_input(program), std::move(instance_id));
  } catch (const perdure::task_failed&) {
    co_return json("SF");
  }
}

constexpr const char* unregistered_name = "Missing";

// What a "stuck" step's sub-orchestration runs: a short step, then it waits forever.
json stuck_program() {
  return json{{"steps", json::array({json{{"k", "timer"}, {"ms", 20}}})}, {"rounds", 1}, {"tail", "forever"}};
}

// The id of a "dup" or "stuck" step's sub-orchestration: `event` names the step and the round.
std::string step_instance_id(const std::string& instance_id, const char* tag, const std::string& event) {
  return instance_id + tag + event;
}

// Events an instance sends itself carry no instance id: a generated sub-orchestration id differs
// from runtime to runtime, and the payloads end up in the output.
std::string sent_payload(const std::string& name, int j) { return name + "/" + std::to_string(j); }

task<json> run_step(orchestration_context& ctx, json step, std::string event) {
  const std::string kind = step.at("k").get<std::string>();
  if (kind == "act") co_return co_await run_activity(ctx, step);
  if (kind == "timer") {
    co_await ctx.create_timer(std::chrono::milliseconds(step.at("ms").get<int>()));
    co_return json("t");
  }
  if (kind == "event") {
    json received = json::array();
    for (int j = 0, n = step.at("n").get<int>(); j < n; ++j)
      received.push_back(co_await ctx.wait_for_event<std::string>(event));
    co_return received;
  }
  if (kind == "sub") co_return co_await run_sub(ctx, orchestration_name, step.at("p"));
  if (kind == "all") {
    std::vector<task<json>> branches;
    for (const auto& b : step.at("b")) branches.push_back(run_step(ctx, b, {}));
    co_return json(co_await when_all(std::move(branches)));
  }
  if (kind == "any") {
    task<json> work = ctx.call_activity<json>(activity_name, json{{"v", step.at("v")}, {"mode", "ok"}});
    task<void> deadline = ctx.create_timer(1h);
    const size_t winner = co_await when_any(work, deadline);
    json result = json::array({"any", winner});
    if (winner == 0) result.push_back(co_await work);
    co_return result;
  }
  if (kind == "send") {
    const int n = step.at("n").get<int>();
    for (int j = 0; j < n; ++j) ctx.send_event(ctx.instance_id(), event, sent_payload(event, j));
    json received = json::array();
    for (int j = 0; j < n; ++j) received.push_back(co_await ctx.wait_for_event<std::string>(event));
    co_return received;
  }
  if (kind == "nosub") co_return co_await run_sub(ctx, unregistered_name, json::object());
  if (kind == "dup") {
    const std::string id = step_instance_id(ctx.instance_id(), "~d", event);
    std::vector<task<json>> both;
    both.push_back(run_sub(ctx, orchestration_name, step.at("p"), id));
    both.push_back(run_sub(ctx, orchestration_name, step.at("p"), id));
    co_return json(co_await when_all(std::move(both)));
  }
  if (kind == "stuck") {
    const std::string id = step_instance_id(ctx.instance_id(), "~s", event);
    co_return co_await run_sub(ctx, orchestration_name, stuck_program(), id);
  }
  throw std::invalid_argument("unknown step kind '" + kind + "'");
}

json tail_failure_input() { return json{{"v", tail_failure_value}, {"mode", "fail"}}; }

task<json> program(orchestration_context& ctx, json input) {
  const json p = input.at("p");
  const int round = input.at("r").get<int>();
  json acc = input.at("acc");
  json out = json::array();
  const auto& steps = p.at("steps");
  for (size_t i = 0; i < steps.size(); ++i) out.push_back(co_await run_step(ctx, steps[i], event_name(i, round)));
  acc.push_back(std::move(out));
  if (round + 1 < p.at("rounds").get<int>()) {
    ctx.continue_as_new(json{{"p", p}, {"r", round + 1}, {"acc", acc}});
    co_return json();
  }
  const std::string tail = p.at("tail").get<std::string>();
  if (tail == "fail") {
    const json failing = tail_failure_input();
    co_await ctx.call_activity<json>(activity_name, failing);
  }
  if (tail == "forever") {
    ctx.set_custom_status(std::string("tail"));
    co_await ctx.wait_for_event<std::string>("Never");
  }
  co_return acc;
}

json work(activity_context& ctx, json input, flaky_key key) {
  const int v = input.at("v").get<int>();
  const std::string mode = input.at("mode").get<std::string>();
  if (mode == "fail") throw std::runtime_error("planned failure " + std::to_string(v));
  const std::string_view id = key == flaky_key::root_id
                                  ? std::string_view(ctx.instance_id()).substr(0, ctx.instance_id().find(':'))
                                  : std::string_view(ctx.instance_id());
  const uint64_t h = fnv1a(std::to_string(ctx.task_id()), fnv1a(id));
  if (mode == "flaky" && h % 10 < 3) throw std::runtime_error("transient failure " + std::to_string(v));
  // A short, varying run time keeps activities in flight when the node is killed.
  std::this_thread::sleep_for(std::chrono::milliseconds(h % 4));
  return v * 2 + 1;
}

// ---- the oracle ------------------------------------------------------------------------------

json eval_program(const std::string& id, const json& p);

json eval_sub(const std::string& id, const json& p) {
  return p.at("tail") == "fail" ? json("SF") : eval_program(id, p);
}

json eval_step(const std::string& id, const json& step, const std::string& event) {
  const std::string kind = step.at("k").get<std::string>();
  if (kind == "act") {
    const int v = step.at("v").get<int>();
    return step.at("mode") == "fail" ? json("F" + std::to_string(v)) : json(v * 2 + 1);
  }
  if (kind == "timer") return "t";
  if (kind == "event") {
    json received = json::array();
    for (int j = 0, n = step.at("n").get<int>(); j < n; ++j) received.push_back(event_payload(id, event, j));
    return received;
  }
  if (kind == "sub") return eval_sub(id, step.at("p"));
  if (kind == "send") {
    json received = json::array();
    for (int j = 0, n = step.at("n").get<int>(); j < n; ++j) received.push_back(sent_payload(event, j));
    return received;
  }
  if (kind == "nosub" || kind == "stuck") return "SF";
  if (kind == "dup") return json::array({eval_sub(id, step.at("p")), "SF"});
  if (kind == "all") {
    json results = json::array();
    for (const auto& b : step.at("b")) results.push_back(eval_step(id, b, {}));
    return results;
  }
  return json::array({"any", 0, step.at("v").get<int>() * 2 + 1});
}

json eval_program(const std::string& id, const json& p) {
  json acc = json::array();
  const auto& steps = p.at("steps");
  for (int round = 0; round < p.at("rounds").get<int>(); ++round) {
    json out = json::array();
    for (size_t i = 0; i < steps.size(); ++i) out.push_back(eval_step(id, steps[i], event_name(i, round)));
    acc.push_back(std::move(out));
  }
  return acc;
}

}  // namespace

instance_plan generate(uint64_t seed, int index, const generation_options& options) {
  random_source r{seed * 1'000'003ULL + static_cast<uint64_t>(index)};
  instance_plan plan;
  plan.id = "t" + std::to_string(seed) + "-" + std::to_string(index);
  plan.program = generate_program(r, 0, true, options);
  plan.suspend = r.chance(20);
  plan.event_pass = r.below(10);
  plan.terminate_pass = r.below(20);
  return plan;
}

json start_input(const json& program) { return json{{"p", program}, {"r", 0}, {"acc", json::array()}}; }

std::string event_name(size_t step_index, int round) {
  return "E" + std::to_string(step_index) + "r" + std::to_string(round);
}

std::string stuck_instance_id(const std::string& root_id, size_t step_index, int round) {
  return step_instance_id(root_id, "~s", event_name(step_index, round));
}

std::string event_payload(const std::string& instance_id, const std::string& name, int j) {
  return instance_id + "/" + name + "/" + std::to_string(j);
}

expectation expected(const std::string& instance_id, const json& program) {
  expectation e;
  const std::string tail = program.at("tail").get<std::string>();
  if (tail == "fail") {
    e.status = runtime_status::failed;
    e.failure_message = "planned failure " + std::to_string(tail_failure_value);
  } else if (tail == "forever") {
    e.status = runtime_status::terminated;
    e.output = terminate_reason;
  } else {
    e.output = eval_program(instance_id, program);
  }
  return e;
}

void register_functions(registry& functions, flaky_key key) {
  functions.add_orchestration(orchestration_name, program);
  functions.add_activity(activity_name,
                         [key](activity_context& ctx, json input) { return work(ctx, std::move(input), key); });
}

}  // namespace perdure::torture
