// Activity timeouts, heartbeats, cancellation and async completion (task tokens) as the partition
// state machine decides them: driven directly, as its shell drives it, over a hub_store in memory
// that outlives a machine (a restart is a new machine recovering from the same store).
#include <partition/activity_token.hpp>
#include <partition/state_machine.hpp>

#include <perdure/errors.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <variant>

using namespace perdure;
using namespace perdure::partition;
using namespace std::chrono_literals;

namespace {

activity_options guarded_options(std::string_view which) {
  activity_options options;
  retry_policy retry;
  retry.max_attempts = 5;
  retry.first_interval = 1s;
  retry.backoff_coefficient = 1.0;
  options.retry = retry;
  if (which == "start-to-close") options.start_to_close_timeout = 10s;
  if (which == "heartbeat") options.heartbeat_timeout = 5s;
  if (which == "schedule-to-close") {
    options.start_to_close_timeout = 10s;
    options.schedule_to_close_timeout = 15s;
  }
  return options;
}

// Calls "Work" with the options its input names.
task<std::string> guarded(orchestration_context& ctx, std::string which) {
  co_return co_await ctx.call_activity<std::string>("Work", which, guarded_options(which));
}

task<std::string> plain(orchestration_context& ctx, std::string input) {
  co_return co_await ctx.call_activity<std::string>("Work", input);
}

// A partition over a store that survives it: restart() is a kill -9 and a restart.
struct partition_on_memory {
  registry functions;
  std::unique_ptr<storage::hub_store> store;
  std::unique_ptr<state_machine> machine;
  time_point now = time_point(std::chrono::seconds(1704067200));

  partition_on_memory() {
    functions.add_orchestration("Guarded", guarded);
    functions.add_orchestration("Plain", plain);
    store = storage::hub_store::open("activity_timeout_test",
                                     storage::store_options{1, false, 4u << 20, storage::wal_damage::refuse, true});
    restart();
  }

  actions restart() {
    state_machine_config config;
    config.store = store.get();
    config.functions = &functions;
    config.new_execution_id = [](std::string_view id) { return std::string(id) + "#1"; };
    machine = std::make_unique<state_machine>(std::move(config));
    return machine->recover(now);
  }

  actions flush() {
    auto batch = machine->prepare(now);
    storage::commit_result result;
    if (has_writes(batch)) result = store->commit(batch);
    return machine->committed(std::move(batch), std::move(result), now);
  }

  actions start(std::string which) {
    machine->start(1, "Guarded", "\"" + which + "\"", "i", false, events::execution_started::any_version, now);
    return flush();
  }

  // The attempt's worker ran it and it returned after complete_asynchronously(); the commit that
  // marks it.
  actions return_pending(const storage::activity_task& task) {
    machine->awaiting_completion(attempt_ref{task.instance_id, task.execution_id, task.task_id}, now);
    return flush();
  }

  // A completion by token, as a client sends it: the answer it gets (after the commit it needs).
  answer_value send_completion(message completion, request_id caller) {
    auto out = machine->command(caller, std::move(completion));
    for (auto& a : flush()) out.push_back(std::move(a));
    for (auto& reply : all_of_answers(out))
      if (reply.to == caller) return reply.value;
    FAIL("no answer to the completion");
    return false;
  }

  // A heartbeat by token, as a client sends it: the answer it gets at once (it needs no commit).
  answer_value send_heartbeat(std::string_view token, std::string details, request_id caller) {
    for (auto& reply : all_of_answers(machine->heartbeat_by_token(caller, attempt_of_task_token(token), std::move(details), now)))
      if (reply.to == caller) return reply.value;
    FAIL("no answer to the heartbeat");
    return false;
  }

  static std::vector<answer> all_of_answers(const actions& out) {
    std::vector<answer> found;
    for (const auto& a : out)
      if (auto* reply = std::get_if<answer>(&a)) found.push_back(*reply);
    return found;
  }

