// orchestration_tester: production's partition state machine over an in-memory store, with virtual
// time, driven in one thread. It plays the partition actor's part: commits each batch, runs the
// activities it asks for (stubs first), delivers its messages back to it and advances the clock
// to the next timer when nothing else is left to do.
#include <perdure/testing.hpp>

#include <perdure/detail/overloaded.hpp>
#include <perdure/errors.hpp>
#include <perdure/failure.hpp>

#include "activities.hpp"
#include "activity_token.hpp"
#include "state_machine.hpp"

#include <deque>
#include <map>
#include <unordered_map>

namespace perdure {

namespace {

using namespace partition;

struct scheduled_message {
  std::chrono::nanoseconds after;
  std::string instance_id;  // empty: the instance run() starts
  event_payload event;
};

}  // namespace

struct orchestration_tester::impl {
  time_point start = time_point(std::chrono::seconds(1704067200));
  size_t max_episodes = 100'000;
  std::vector<scheduled_message> scheduled;  // from schedule(), before run()

  // One run.
  time_point now{};
  std::unique_ptr<storage::hub_store> store;
  std::unique_ptr<state_machine> machine;
  std::unordered_map<std::string, int> executions;  // per instance, for readable execution ids
  std::optional<time_point> wake_up;
  std::deque<message> in_flight;  // messages between instances, activity results
  std::vector<message> sent_elsewhere;
  std::unordered_map<std::string, std::vector<history>> earlier;  // continued-as-new executions
  std::map<std::string, test_instance> results;  // filled after the run, by instance id
  std::vector<std::string> created;               // instance ids in order of their first commit
  // What arrives at a later virtual time: a client's command (a scheduled message, a completion by
  // token), or the result of an attempt that takes virtual time (activity_duration), which comes
  // as a worker's does.
  struct arrival {
    message msg;
    bool from_worker = false;
  };
  std::multimap<time_point, arrival> later;

  void begin(const registry& functions) {
    now = start;
    store = storage::hub_store::open("orchestration_tester", storage::store_options{1, false, 4u << 20,
                                                                                   storage::wal_damage::refuse, true});
    state_machine_config config;
    config.store = store.get();
    config.functions = &functions;
    config.max_cached_instances = 1'000'000;
    config.new_execution_id = [this](std::string_view instance_id) {
      return std::string(instance_id) + "#" + std::to_string(++executions[std::string(instance_id)]);
    };
    machine = std::make_unique<state_machine>(std::move(config));
    executions.clear();
    wake_up.reset();
    in_flight.clear();
    sent_elsewhere.clear();
    earlier.clear();
    results.clear();
    created.clear();
    later.clear();
    start_refusal.reset();
    carry_out(machine->recover(now));
  }

  void carry_out(actions out) {
    for (auto& action : out) {
      std::visit(detail::overloaded{
                     [&](dispatch_activities& dispatch) {
                       for (auto& task : dispatch.tasks) run_activity(task);
                     },
                     [](const cancel_activities&) {},  // activities here run to their end at once
                     [&](const arm_timer& arm) { wake_up = arm.at; },
                     [&](send_message& sent) { route(std::move(sent.msg)); },
                     [&](const acknowledge& ack) { machine->acknowledged(ack.seq); },
                     [](const export_spans&) {},  // a unit test exports no traces
                     [&](answer& reply) {
                       if (auto* refused = std::get_if<refusal>(&reply.value)) {
                         if (reply.to == start_request) start_refusal = std::move(*refused);
                         if (reply.to == command_request) command_refusal = std::move(*refused);
                       }
                     },
                 },
                 action);
    }
  }

  const registry* functions = nullptr;
  const registry* stubs = nullptr;
  const std::vector<async_answer>* async_answers = nullptr;
  const std::map<std::string, std::function<std::chrono::nanoseconds(int32_t)>>* durations = nullptr;
  static constexpr request_id start_request = 1;
  static constexpr request_id command_request = 2;
  std::optional<refusal> start_refusal;
  std::optional<refusal> command_refusal;

