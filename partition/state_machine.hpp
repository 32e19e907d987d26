// The partition state machine: everything one partition decides, as pure C++ (no CAF; the store is
// read and written only through storage::hub_store). Production's partition actor and
// orchestration_tester both run it, so what a unit test sees is what a node does.
//
// Operation: inputs (client commands, activity results, messages from other partitions, timer
// wake-ups, acknowledgements) are queued per instance. A flush is prepare() → the shell commits the
// batch → committed(): prepare() runs one episode per instance with queued messages and returns
// ONE storage::commit_batch for all of them (group commit); committed() is called once that batch
// is durable and returns the actions it releases (activities to run, timers to arm, messages to
// send, acknowledgements, answers). Nothing leaves the partition before the commit that records
// it. Messages that arrive during a commit wait for the next flush, so batches grow with load.
//
// Exactly-once: messages from other partitions are applied in order per source and acknowledged
// after their commit (dedup.hpp); this partition's own messages are re-sent until acknowledged
// (outbox.hpp).
//
// Failure: if a commit fails, the shell calls fail(): every waiting caller is refused with
// `unavailable`, in-memory state not committed is discarded (nothing partial is ever visible) and
// every later request is refused.
//
// Concurrency: one thread at a time (the partition's single writer).
#pragma once

#include "actions.hpp"
#include "activity_deadlines.hpp"
#include "dedup.hpp"
#include "episode.hpp"
#include "instance_cache.hpp"
#include "outbox.hpp"
#include "timers.hpp"

#include <perdure/executor.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace perdure::partition {

struct state_machine_config {
  uint32_t partition = 0;
  storage::hub_store* store = nullptr;
  const registry* functions = nullptr;
  size_t max_cached_instances = 10'000;
  episode_limits limits;
  size_t max_payload_bytes = 4u << 20;  // the store's limit: an episode it would refuse fails its instance alone
  std::function<std::string(std::string_view instance_id)> new_execution_id;
  std::function<void(time_point fire_at, time_point now)> on_timer_due;  // optional: for lateness metrics
};

class state_machine {
 public:
  explicit state_machine(state_machine_config config);

  // Inputs. Each returns the actions to carry out now (answers that need no commit, messages).
  /// Once, before any message from another partition: loads the watermarks, re-dispatches pending
  /// activities, re-sends the outbox, arms the first timer, and replays the instances that waited
  /// for an orchestration version this node registers, and those whose version it lacks (they
  /// start waiting, and are reported, at once).
  actions recover(time_point now);
  /// `version`: execution_started::any_version for the latest registered one; a version not
  /// registered here is refused (unknown_function). `trace_parent` / `trace_state`: the W3C trace
  /// context the start came with (empty: none; one that is malformed is ignored).
  actions start(request_id caller, std::string name, std::string input, std::string instance_id,
                bool return_existing, int32_t version, time_point now, std::string trace_parent = {},
                std::string trace_state = {});
  /// terminate / suspend / resume / raise event (msg.event), for an existing, unfinished instance;
  /// or an operation for an entity (msg.instance_id in entity form), which needs no existence; or a
  /// completion by task token (a task_completed / task_failed, activity_token.hpp), accepted only
  /// while the attempt is open: in the activity queue of the instance's current execution, and not
  /// answered by a message queued before it. Otherwise it is refused (activity_not_open), so an
  /// attempt is never completed twice.
  /// A rewind (execution_rewound) is for a Failed instance, a restart (execution_restarted, with
  /// any_version for the previous execution's version) for a finished one (restart.hpp checks its
  /// prefix); otherwise refused with status_conflict, and an invalid prefix with invalid_argument.
  actions command(request_id caller, message msg);
  /// An activity result or a message from a partition (de-duplicated by its source and seq).
  actions deliver(message msg);
  /// A running attempt's heartbeat (activity_context::heartbeat; its worker sends the first when the
  /// attempt starts): it (re)starts the attempt's heartbeat timeout; `details` (JSON, when not
  /// empty) are what its timeout failure carries to the next attempt. Nothing for an attempt
  /// without timeouts, or one that already ended.
  actions heartbeat(const attempt_ref& attempt, std::string details, time_point now);
  /// A heartbeat by task token (client::heartbeat_activity), from the external system that holds
  /// the token of an attempt awaiting completion (or from a worker of another node): as
  /// heartbeat(), but answered, so the sender learns whether to go on: accepted (an empty string)
  /// while the attempt is open; refused with not_found, instance_finished (the instance ended: the
  /// attempt is cancelled) or activity_not_open (it timed out, or was completed or failed).
  actions heartbeat_by_token(request_id caller, const attempt_ref& attempt, std::string details, time_point now);
  /// A running attempt returned after activity_context::complete_asynchronously(): the next commit
  /// marks its queue entry as awaiting completion, so a restart does not run it again (and the
  /// commit that ends its instance removes the entry). All its
  /// deadlines still hold; its return counts as a heartbeat, and later ones come by its task
  /// token (heartbeat_by_token). Nothing for an attempt that already ended.
  actions awaiting_completion(const attempt_ref& attempt, time_point now);
  /// Answers with the instance's record once it has ended.
  actions wait(request_id caller, const std::string& instance_id);
  /// The caller of wait() stopped waiting (its timeout passed): it is answered `unavailable` (to
  /// nobody who listens) and no longer kept, so repeated long-polls on a long-running instance do
  /// not pile up. Nothing if it was answered already.
  actions expire_wait(request_id caller, const std::string& instance_id);
  actions purge(request_id caller, const std::string& instance_id);
  /// The target of outbox message `seq` made it durable.
  void acknowledged(uint64_t seq);
  /// The wake-up asked for by arm_timer came: due timers fire, and activity attempts past a
  /// deadline (activity_deadlines.hpp) fail with a TimeoutError, which their instance takes before
  /// any later result of theirs (which the replay engine then ignores as a second answer).
  actions on_timer(time_point now);
  /// Every unacknowledged message again (the shell calls it periodically).
  actions resend() const;

