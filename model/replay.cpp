#include <perdure/replay.hpp>

#include <perdure/effective_history.hpp>
#include <perdure/executor.hpp>

namespace perdure {

namespace {

const events::execution_started* find_start(std::span<const history_event> events) {
  for (const auto& e : events)
    if (auto* s = std::get_if<events::execution_started>(&e.payload)) return s;
  return nullptr;
}

void settle(replay_result& result, const history_event& e) {
  if (auto* c = std::get_if<events::execution_completed>(&e.payload)) {
    result.status = runtime_status::completed;
    result.output = c->output;
  } else if (auto* f = std::get_if<events::execution_failed>(&e.payload)) {
    result.status = runtime_status::failed;
    result.failure = f->failure;
  } else if (std::holds_alternative<events::execution_terminated>(e.payload)) {
    result.status = runtime_status::terminated;
  } else if (std::holds_alternative<events::continued_as_new>(e.payload)) {
    result.status = runtime_status::continued_as_new;
  } else if (std::holds_alternative<events::execution_suspended>(e.payload)) {
    result.status = runtime_status::suspended;
  } else if (std::holds_alternative<events::execution_resumed>(e.payload) ||
             std::holds_alternative<events::execution_rewound>(e.payload)) {
    result.status = runtime_status::running;
    result.failure.reset();
  }
}

}  // namespace

replay_result replay(std::span<const history_event> events, const registry& functions,
                     std::string_view name) {
  const auto* start = find_start(events);
  if (start == nullptr) throw invalid_argument_error("the history has no ExecutionStarted event");
  orchestration_executor executor(functions, std::string(name.empty() ? start->name : name), start->version,
                                  start->instance_id);
  replay_result result;
  result.new_events = executor.replay(events).appended;
  const auto superseded = superseded_events(events);
  for (size_t p = 0; p < events.size(); ++p)
    if (!superseded[p]) settle(result, events[p]);
  for (const auto& e : result.new_events) settle(result, e);
  return result;
}

std::optional<nondeterminism_error> check_replay(std::span<const history_event> events,
                                                 const registry& functions, std::string_view name) {
  try {
    replay(events, functions, name);
    return std::nullopt;
  } catch (const nondeterminism_error& e) {
    return e;
  }
}

}  // namespace perdure