  // As a node's worker: an attempt with timeouts heartbeats its partition, its start first.
  void run_activity(const storage::activity_task& task) {
    const registry& from = stubs->has_activity(task.name) ? *stubs : *functions;
    const attempt_ref attempt{task.instance_id, task.execution_id, task.task_id};
    attempt_connection connection;
    if (task.timeouts.any()) {
      carry_out(machine->heartbeat(attempt, {}, now));
      connection.heartbeat = [this, attempt](const std::string& details) {
        carry_out(machine->heartbeat(attempt, details, now));
      };
    }
    if (auto outcome = partition::run_activity(from, task, std::move(connection))) {
      const auto duration = durations->find(task.name);
      if (duration == durations->end()) {
        in_flight.push_back(message{task.instance_id, task.execution_id, history_event{now, std::move(*outcome)}});
        return;
      }
      const time_point done_at = now + duration->second(task.attempt);
      later.emplace(done_at, arrival{message{task.instance_id, task.execution_id,
                                             history_event{done_at, std::move(*outcome)}},
                                     true});
      return;
    }
    carry_out(machine->awaiting_completion(attempt_ref{task.instance_id, task.execution_id, task.task_id}, now));
    answer_later(task);
  }

  // What the test's stand-in for the external system answers, as a completion by token.
  void answer_later(const storage::activity_task& task) {
    for (const auto& answer : *async_answers) {
      if (answer.activity_name != task.name) continue;
      const auto token = activity_task_token(task);
      const time_point at = now + answer.after;
      try {
        later.emplace(at, arrival{activity_completion(token, answer.result(token), at)});
      } catch (...) {
        later.emplace(at, arrival{activity_failure(token, to_failure_details(std::current_exception()), at)});
      }
      return;
    }
  }

  // An event raised on an instance the run does not know goes to sent_elsewhere, as the test's
  // view of the world outside; everything else comes back to the partition.
  void route(message msg) {
    if (std::holds_alternative<events::event_raised>(msg.event.payload) && !store->instance(msg.instance_id))
      sent_elsewhere.push_back(msg);  // and still delivered, so the partition sees it acknowledged
    in_flight.push_back(std::move(msg));
  }

  // A new execution of a running instance is a continue-as-new: keep what the store held of the
  // previous one, which the commit replaces.
  void note_executions(const storage::commit_batch& batch) {
    for (const auto& episode : batch.episodes) {
      if (!episode.new_execution) continue;
      auto previous = store->instance(episode.instance_id);
      if (!previous) {
        created.push_back(episode.instance_id);
      } else if (!is_terminal(previous->status)) {
        earlier[episode.instance_id].push_back(store->history(episode.instance_id));
      }
    }
  }

  size_t flush() {
    auto batch = machine->prepare(now);
    const size_t episodes = machine->last_episodes();
    storage::commit_result result;
    if (has_writes(batch)) {
      note_executions(batch);
      result = store->commit(batch);
    }
    carry_out(machine->committed(std::move(batch), std::move(result), now));
    return episodes;
  }

  void deliver_in_flight() {
    while (!in_flight.empty()) {
      auto msg = std::move(in_flight.front());
      in_flight.pop_front();
      carry_out(machine->deliver(std::move(msg)));
    }
  }

  void command(message msg) { carry_out(machine->command(0, std::move(msg))); }

  // A client's command after a run: refused as a client would be told, else run to the end.
  const test_instance& command_after_run(std::string_view instance_id, event_payload event) {
    if (!machine) throw invalid_argument_error("the tester has not run an orchestration yet");
    const std::string id{instance_id};
    command_refusal.reset();
    carry_out(machine->command(command_request, message{id, {}, history_event{now, std::move(event)}}));
    if (command_refusal) throw_refusal(*command_refusal, id);
    run_until_idle();
    collect();
    return results[id];
  }

  [[noreturn]] static void throw_refusal(const refusal& refused, const std::string& instance_id) {
    switch (refused.code) {
      case refusal_code::not_found: throw instance_not_found(instance_id);
      case refusal_code::already_exists: throw instance_already_exists(instance_id);
      case refusal_code::unknown_function: throw unknown_function_error(refused.message);
      case refusal_code::instance_finished: throw instance_finished(refused.message);
      case refusal_code::activity_not_open: throw activity_not_open(refused.message);
      case refusal_code::status_conflict: throw instance_status_conflict(refused.message);
      case refusal_code::unavailable: throw unavailable_error(refused.message);
      case refusal_code::invalid_argument: break;
    }
    throw invalid_argument_error(refused.message);
  }

