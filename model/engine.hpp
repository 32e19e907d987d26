// The replay engine behind orchestration_executor and orchestration_context.
//
// Operation: events are applied one at a time, in history order; after each one the code runs
// until every coroutine waits again. Actions the code takes get ids from one per-execution
// sequence. Executing, they become new history events; replaying, they are matched against the
// stored history's action with the same id. Because both paths apply the same events in the same
// order with the same rules, they reach the same state.
//
// Limitations: one thread at a time; the engine is not reentrant (the code it runs may only call
// the orchestration_context, never the executor).
#pragma once

#include <perdure/executor.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/registry.hpp>
#include <perdure/task.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace perdure::detail {

enum class action_kind : uint8_t { activity, timer, sub_orchestration, event_sent, entity_call, entity_signal };

class engine {
 public:
  engine(const registry& functions, std::string name, int32_t version, std::string instance_id,
         episode_limits limits = {});
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  episode_result replay(std::span<const history_event> stored);
  episode_result execute(std::span<const history_event> new_events);
  bool is_complete() const noexcept { return ended_; }
  bool is_suspended() const noexcept { return suspended_; }

  // For orchestration_context.
  const std::string& name() const noexcept { return name_; }
  const std::string& instance_id() const noexcept { return instance_id_; }
  const std::string& execution_id() const noexcept { return execution_id_; }
  int32_t version() const noexcept { return version_; }
  time_point current_time() const noexcept { return now_; }
  bool is_replaying() const noexcept { return replaying_; }
  std::string new_uuid();
  int32_t next_id() const noexcept { return static_cast<int32_t>(actions_.size()); }
  ref<leaf_state> schedule_activity(std::string_view name, std::string input, int32_t attempt,
                                    int32_t first_task_id, activity_timeouts timeouts, std::string heartbeat_details);
  ref<leaf_state> schedule_sub_orchestration(std::string_view name, std::string instance_id,
                                             std::string input, int32_t version);
  ref<leaf_state> schedule_timer(time_point fire_at);
  ref<leaf_state> wait_event(std::string_view name);
  void send_event(std::string instance_id, std::string name, std::string input);
  /// `entity` in instance-id form (entity_id::instance_id()).
  ref<leaf_state> call_entity(std::string entity, std::string operation, std::string input);
  /// `deliver_at`: a scheduled signal (delivered then, not before); default: at once.
  void signal_entity(std::string entity, std::string operation, std::string input, time_point deliver_at = {});
  /// A critical section on `entities` (instance-id forms): validated, sorted, then requested
  /// (detail/entity_locks.hpp). Its task id names it for release_entity_lock.
  ref<leaf_state> lock_entities(std::vector<std::string> entities);
  /// Releases the section `lock_task_id` if it is the one held; nothing once the code is being
  /// torn down (an evicted or ended execution's locks are its partition's to release).
  void release_entity_lock(int32_t lock_task_id);
  /// True once this execution asked for a critical section (its end then needs its locks released).
  bool took_entity_locks() const noexcept { return took_entity_locks_; }
  void continue_as_new(std::string input, bool keep_unprocessed_events, std::optional<int32_t> version);
  bool patch(std::string_view patch_id, bool deprecated);
  void set_custom_status(std::string json);

 private:
  struct action {
    action_kind kind;
    bool answered = false;
    ref<leaf_state> leaf;  // dropped once the result is delivered
  };
  struct event_slot {
    std::deque<std::pair<uint64_t, history_event>> buffered;  // arrival number, event_raised
    std::deque<ref<leaf_state>> waiters;
  };
  struct entity_section {  // the critical section held or being acquired
    int32_t task_id;
    std::vector<std::string> entities;
    bool granted = false;
  };
  struct continue_request {
    std::string input;
    bool keep_unprocessed_events;
    std::optional<int32_t> version;
  };

  void issue(action_kind kind, event_payload&& event, ref<leaf_state> leaf);
  bool apply(const history_event& e);
  action* answerable(int32_t id, action_kind kind) noexcept;
  void deliver(const history_event& e);
  void dispatch(const history_event& e);
  void complete(ref<leaf_state> leaf);
  void start(const events::execution_started& started);
  void check_root();
  void release_code() noexcept;
  void finish_episode(episode_result& result);
  void fail_nondeterminism(size_t position, std::string in_history, std::string in_code);
  std::string describe_code_state() const;
  void throw_if_poisoned() const;
  void check_action_limit();
  void check_entity_call(const std::string& entity, const std::string& operation, bool signal) const;
  void end_over_limit();

  const registry::orchestration_fn& function_;
  const episode_limits limits_;
  std::string name_;
  int32_t version_;
  std::string instance_id_;
  std::string execution_id_;
  orchestration_context ctx_;

  time_point now_{};
  bool started_ = false;
  bool replaying_ = false;
  // Replaying an event after which the stored history holds more of what the code did (actions,
  // patch markers, its end): what the code decides there must be what it decided then.
  bool replaying_recorded_code_ = false;
  bool suspended_ = false;
  bool ended_ = false;  // the code returned or threw, or the execution was terminated
  bool terminal_written_ = false;
  bool custom_status_changed_ = false;
  uint64_t uuid_counter_ = 0;
  uint64_t event_seq_ = 0;

  std::vector<action> actions_;  // by task id
  std::unordered_map<std::string, event_slot, string_hash, std::equal_to<>> events_;
  std::vector<history_event> deferred_;  // applied while suspended, delivered on resume
  std::vector<history_event> pending_;   // action events not yet in the history
  std::optional<event_payload> terminal_;
  std::optional<continue_request> continue_as_new_;
  std::string custom_status_;

  // While replaying: the stored history and the position of each action by task id.
  std::span<const history_event> history_;
  std::vector<size_t> history_actions_;
  std::optional<nondeterminism_error> nondeterminism_;
  // Patches: the ids this execution's history has markers for, and the answer each patch id got in
  // this execution: the first answer stands for every later call (Temporal's rule).
  std::unordered_set<std::string, string_hash, std::equal_to<>> history_patches_;
  std::unordered_map<std::string, bool, string_hash, std::equal_to<>> patch_decisions_;
  // Set when the code exceeded limits_ in this episode: the execution fails with it.
  std::optional<failure_details> over_limit_;
  std::optional<entity_section> section_;
  bool took_entity_locks_ = false;
  bool tearing_down_ = false;  // release_code() runs: frames' destructors must not act

  task<std::string> root_;  // last: destroyed first, while the states its frames await live
};

}  // namespace perdure::detail