  // The wake-up came at `at`; the flush it asks for.
  actions wake_at(time_point at) {
    now = at;
    auto out = machine->on_timer(now);
    for (auto& a : flush()) out.push_back(std::move(a));
    return out;
  }

  actions deliver(int32_t task_id, std::string output) {
    machine->deliver(message{"i", "i#1", history_event{now, events::task_completed{task_id, std::move(output)}}});
    return flush();
  }
};

template <class Action>
std::vector<Action> all_of(const actions& out) {
  std::vector<Action> found;
  for (const auto& a : out)
    if (auto* wanted = std::get_if<Action>(&a)) found.push_back(*wanted);
  return found;
}

std::vector<storage::activity_task> dispatched(const actions& out) {
  std::vector<storage::activity_task> tasks;
  for (auto& d : all_of<dispatch_activities>(out)) tasks.insert(tasks.end(), d.tasks.begin(), d.tasks.end());
  return tasks;
}

std::optional<time_point> armed(const actions& out) {
  auto arms = all_of<arm_timer>(out);
  if (arms.empty()) return std::nullopt;
  return arms.back().at;
}

// The task's results in the history: each answer it got.
std::vector<event_payload> results_of(const history& h, int32_t task_id) {
  std::vector<event_payload> found;
  for (const auto& e : h) {
    if (auto* done = std::get_if<events::task_completed>(&e.payload); done && done->task_id == task_id)
      found.push_back(e.payload);
    if (auto* failed = std::get_if<events::task_failed>(&e.payload); failed && failed->task_id == task_id)
      found.push_back(e.payload);
  }
  return found;
}

events::task_failed only_failure(const history& h, int32_t task_id) {
  auto results = results_of(h, task_id);
  REQUIRE(results.size() == 1);
  auto* failed = std::get_if<events::task_failed>(&results.front());
  REQUIRE(failed);
  return *failed;
}

}  // namespace

TEST_CASE("an attempt past its start-to-close timeout fails with a TimeoutError, is cancelled and retried, and its late "
          "result is dropped") {
  partition_on_memory p;
  const auto scheduled_at = p.now;
  auto out = p.start("start-to-close");
  auto first = dispatched(out);
  REQUIRE(first.size() == 1);
  CHECK(first[0].timeouts.attempt_deadline == scheduled_at + 10s);
  CHECK(armed(out) == scheduled_at + 10s);

  out = p.wake_at(scheduled_at + 10s);
  const auto failure = only_failure(p.store->history("i"), 0);
  CHECK(failure.failure.error_type == "TimeoutError");
  CHECK(failure.failure.details == "StartToClose");
  auto cancels = all_of<cancel_activities>(out);
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].timed_out == std::vector<attempt_ref>{{"i", "i#1", 0}});

  // The retry policy saw the failure: after its backoff timer, the second attempt.
  REQUIRE(armed(out));
  auto second = dispatched(p.wake_at(*armed(out)));
  REQUIRE(second.size() == 1);
  CHECK(second[0].attempt == 2);
  CHECK(second[0].first_task_id == 0);

  p.deliver(0, "\"late\"");  // the first attempt, which did not stop
  CHECK(results_of(p.store->history("i"), 0).size() == 1);
  p.deliver(second[0].task_id, "\"second\"");
  auto record = p.store->instance("i");
  REQUIRE(record);
  CHECK(record->status == runtime_status::completed);
  CHECK(record->output == "\"second\"");
}