  // Runs until nothing is left to do but wait for what will never come; `later` holds messages
  // scheduled to arrive at their times.
  void run_until_idle() {
    auto deliver_due = [&] {
      while (!later.empty() && later.begin()->first <= now) {
        auto [msg, from_worker] = std::move(later.begin()->second);
        later.erase(later.begin());
        if (from_worker)
          carry_out(machine->deliver(std::move(msg)));
        else
          command(std::move(msg));
      }
    };
    deliver_due();  // at the start: they arrive with the start, before the orchestration waits
    for (size_t episodes = 0; episodes < max_episodes;) {
      deliver_in_flight();
      if (machine->wants_flush()) {
        episodes += flush();
        continue;
      }
      std::optional<time_point> next = wake_up;
      if (!later.empty() && (!next || later.begin()->first < *next)) next = later.begin()->first;
      if (!next) break;
      if (*next > now) now = *next;
      deliver_due();
      if (wake_up && *wake_up <= now) {
        wake_up.reset();
        carry_out(machine->on_timer(now));
      }
    }
  }

  void collect() {
    for (const auto& id : created) {
      auto record = store->instance(id);
      if (!record) continue;
      test_instance& t = results[id];
      t.instance_id = id;
      t.name = record->name;
      t.status = record->status;
      t.output = record->output;
      t.failure = record->failure;
      t.custom_status = record->custom_status;
      t.events = store->history(id);
      t.earlier = std::move(earlier[id]);
    }
  }
};

orchestration_tester::orchestration_tester(const registry& functions)
    : functions_(functions), impl_(std::make_unique<impl>()) {}

orchestration_tester::~orchestration_tester() = default;

orchestration_tester& orchestration_tester::activity_duration(
    std::string name, std::function<std::chrono::nanoseconds(int32_t attempt)> duration) {
  activity_durations_.insert_or_assign(std::move(name), std::move(duration));
  return *this;
}

orchestration_tester& orchestration_tester::start_at(time_point start) {
  impl_->start = start;
  return *this;
}

orchestration_tester& orchestration_tester::max_episodes(size_t episodes) {
  impl_->max_episodes = episodes;
  return *this;
}

orchestration_tester& orchestration_tester::schedule(std::chrono::nanoseconds after, event_payload event,
                                                     std::string instance_id) {
  impl_->scheduled.push_back(scheduled_message{after, std::move(instance_id), std::move(event)});
  return *this;
}

const test_instance& orchestration_tester::run_raw(std::string name, std::string input_json,
                                                   std::string instance_id) {
  impl& s = *impl_;
  s.functions = &functions_;
  s.stubs = &stubs_;
  s.async_answers = &async_answers_;
  s.durations = &activity_durations_;
  s.begin(functions_);
  s.carry_out(s.machine->start(impl::start_request, std::move(name), std::move(input_json), instance_id, false,
                               events::execution_started::any_version, s.now));
  if (s.start_refusal) impl::throw_refusal(*s.start_refusal, instance_id);

  for (const auto& m : s.scheduled) {
    const time_point at = s.start + m.after;
    s.later.emplace(at, impl::arrival{message{m.instance_id.empty() ? instance_id : m.instance_id, {},
                                              history_event{at, m.event}}});
  }
  s.run_until_idle();
  s.collect();
  return s.results[instance_id];
}

const test_instance& orchestration_tester::rewind(std::string_view instance_id, std::string reason) {
  return impl_->command_after_run(instance_id, events::execution_rewound{std::move(reason)});
}

const test_instance& orchestration_tester::restart(std::string_view instance_id, int32_t from_event, int32_t version) {
  return impl_->command_after_run(instance_id, events::execution_restarted{{}, from_event, version});
}

const test_instance* orchestration_tester::instance(std::string_view instance_id) const {
  auto it = impl_->results.find(std::string(instance_id));
  return it == impl_->results.end() ? nullptr : &it->second;
}

std::optional<entity_record> orchestration_tester::entity(const entity_id& id) const {
  if (!impl_->store) return std::nullopt;
  return impl_->store->entity(id.instance_id());
}

const std::vector<message>& orchestration_tester::sent_elsewhere() const noexcept { return impl_->sent_elsewhere; }

time_point orchestration_tester::now() const noexcept { return impl_->now; }

}  // namespace perdure
