#include "engine.hpp"

#include "describe.hpp"
#include "uuid.hpp"

#include <perdure/detail/entity_locks.hpp>
#include <perdure/detail/json_payload.hpp>
#include <perdure/effective_history.hpp>
#include <perdure/failure.hpp>

#include <algorithm>
#include <limits>

namespace perdure::detail {

namespace {

constexpr size_t no_position = std::numeric_limits<size_t>::max();

template <class Event>
const Event* as(const history_event& e) noexcept {
  return std::get_if<Event>(&e.payload);
}

// The payload an action carries to another function or instance, if any.
const std::string* action_input(const event_payload& p) noexcept {
  if (auto* s = std::get_if<events::task_scheduled>(&p)) return &s->input;
  if (auto* c = std::get_if<events::sub_orchestration_created>(&p)) return &c->input;
  if (auto* e = std::get_if<events::event_sent>(&p)) return &e->input;
  if (auto* c = std::get_if<events::entity_called>(&p)) return &c->input;
  if (auto* g = std::get_if<events::entity_signaled>(&p)) return &g->input;
  return nullptr;
}

}  // namespace

engine::engine(const registry& functions, std::string name, int32_t version, std::string instance_id,
               episode_limits limits)
    : function_(functions.orchestration(name, version)),
      limits_(limits),
      name_(std::move(name)),
      version_(version),
      instance_id_(std::move(instance_id)),
      ctx_(*this) {}

engine::~engine() { release_code(); }

void engine::release_code() noexcept {
  tearing_down_ = true;
  // Frames first: their awaiters detach from the states the engine still holds.
  root_ = task<std::string>{};
  for (auto& a : actions_) a.leaf = {};
  events_.clear();
}

void engine::throw_if_poisoned() const {
  if (nondeterminism_) throw *nondeterminism_;
}

// --- the two entry points ---------------------------------------------------------------------

episode_result engine::execute(std::span<const history_event> new_events) {
  throw_if_poisoned();
  episode_result result;
  for (const history_event& e : new_events) {
    if (ended_) {
      bool carry = continue_as_new_ && continue_as_new_->keep_unprocessed_events &&
                   as<events::event_raised>(e) != nullptr;
      (carry ? result.carryover_events : result.ignored).push_back(e);
      continue;
    }
    (apply(e) ? result.appended : result.ignored).push_back(e);
  }
  finish_episode(result);
  // An episode of nothing but ignored messages leaves no trace: its marker would only bloat the
  // history (the next episode sets the current time again before any code runs).
  if (result.appended.size() == 1 && as<events::episode_started>(result.appended.front())) {
    result.ignored.insert(result.ignored.begin(), std::move(result.appended.front()));
    result.appended.clear();
  }
  return result;
}

episode_result engine::replay(std::span<const history_event> stored) {
  throw_if_poisoned();
  if (started_) throw error("orchestration_executor::replay needs a fresh executor");
  history_ = stored;
  history_actions_.clear();
  // Past the last event the code wrote, the code's behaviour was never recorded (inputs a stalled
  // or waiting instance recorded without running its code): a patch decided there is executed,
  // not replayed.
  // Rewound failures are not the code's to see (effective_history.hpp); positions stay the
  // stored ones, so a non-determinism report points into the history a user reads.
  const auto superseded = superseded_events(stored);
  size_t recorded_until = 0;
  for (size_t p = 0; p < stored.size(); ++p) {
    if (superseded[p]) continue;
    const event_payload& payload = stored[p].payload;
    if (auto* marker = std::get_if<events::patch_marker>(&payload)) history_patches_.insert(marker->patch_id);
    if (action_id(payload) >= 0 || is_code_terminal(payload) || std::holds_alternative<events::patch_marker>(payload))
      recorded_until = p + 1;
  }
  for (size_t p = 0; p < stored.size(); ++p) {
    if (superseded[p]) continue;
    int32_t id = action_id(stored[p].payload);
    if (id < 0) continue;
    if (static_cast<size_t>(id) >= history_actions_.size())
      history_actions_.resize(static_cast<size_t>(id) + 1, no_position);
    history_actions_[static_cast<size_t>(id)] = p;
  }
  replaying_ = true;
  for (size_t p = 0; p < stored.size() && !nondeterminism_; ++p) {
    if (superseded[p]) continue;
    const history_event& e = stored[p];
    if (int32_t id = action_id(e.payload); id >= 0) {
      // The code must have taken this action by now (matching happened when it did).
      if (static_cast<size_t>(id) >= actions_.size())
        fail_nondeterminism(p, describe(e.payload), describe_code_state());
    } else if (is_code_terminal(e.payload)) {
      if (!terminal_ || terminal_written_ || terminal_->index() != e.payload.index())
        fail_nondeterminism(p, describe(e.payload), describe_code_state());
      terminal_written_ = true;
    } else if (!ended_) {
      replaying_recorded_code_ = p < recorded_until;
      apply(e);
    }
  }
  replaying_ = false;
  replaying_recorded_code_ = false;
  history_ = {};
  history_actions_ = {};
  throw_if_poisoned();
  episode_result result;
  finish_episode(result);
  return result;
}

void engine::finish_episode(episode_result& result) {
  if (over_limit_) end_over_limit();
  result.appended.insert(result.appended.end(), std::make_move_iterator(pending_.begin()),
                         std::make_move_iterator(pending_.end()));
  std::vector<history_event>().swap(pending_);  // a fan-out's capacity must not outlive it
  if (ended_ && terminal_ && !terminal_written_) {
    terminal_written_ = true;
    result.appended.push_back(history_event{now_, *terminal_});
    if (continue_as_new_) result.next_version = continue_as_new_->version;
    if (continue_as_new_ && continue_as_new_->keep_unprocessed_events) {
      // Unconsumed events first, in arrival order, then those that came after the end.
      std::vector<std::pair<uint64_t, history_event>> kept;
      for (auto& [name, slot] : events_)
        for (auto& b : slot.buffered) kept.push_back(std::move(b));
      std::sort(kept.begin(), kept.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<history_event> carry;
      carry.reserve(kept.size() + result.carryover_events.size());
      for (auto& k : kept) carry.push_back(std::move(k.second));
      for (auto& c : result.carryover_events) carry.push_back(std::move(c));
      result.carryover_events = std::move(carry);
      events_.clear();
    }
  }
  if (custom_status_changed_) {
    result.custom_status = custom_status_;
    custom_status_changed_ = false;
  }
}

// --- applying events ----------------------------------------------------------------------------

engine::action* engine::answerable(int32_t id, action_kind kind) noexcept {
  if (id < 0 || static_cast<size_t>(id) >= actions_.size()) return nullptr;
  action& a = actions_[static_cast<size_t>(id)];
  if (a.kind != kind || a.answered) return nullptr;
  return &a;
}

bool engine::apply(const history_event& e) {
  const event_payload& p = e.payload;
  if (as<events::episode_started>(e)) {
    now_ = e.timestamp;
    return true;
  }
  if (auto* started = as<events::execution_started>(e)) {
    if (started_) return false;
    start(*started);
    if (now_ == time_point{}) now_ = e.timestamp;
    return true;
  }
  action_kind kind{};
  int32_t id = -1;
  if (auto* c = std::get_if<events::task_completed>(&p)) {
    kind = action_kind::activity, id = c->task_id;
  } else if (auto* f = std::get_if<events::task_failed>(&p)) {
    kind = action_kind::activity, id = f->task_id;
  } else if (auto* t = std::get_if<events::timer_fired>(&p)) {
    kind = action_kind::timer, id = t->timer_id;
  } else if (auto* sc = std::get_if<events::sub_orchestration_completed>(&p)) {
    kind = action_kind::sub_orchestration, id = sc->task_id;
  } else if (auto* sf = std::get_if<events::sub_orchestration_failed>(&p)) {
    kind = action_kind::sub_orchestration, id = sf->task_id;
  } else if (auto* ec = std::get_if<events::entity_call_completed>(&p)) {
    kind = action_kind::entity_call, id = ec->task_id;
  } else if (auto* ef = std::get_if<events::entity_call_failed>(&p)) {
    kind = action_kind::entity_call, id = ef->task_id;
  } else if (as<events::event_raised>(e)) {
    deliver(e);
    return true;
  } else if (as<events::execution_terminated>(e)) {
    // Actions of this episode are dropped: nothing runs for a terminated execution.
    ended_ = true;
    terminal_written_ = true;
    pending_.clear();
    release_code();
    return true;
  } else if (as<events::execution_rewound>(e) || as<events::execution_restarted>(e)) {
    return true;  // records of what a client did; nothing for the code
  } else if (as<events::execution_suspended>(e)) {
    if (suspended_) return false;
    suspended_ = true;
    return true;
  } else if (as<events::execution_resumed>(e)) {
    if (!suspended_) return false;
    suspended_ = false;
    std::vector<history_event> held = std::move(deferred_);
    deferred_.clear();
    for (const auto& d : held) dispatch(d);
    return true;
  } else {
    return false;  // actions and terminal events are written by the engine, never delivered
  }
  action* a = answerable(id, kind);
  if (a == nullptr) return false;
  a->answered = true;
  deliver(e);
  return true;
}

void engine::deliver(const history_event& e) {
  if (suspended_)
    deferred_.push_back(e);
  else
    dispatch(e);
}

void engine::dispatch(const history_event& e) {
  if (ended_) return;
  const event_payload& p = e.payload;
  auto leaf_of = [this](int32_t id) {
    return std::move(actions_[static_cast<size_t>(id)].leaf);
  };
  if (auto* c = std::get_if<events::task_completed>(&p)) {
    auto leaf = leaf_of(c->task_id);
    leaf->payload_ = c->output;
    complete(std::move(leaf));
  } else if (auto* f = std::get_if<events::task_failed>(&p)) {
    auto leaf = leaf_of(f->task_id);
    leaf->error_ = std::make_exception_ptr(perdure::task_failed(leaf->name_, f->failure, f->last_heartbeat_details));
    complete(std::move(leaf));
  } else if (auto* t = std::get_if<events::timer_fired>(&p)) {
    complete(leaf_of(t->timer_id));
  } else if (auto* sc = std::get_if<events::sub_orchestration_completed>(&p)) {
    auto leaf = leaf_of(sc->task_id);
    leaf->payload_ = sc->output;
    complete(std::move(leaf));
  } else if (auto* sf = std::get_if<events::sub_orchestration_failed>(&p)) {
    auto leaf = leaf_of(sf->task_id);
    leaf->error_ = std::make_exception_ptr(perdure::task_failed(leaf->name_, sf->failure));
    complete(std::move(leaf));
  } else if (auto* ec = std::get_if<events::entity_call_completed>(&p)) {
    if (section_ && section_->task_id == ec->task_id) section_->granted = true;
    auto leaf = leaf_of(ec->task_id);
    leaf->payload_ = ec->output;
    complete(std::move(leaf));
  } else if (auto* ef = std::get_if<events::entity_call_failed>(&p)) {
    if (section_ && section_->task_id == ef->task_id) section_.reset();
    auto leaf = leaf_of(ef->task_id);
    leaf->error_ = std::make_exception_ptr(perdure::task_failed(leaf->name_, ef->failure));
    complete(std::move(leaf));
  } else if (auto* r = std::get_if<events::event_raised>(&p)) {
    auto it = events_.find(std::string_view(r->name));
    if (it == events_.end()) it = events_.emplace(r->name, event_slot{}).first;
    auto& waiters = it->second.waiters;
    // A waiter only the engine still holds was abandoned (e.g. its wait timed out): skip it.
    while (!waiters.empty() && waiters.front()->refs() == 1) waiters.pop_front();
    if (waiters.empty()) {
      it->second.buffered.emplace_back(event_seq_++, e);
      return;
    }
    auto leaf = std::move(waiters.front());
    waiters.pop_front();
    leaf->payload_ = r->input;
    complete(std::move(leaf));
  }
}

void engine::complete(ref<leaf_state> leaf) {
  leaf->finish().resume();
  check_root();
}

void engine::start(const events::execution_started& started) {
  started_ = true;
  execution_id_ = started.execution_id;
  try {
    root_ = function_(ctx_, started.input);
  } catch (...) {
    ended_ = true;
    terminal_ = events::execution_failed{to_failure_details(std::current_exception())};
    return;
  }
  check_root();
}

void engine::check_root() {
  if (ended_ || !root_.is_done()) return;
  ended_ = true;
  if (nondeterminism_) return;
  try {
    std::string output = root_.take();
    if (over_limit_) return;  // end_over_limit() fails the execution
    if (continue_as_new_) {
      terminal_ = events::continued_as_new{continue_as_new_->input};
    } else {
      check_json_payload("the orchestration's output", output);
      terminal_ = events::execution_completed{std::move(output)};
    }
  } catch (...) {
    terminal_ = events::execution_failed{to_failure_details(std::current_exception())};
  }
}

// --- actions ------------------------------------------------------------------------------------

void engine::fail_nondeterminism(size_t position, std::string in_history, std::string in_code) {
  if (!nondeterminism_) nondeterminism_.emplace(position, std::move(in_history), std::move(in_code));
}

std::string engine::describe_code_state() const {
  if (terminal_) return describe(*terminal_);
  if (ended_) return "ExecutionTerminated";
  return "no further action (the orchestration waits)";
}

void engine::check_action_limit() {
  if (!over_limit_ && pending_.size() >= limits_.max_actions)
    over_limit_ = failure_details{
        "ActionLimitExceeded",
        "the orchestration took more than " + std::to_string(limits_.max_actions) +
            " actions (activities, timers, sub-orchestrations, events sent) in one episode; the node's "
            "--max-actions-per-episode bounds this so one instance cannot take the node's memory: split the "
            "work (batches awaited in turn, or sub-orchestrations)",
        {},
        true};
  if (over_limit_) throw error(over_limit_->message);
}

// The code went over a limit: it may have caught the error and still wait for the actions it
// took, so the execution is ended here (outside the code) and none of this episode's actions run.
void engine::end_over_limit() {
  pending_.clear();
  continue_as_new_.reset();
  if (!ended_) {
    ended_ = true;
    release_code();
  }
  terminal_ = events::execution_failed{*over_limit_};
}

void engine::issue(action_kind kind, event_payload&& event, ref<leaf_state> leaf) {
  throw_if_poisoned();
  if (ended_) throw error("orchestration action after the execution ended");
  auto id = static_cast<size_t>(next_id());
  if (replaying_ && id < history_actions_.size() && history_actions_[id] != no_position) {
    size_t position = history_actions_[id];
    const event_payload& recorded = history_[position].payload;
    if (!same_action(recorded, event)) {
      fail_nondeterminism(position, describe(recorded), describe(event));
      throw *nondeterminism_;
    }
  } else {
    check_action_limit();
    if (const std::string* input = action_input(event)) check_json_payload("the input of " + describe(event), *input);
    pending_.push_back(history_event{now_, std::move(event)});
  }
  actions_.push_back(action{kind, false, std::move(leaf)});
}

ref<leaf_state> engine::schedule_activity(std::string_view name, std::string input, int32_t attempt,
                                          int32_t first_task_id, activity_timeouts timeouts,
                                          std::string heartbeat_details) {
  ref<leaf_state> leaf(new leaf_state("activity", std::string(name)));
  issue(action_kind::activity,
        events::task_scheduled{next_id(), std::string(name), std::move(input), attempt, first_task_id, timeouts,
                               std::move(heartbeat_details)},
        leaf);
  return leaf;
}

ref<leaf_state> engine::schedule_sub_orchestration(std::string_view name, std::string instance_id,
                                                   std::string input, int32_t version) {
  if (section_)
    throw invalid_argument_error("sub-orchestration '" + std::string(name) +
                                 "' inside a critical section: it would not hold the lock, and waiting for it "
                                 "while it calls a locked entity would never end; call it after releasing the lock");
  if (instance_id.empty()) {
    instance_id = instance_id_ + ":";
    if (!execution_id_.empty()) instance_id += execution_id_ + ":";
    instance_id += std::to_string(next_id());
  }
  ref<leaf_state> leaf(new leaf_state("sub-orchestration", std::string(name)));
  issue(action_kind::sub_orchestration,
        events::sub_orchestration_created{next_id(), std::string(name), std::move(instance_id),
                                          std::move(input), version},
        leaf);
  return leaf;
}

ref<leaf_state> engine::schedule_timer(time_point fire_at) {
  ref<leaf_state> leaf(new leaf_state("timer", {}));
  issue(action_kind::timer, events::timer_created{next_id(), fire_at}, leaf);
  return leaf;
}

// The rules of critical sections (docs/programming-model.md), and the operation names reserved for
// Perdure's own.
void engine::check_entity_call(const std::string& entity, const std::string& operation, bool signal) const {
  if (!operation.empty() && operation.front() == '$')
    throw invalid_argument_error("entity operation '" + operation + "' on '" + entity +
                                 "': operation names starting with '$' are reserved for Perdure");
  if (!section_) return;
  const bool locked = std::find(section_->entities.begin(), section_->entities.end(), entity) != section_->entities.end();
  if (signal) {
    if (locked)
      throw invalid_argument_error("signal '" + operation + "' to '" + entity +
                                   "' inside a critical section that locks it: call it (co_await) instead, or "
                                   "signal it after releasing the lock");
    return;
  }
  if (!section_->granted)
    throw invalid_argument_error("entity call '" + operation + "' on '" + entity +
                                 "' while lock_entities is being acquired: co_await the lock first");
  if (!locked)
    throw invalid_argument_error("entity call '" + operation + "' on '" + entity +
                                 "' inside a critical section that does not lock it: a section calls only the "
                                 "entities it locked (lock it too, or call it after releasing the lock)");
}

ref<leaf_state> engine::lock_entities(std::vector<std::string> entities) {
  throw_if_poisoned();
  if (section_)
    throw invalid_argument_error("lock_entities inside a critical section: sections do not nest; release the "
                                 "lock first, or lock every entity in one lock_entities");
  if (entities.empty()) throw invalid_argument_error("lock_entities needs at least one entity");
  for (const auto& id : entities)
    if (id.size() < 3 || id.front() != '@' || id.find('@', 1) == std::string::npos || id.find('@', 1) == 1)
      throw invalid_argument_error("lock_entities: '" + id + "' is not an entity id with a name");
  std::sort(entities.begin(), entities.end());  // the global order that makes sections deadlock-free
  entities.erase(std::unique(entities.begin(), entities.end()), entities.end());
  ref<leaf_state> leaf(new leaf_state("entity lock", entities.front()));
  const int32_t id = next_id();
  auto first = entities.front();
  issue(action_kind::entity_call,
        events::entity_called{id, std::move(first), std::string(lock_entities_operation), encode_lock_set(entities)},
        leaf);
  section_ = entity_section{id, std::move(entities), false};
  took_entity_locks_ = true;
  return leaf;
}

void engine::release_entity_lock(int32_t lock_task_id) {
  if (tearing_down_ || ended_ || !section_ || section_->task_id != lock_task_id || !section_->granted) return;
  const auto entities = std::move(section_->entities);
  section_.reset();
  for (const auto& entity : entities)
    issue(action_kind::entity_signal,
          events::entity_signaled{next_id(), entity, std::string(unlock_entity_operation), {}}, {});
}

ref<leaf_state> engine::call_entity(std::string entity, std::string operation, std::string input) {
  check_entity_call(entity, operation, false);
  ref<leaf_state> leaf(new leaf_state("entity operation", operation + " on " + entity));
  issue(action_kind::entity_call,
        events::entity_called{next_id(), std::move(entity), std::move(operation), std::move(input)}, leaf);
  return leaf;
}

void engine::signal_entity(std::string entity, std::string operation, std::string input, time_point deliver_at) {
  check_entity_call(entity, operation, true);
  issue(action_kind::entity_signal,
        events::entity_signaled{next_id(), std::move(entity), std::move(operation), std::move(input), deliver_at}, {});
}

void engine::send_event(std::string instance_id, std::string name, std::string input) {
  issue(action_kind::event_sent,
        events::event_sent{next_id(), std::move(instance_id), std::move(name), std::move(input)}, {});
}

ref<leaf_state> engine::wait_event(std::string_view name) {
  throw_if_poisoned();
  ref<leaf_state> leaf(new leaf_state("event", std::string(name)));
  auto it = events_.find(name);
  if (it == events_.end()) it = events_.emplace(std::string(name), event_slot{}).first;
  auto& slot = it->second;
  if (slot.buffered.empty()) {
    slot.waiters.push_back(leaf);
  } else {
    leaf->payload_ = std::get<events::event_raised>(slot.buffered.front().second.payload).input;
    slot.buffered.pop_front();
    leaf->finish();
  }
  return leaf;
}

void engine::continue_as_new(std::string input, bool keep_unprocessed_events, std::optional<int32_t> version) {
  check_json_payload("the continue-as-new input", input);
  if (version && *version < 0)
    throw invalid_argument_error("continue_as_new: version " + std::to_string(*version) + " is negative");
  continue_as_new_ = continue_request{std::move(input), keep_unprocessed_events, version};
}

// Temporal's patched / deprecatePatch: executing new code, a patch is in effect and its marker is
// recorded unless the history has it already; replaying a part of the history the code wrote, it
// is in effect only if the history recorded its marker, so a history written by the code before the
// patch replays down the old path. The first answer for an id holds for the whole execution, so a patch checked in a loop, or
// once while replaying and again after, never switches paths in the middle of an execution.
bool engine::patch(std::string_view patch_id, bool deprecated) {
  throw_if_poisoned();
  if (ended_) throw error("orchestration patch check after the execution ended");
  if (auto decided = patch_decisions_.find(patch_id); decided != patch_decisions_.end()) return decided->second;
  const bool recorded = history_patches_.contains(patch_id);
  const bool in_effect = !replaying_recorded_code_ || recorded;
  if (in_effect && !recorded) {
    pending_.push_back(history_event{now_, events::patch_marker{std::string(patch_id), deprecated}});
    history_patches_.insert(std::string(patch_id));
  }
  patch_decisions_.emplace(std::string(patch_id), in_effect);
  return in_effect;
}

void engine::set_custom_status(std::string json) {
  check_json_payload("the custom status", json);
  custom_status_ = std::move(json);
  custom_status_changed_ = true;
}

std::string engine::new_uuid() {
  std::string name = instance_id_;
  name += '\n';
  name += execution_id_;
  name += '\n';
  name += std::to_string(now_.time_since_epoch().count());
  name += '\n';
  name += std::to_string(uuid_counter_++);
  return name_based_uuid(name);
}

}  // namespace perdure::detail