TEST_CASE("heartbeats keep an attempt alive past its heartbeat timeout, and the last details reach the next attempt") {
  partition_on_memory p;
  const auto t0 = p.now;
  auto out = p.start("heartbeat");
  auto first = dispatched(out);
  REQUIRE(first.size() == 1);
  CHECK_FALSE(armed(out));  // waiting for a worker is not silence: the timeout counts from the start
  const attempt_ref attempt{"i", "i#1", first[0].task_id};

  p.now = t0 + 2s;  // a worker starts it, which is its first heartbeat
  CHECK(armed(p.machine->heartbeat(attempt, {}, p.now)) == t0 + 7s);
  p.now = t0 + 6s;
  CHECK_FALSE(armed(p.machine->heartbeat(attempt, "{\"step\":1}", p.now)));  // the wake-up at 7 s comes first
  p.now = t0 + 10s;
  p.machine->heartbeat(attempt, "{\"step\":2}", p.now);
  p.now = t0 + 13s;
  p.machine->heartbeat(attempt, {}, p.now);  // alive, no new details
  // The wake-up armed for 7 s finds the attempt alive: nothing times out, the next is its deadline.
  out = p.wake_at(t0 + 7s);
  CHECK(results_of(p.store->history("i"), 0).empty());
  CHECK(armed(out) == t0 + 18s);

  out = p.wake_at(t0 + 18s);
  const auto failure = only_failure(p.store->history("i"), 0);
  CHECK(failure.failure.error_type == "TimeoutError");
  CHECK(failure.failure.details == "Heartbeat");
  CHECK(failure.last_heartbeat_details == "{\"step\":2}");

  auto second = dispatched(p.wake_at(*armed(out)));
  REQUIRE(second.size() == 1);
  CHECK(second[0].heartbeat_details == "{\"step\":2}");
}

TEST_CASE("a deadline holds across a restart: the attempt runs again, times out at its durable deadline and is "
          "retried") {
  partition_on_memory p;
  const auto scheduled_at = p.now;
  REQUIRE(dispatched(p.start("start-to-close")).size() == 1);

  p.now = scheduled_at + 3s;
  auto recovered = p.restart();  // what was in memory is gone
  auto again = dispatched(recovered);
  REQUIRE(again.size() == 1);
  CHECK(again[0].task_id == 0);
  CHECK(armed(recovered) == scheduled_at + 10s);

  auto out = p.wake_at(scheduled_at + 10s);
  CHECK(only_failure(p.store->history("i"), 0).failure.error_type == "TimeoutError");
  auto second = dispatched(p.wake_at(*armed(out)));
  REQUIRE(second.size() == 1);
  CHECK(second[0].attempt == 2);

  p.deliver(0, "\"late\"");  // the run of the first attempt after the restart
  CHECK(results_of(p.store->history("i"), 0).size() == 1);
}

TEST_CASE("a schedule-to-close timeout ends the call: the attempt running at it times out and no retry follows") {
  partition_on_memory p;
  const auto t0 = p.now;
  p.start("schedule-to-close");
  auto out = p.wake_at(t0 + 10s);  // the first attempt's start-to-close
  CHECK(only_failure(p.store->history("i"), 0).failure.details == "StartToClose");
  auto second = dispatched(p.wake_at(*armed(out)));  // after the 1 s backoff
  REQUIRE(second.size() == 1);
  CHECK(second[0].timeouts.attempt_deadline == t0 + 21s);
  CHECK(second[0].timeouts.call_deadline == t0 + 15s);

  p.wake_at(t0 + 15s);
  CHECK(only_failure(p.store->history("i"), second[0].task_id).failure.details == "ScheduleToClose");
  auto record = p.store->instance("i");
  REQUIRE(record);
  CHECK(record->status == runtime_status::failed);
  REQUIRE(record->failure);
  CHECK(record->failure->error_type == "TimeoutError");
}

TEST_CASE("an instance that ends cancels its running attempts, which then no longer time out") {
  partition_on_memory p;
  REQUIRE(dispatched(p.start("start-to-close")).size() == 1);
  p.machine->command(2, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  auto out = p.flush();
  auto cancels = all_of<cancel_activities>(out);
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].ended_instances == std::vector<std::string>{"i"});

  p.wake_at(p.now + 10s);
  CHECK(results_of(p.store->history("i"), 0).empty());
}

TEST_CASE("an activity without timeouts is not timed: no wake-up is asked for it") {
  partition_on_memory p;
  p.machine->start(1, "Plain", "\"\"", "plain", false, events::execution_started::any_version, p.now);
  auto out = p.flush();
  auto tasks = dispatched(out);
  REQUIRE(tasks.size() == 1);
  CHECK_FALSE(tasks[0].timeouts.any());
  CHECK_FALSE(armed(out));
}