  // The flush cycle.
  /// True when prepare() has something to do; the shell then flushes soon.
  bool wants_flush() const;
  /// Runs the queued episodes. The batch may be empty (has_writes false): call committed() anyway.
  storage::commit_batch prepare(time_point now);
  /// The batch from prepare() is durable; `result` is what the store assigned.
  actions committed(storage::commit_batch batch, storage::commit_result result, time_point now);
  /// The commit failed, or reading the store did: the partition takes no more work.
  actions fail(const std::string& why);

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  /// Episodes the last prepare() ran.
  size_t last_episodes() const { return last_episodes_; }

 private:
  std::optional<refusal> refuse_if_failed() const;
  bool exists(cached_instance& entry);
  std::optional<refusal> refuse_rewind_or_restart(cached_instance& entry, message& msg);
  void enqueue(cached_instance& entry, message msg) { cache_.enqueue(entry, std::move(msg)); }
  void wake_up(actions& out, time_point now);
  actions heartbeat_deadline_moved(std::optional<time_point> deadline);
  void check_versions_of_unfinished_instances();
  std::optional<refusal> refuse_if_ended(const cached_instance& entry) const;
  std::optional<refusal> refuse_unless_open(cached_instance& entry, const std::string& execution_id, int32_t task_id);
  void mark_awaiting(storage::commit_batch& batch);
  void answered(const attempt_ref& attempt);
  void forget_pending_of_ended(storage::commit_batch& batch);

  state_machine_config config_;
  instance_cache cache_;
  dedup_watermarks dedup_;
  outbox_tracker outbox_;
  timer_schedule timers_;
  activity_deadlines deadlines_;
  std::vector<attempt_ref> timed_out_;  // since the last commit: cancelled once their timeout is durable
  std::vector<attempt_ref> awaiting_;   // returned pending since the last prepare(): marked by the next commit
  std::set<attempt_ref> pending_;       // marked as awaiting completion and not answered: removed when their instance ends
  std::vector<cached_instance*> touched_;  // by the flush between prepare() and committed()
  detail::span_records spans_;  // of the episodes between prepare() and committed(): exported once committed
  size_t last_episodes_ = 0;
  bool recovered_ = false;  // messages from other partitions wait until the watermarks are loaded
  std::string failure_;     // non-empty once a commit failed
};

/// True if the batch writes anything (an empty one needs no commit).
bool has_writes(const storage::commit_batch& batch);

}  // namespace perdure::partition