namespace {

bool accepted(const answer_value& value) { return std::holds_alternative<std::string>(value); }

std::optional<refusal_code> refused(const answer_value& value) {
  if (auto* r = std::get_if<refusal>(&value)) return r->code;
  return std::nullopt;
}

}  // namespace

TEST_CASE("an attempt awaiting completion is kept across a restart, not run again, and completed by its token once") {
  partition_on_memory p;
  p.machine->start(1, "Plain", "\"x\"", "i", false, events::execution_started::any_version, p.now);
  auto tasks = dispatched(p.flush());
  REQUIRE(tasks.size() == 1);
  const auto token = activity_task_token(tasks[0]);
  p.return_pending(tasks[0]);
  auto queued = p.store->activity("i", tasks[0].task_id);
  REQUIRE(queued);
  CHECK(queued->awaiting_completion);

  CHECK(dispatched(p.restart()).empty());  // a kill -9 and restart: it ran already

  CHECK(accepted(p.send_completion(activity_completion(token, "\"done\"", p.now), 2)));
  auto record = p.store->instance("i");
  REQUIRE(record);
  CHECK(record->status == runtime_status::completed);
  CHECK(record->output == "\"done\"");
  CHECK_FALSE(p.store->activity("i", tasks[0].task_id));

  // A second completion, whatever its result, changes nothing.
  CHECK(refused(p.send_completion(activity_completion(token, "\"again\"", p.now), 3)) == refusal_code::instance_finished);
  CHECK(results_of(p.store->history("i"), tasks[0].task_id).size() == 1);
}

TEST_CASE("a second completion of an open attempt is refused, in the same flush and after its commit") {
  partition_on_memory p;
  const auto task = dispatched(p.start("start-to-close")).at(0);  // retried: the instance outlives the first answer
  const auto token = activity_task_token(task);
  p.return_pending(task);

  // Two completions queued for one flush: the first one wins.
  auto first = p.machine->command(2, activity_failure(token, failure_details{"Declined", "no", {}, false}, p.now));
  CHECK(first.empty());
  auto second = p.machine->command(3, activity_completion(token, "\"yes\"", p.now));
  REQUIRE(second.size() == 1);
  CHECK(refused(std::get<answer>(second[0]).value) == refusal_code::activity_not_open);
  p.flush();
  const auto failure = only_failure(p.store->history("i"), task.task_id);
  CHECK(failure.failure.error_type == "Declined");

  // After the commit, the attempt is no longer in the queue.
  CHECK(refused(p.send_completion(activity_completion(token, "\"yes\"", p.now), 4)) == refusal_code::activity_not_open);
  CHECK(results_of(p.store->history("i"), task.task_id).size() == 1);
}

TEST_CASE("a pending attempt still times out, and its token is refused after that") {
  partition_on_memory p;
  const auto t0 = p.now;
  const auto task = dispatched(p.start("start-to-close")).at(0);
  p.return_pending(task);
  auto out = p.wake_at(t0 + 10s);
  CHECK(only_failure(p.store->history("i"), task.task_id).failure.details == "StartToClose");
  auto retry = dispatched(p.wake_at(*armed(out)));
  REQUIRE(retry.size() == 1);  // the retry policy decided: a new attempt with a new token
  CHECK(activity_task_token(retry[0]) != activity_task_token(task));
  CHECK(refused(p.send_completion(activity_completion(activity_task_token(task), "\"late\"", p.now), 2)) ==
        refusal_code::activity_not_open);
}

TEST_CASE("heartbeats by token keep a pending attempt alive, and when they stop it times out with their last details, "
          "the retry gets them, and its token is refused") {
  partition_on_memory p;
  const auto t0 = p.now;
  const auto task = dispatched(p.start("heartbeat")).at(0);
  const auto token = activity_task_token(task);
  p.machine->heartbeat(attempt_ref{"i", "i#1", task.task_id}, {}, t0);  // its worker starts it
  p.now = t0 + 1s;
  p.return_pending(task);  // its return is a heartbeat: the next deadline is 6 s

  p.now = t0 + 4s;
  CHECK(accepted(p.send_heartbeat(token, "{\"step\":1}", 2)));
  p.now = t0 + 8s;
  CHECK(accepted(p.send_heartbeat(token, {}, 3)));  // alive, no new details: the deadline is 13 s
  auto out = p.wake_at(t0 + 9s);  // the wake-up armed for the earlier deadlines finds it alive
  CHECK(results_of(p.store->history("i"), task.task_id).empty());
  CHECK(armed(out) == t0 + 13s);

  out = p.wake_at(t0 + 13s);
  const auto failure = only_failure(p.store->history("i"), task.task_id);
  CHECK(failure.failure.error_type == "TimeoutError");
  CHECK(failure.failure.details == "Heartbeat");
  CHECK(failure.last_heartbeat_details == "{\"step\":1}");
  CHECK(refused(p.send_heartbeat(token, {}, 4)) == refusal_code::activity_not_open);  // the external worker stops

  auto retry = dispatched(p.wake_at(*armed(out)));
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].attempt == 2);
  CHECK(retry[0].heartbeat_details == "{\"step\":1}");
}

TEST_CASE("a pending attempt recovered by a restart has its heartbeat timeout start again at the recovery") {
  partition_on_memory p;
  const auto t0 = p.now;
  const auto task = dispatched(p.start("heartbeat")).at(0);
  p.return_pending(task);
  p.now = t0 + 30s;  // down for longer than the heartbeat timeout
  auto recovered = p.restart();
  CHECK(dispatched(recovered).empty());
  CHECK(armed(recovered) == t0 + 35s);
  p.now = t0 + 33s;
  CHECK(accepted(p.send_heartbeat(activity_task_token(task), {}, 2)));
  p.wake_at(t0 + 35s);
  CHECK(results_of(p.store->history("i"), task.task_id).empty());
  p.wake_at(t0 + 38s);
  CHECK(only_failure(p.store->history("i"), task.task_id).failure.details == "Heartbeat");
}

TEST_CASE("a heartbeat by token is refused for an unknown instance, a replaced execution, an answered attempt and an "
          "ended instance") {
  partition_on_memory p;
  const auto task = dispatched(p.start("start-to-close")).at(0);
  const auto token = activity_task_token(task);
  p.return_pending(task);
  CHECK(accepted(p.send_heartbeat(token, {}, 2)));  // an attempt without a heartbeat timeout may heartbeat too
  auto unknown_instance = task;
  unknown_instance.instance_id = "nobody";
  CHECK(refused(p.send_heartbeat(activity_task_token(unknown_instance), {}, 3)) == refusal_code::not_found);
  auto other_execution = task;
  other_execution.execution_id = "i#0";
  CHECK(refused(p.send_heartbeat(activity_task_token(other_execution), {}, 4)) == refusal_code::activity_not_open);

  // Answered in this flush, not yet committed: already closed.
  p.machine->command(5, activity_failure(token, failure_details{"Declined", "no", {}, false}, p.now));
  CHECK(refused(p.send_heartbeat(token, {}, 6)) == refusal_code::activity_not_open);
  p.flush();
  CHECK(refused(p.send_heartbeat(token, {}, 7)) == refusal_code::activity_not_open);

  p.machine->command(8, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  p.flush();
  CHECK(refused(p.send_heartbeat(token, {}, 9)) == refusal_code::instance_finished);  // cancelled
}

TEST_CASE("a completion for an unknown instance, an ended one or a replaced execution is refused") {
  partition_on_memory p;
  const auto task = dispatched(p.start("start-to-close")).at(0);
  auto other_execution = task;
  other_execution.execution_id = "i#0";
  CHECK(refused(p.send_completion(activity_completion(activity_task_token(other_execution), "1", p.now), 2)) ==
        refusal_code::activity_not_open);
  auto unknown_task = task;
  unknown_task.task_id = 77;
  CHECK(refused(p.send_completion(activity_completion(activity_task_token(unknown_task), "1", p.now), 3)) ==
        refusal_code::activity_not_open);
  auto unknown_instance = task;
  unknown_instance.instance_id = "nobody";
  CHECK(refused(p.send_completion(activity_completion(activity_task_token(unknown_instance), "1", p.now), 4)) ==
        refusal_code::not_found);

  p.machine->command(5, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  p.flush();
  CHECK(refused(p.send_completion(activity_completion(activity_task_token(task), "1", p.now), 6)) ==
        refusal_code::instance_finished);
}

TEST_CASE("a completion's result passes the rules of an activity's result") {
  partition_on_memory p;
  p.machine->start(1, "Plain", "\"x\"", "i", false, events::execution_started::any_version, p.now);
  const auto task = dispatched(p.flush()).at(0);
  CHECK(accepted(p.send_completion(activity_completion(activity_task_token(task), "{not json", p.now), 2)));
  const auto failure = only_failure(p.store->history("i"), task.task_id);
  CHECK(failure.failure.error_type == "perdure::payload_error");
}

TEST_CASE("a malformed task token is an invalid argument") {
  for (std::string token : {"", "zz", "abc", "03", "0300000001", "01000000016900000003692331000000000000"}) {
    CAPTURE(token);
    CHECK_THROWS_AS(attempt_of_task_token(token), invalid_argument_error);
  }
  storage::activity_task task;
  task.instance_id = "i";
  task.execution_id = "i#1";
  task.task_id = 4;
  const auto attempt = attempt_of_task_token(activity_task_token(task));
  CHECK(attempt == attempt_ref{"i", "i#1", 4});
  CHECK_THROWS_AS(attempt_of_task_token(activity_task_token(task) + "00"), invalid_argument_error);
}

TEST_CASE("a token of an ended execution is refused while the instance is being started again") {
  partition_on_memory p;
  p.machine->start(1, "Plain", "\"x\"", "i", false, events::execution_started::any_version, p.now);
  const auto task = dispatched(p.flush()).at(0);
  p.machine->command(2, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  p.flush();
  REQUIRE(p.store->activity("i", task.task_id));  // the attempt's entry outlives its execution
  p.machine->start(3, "Plain", "\"y\"", "i", false, events::execution_started::any_version, p.now);
  auto out = p.machine->command(4, activity_completion(activity_task_token(task), "\"old\"", p.now));
  REQUIRE(out.size() == 1);
  CHECK(refused(std::get<answer>(out[0]).value) == refusal_code::activity_not_open);
}

TEST_CASE("a pending attempt's queue entry goes with the end of its instance, and a restart does not time it") {
  partition_on_memory p;
  const auto task = dispatched(p.start("start-to-close")).at(0);
  p.return_pending(task);
  REQUIRE(p.store->activity("i", task.task_id));
  p.machine->command(2, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  p.flush();
  CHECK_FALSE(p.store->activity("i", task.task_id));
  auto recovered = p.restart();
  CHECK(dispatched(recovered).empty());
  CHECK_FALSE(armed(recovered));  // nothing is left to time out
}

TEST_CASE("an attempt that returns pending after its instance ended loses its queue entry instead of being marked") {
  partition_on_memory p;
  const auto task = dispatched(p.start("start-to-close")).at(0);
  p.machine->command(2, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  p.flush();
  REQUIRE(p.store->activity("i", task.task_id));  // its worker may still answer
  p.return_pending(task);
  CHECK_FALSE(p.store->activity("i", task.task_id));
}

TEST_CASE("an attempt that returns pending in the batch that ends its instance loses its queue entry too") {
  partition_on_memory p;
  const auto task = dispatched(p.start("start-to-close")).at(0);
  p.machine->command(2, message{"i", {}, history_event{p.now, events::execution_terminated{"enough"}}});
  p.return_pending(task);
  CHECK_FALSE(p.store->activity("i", task.task_id));
}
