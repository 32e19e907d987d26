#include "partition_actor.hpp"

#include "activity_pool.hpp"
#include "actor_state.hpp"
#include "protocol.hpp"

#include <perdure/detail/overloaded.hpp>
#include <perdure/detail/random_id.hpp>

#include <partition/state_machine.hpp>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace perdure::actors {
namespace {

using namespace std::chrono_literals;
using partition::request_id;

constexpr auto resend_interval = 1s;
constexpr auto wait_expiry_grace = 1s;

struct partition_state {
  static inline const char* name = "perdure.partition";
  partition_state() = default;

  partition_config config;
  std::unique_ptr<partition::state_machine> machine;
  std::unordered_map<request_id, caf::response_promise> callers;
  request_id next_caller = 1;
  bool flush_scheduled = false;
  uint64_t timer_generation = 0;  // a wake-up from an older arm_timer is stale
};

using partition_actor = stateful_actor<partition_state>;

client_errc client_code(partition::refusal_code code) {
  switch (code) {
    case partition::refusal_code::not_found: return client_errc::not_found;
    case partition::refusal_code::already_exists: return client_errc::already_exists;
    case partition::refusal_code::invalid_argument: return client_errc::invalid_argument;
    case partition::refusal_code::unknown_function: return client_errc::unknown_function;
    case partition::refusal_code::unavailable: return client_errc::unavailable;
    case partition::refusal_code::instance_finished: return client_errc::instance_finished;
    case partition::refusal_code::activity_not_open: return client_errc::activity_not_open;
    case partition::refusal_code::status_conflict: return client_errc::status_conflict;
  }
  return client_errc::invalid_argument;
}

request_id hold(partition_actor* self) {
  const auto id = self->state.next_caller++;
  self->state.callers.emplace(id, self->make_response_promise());
  return id;
}

void answer(partition_actor* self, partition::answer& reply) {
  auto it = self->state.callers.find(reply.to);
  if (it == self->state.callers.end()) return;
  auto& promise = it->second;
  std::visit(detail::overloaded{
                 [&](std::string& text) { promise.deliver(std::move(text)); },
                 [&](instance_record& record) { promise.deliver(std::move(record)); },
                 [&](bool purged) { promise.deliver(purged); },
                 [&](partition::refusal& refused) {
                   promise.deliver(make_client_error(client_code(refused.code), std::move(refused.message)));
                 },
             },
             reply.value);
  self->state.callers.erase(it);
}

void schedule_flush(partition_actor* self) {
  auto& st = self->state;
  if (st.flush_scheduled || !st.machine->wants_flush()) return;
  st.flush_scheduled = true;
  self->send(self, flush_atom::value);
}

void carry_out(partition_actor* self, partition::actions actions) {
  auto& st = self->state;
  const auto& partitions = st.config.directory->partitions;
  activity_batch activities;
  for (auto& action : actions) {
    std::visit(
        detail::overloaded{
            [&](partition::dispatch_activities& dispatch) {
              for (auto& task : dispatch.tasks) activities.items.emplace_back(std::move(task), self);
            },
            [&](partition::cancel_activities& cancels) {
              self->send(st.config.dispatcher, cancel_atom::value, std::move(cancels));
            },
            [&](const partition::arm_timer& arm) {
              const auto now = clock::now();
              const auto delay =
                  arm.at > now ? std::chrono::duration_cast<std::chrono::microseconds>(arm.at - now) : 0us;
              self->delayed_send(self, delay, timer_atom::value, ++st.timer_generation);
            },
            [&](partition::send_message& out) {
              if (out.target_partition >= partitions.size()) {
                spdlog::error("partition {}: an outbox message names partition {} which does not exist",
                              st.config.partition, out.target_partition);
                return;
              }
              self->send(partitions[out.target_partition], deliver_atom::value, std::move(out.msg));
            },
            [&](const partition::acknowledge& ack) {
              if (ack.source_partition < partitions.size())
                self->send(partitions[ack.source_partition], ack_atom::value, ack.seq);
            },
            [&](partition::answer& reply) { answer(self, reply); },
            [&](partition::export_spans& finished) {
              if (st.config.spans) st.config.spans(std::move(finished.spans));
            },
        },
        action);
  }
  if (!activities.items.empty()) self->send(st.config.dispatcher, work_atom::value, std::move(activities));
  schedule_flush(self);
}

void fail_partition(partition_actor* self, const std::string& why) {
  auto& st = self->state;
  if (st.machine->failed()) return;
  st.config.metrics->failed_partitions.fetch_add(1, std::memory_order_relaxed);
  spdlog::critical("partition {} stopped taking work: {}", st.config.partition, why);
  carry_out(self, st.machine->fail(why));
}

void flush(partition_actor* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.machine->failed()) return;
  storage::commit_batch batch;
  storage::commit_result result;
  try {
    batch = st.machine->prepare(clock::now());
    if (partition::has_writes(batch)) {
      const auto started = std::chrono::steady_clock::now();
      result = st.config.store->commit(batch);
      const auto micros =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
      st.config.metrics->record_commit(static_cast<uint64_t>(micros.count()), batch.episodes.size());
    }
  } catch (const storage::store_error& e) {
    // A replicated hub's partition whose log refused the append (another owner fenced it) or could
    // not be reached: not a failure of this node's storage. Nothing was written or released; the
    // replica manager restarts the partition from the log or hands it over.
    if (e.code() == storage::errc::fenced || e.code() == storage::errc::unavailable) {
      spdlog::warn("partition {} stopped taking work: {}", st.config.partition, e.what());
      carry_out(self, st.machine->fail(e.what()));
    } else {
      fail_partition(self, e.what());
    }
    return;
  } catch (const std::exception& e) {  // the store failed (a read while running episodes, or the commit)
    fail_partition(self, e.what());
    return;
  }
  st.config.metrics->episodes.fetch_add(st.machine->last_episodes(), std::memory_order_relaxed);
  carry_out(self, st.machine->committed(std::move(batch), std::move(result), clock::now()));
}

caf::behavior partition_behavior(partition_actor* self, partition_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  auto* metrics = st.config.metrics;
  st.machine = std::make_unique<partition::state_machine>(partition::state_machine_config{
      st.config.partition, st.config.store, st.config.functions, st.config.max_cached_instances,
      st.config.limits, st.config.max_payload_bytes, [](std::string_view) { return detail::random_id(); },
      [metrics](time_point fire_at, time_point now) {
        metrics->record_timer_fired(
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - fire_at).count()));
      }});
  keep_running_on_unexpected(self);
  // A partition actor stops (an exit message) when its partition moves to another node or the node
  // stops: callers still waiting here (a wait for completion, a command not committed yet) are told
  // to retry, which reaches the new owner. CAF 0.17 drops an undelivered response promise silently,
  // and they would wait for their timeout. (Here, not in an attached functor: those run after the
  // state is gone.)
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [id, promise] : self->state.callers)
      promise.deliver(make_client_error(client_errc::unavailable,
                                        "partition " + std::to_string(self->state.config.partition) +
                                            " stopped on this node (it moved, or the node is stopping); retry"));
    self->state.callers.clear();
    if (msg.reason) self->quit(msg.reason);
  });
  self->set_exception_handler([self](std::exception_ptr& ep) -> caf::error {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      fail_partition(self, std::string{"internal error: "} + e.what());
    }
    return caf::none;  // keep running: commands get 'unavailable'
  });
  auto& machine = *st.machine;
  return {
      [=, &machine](recover_atom) {
        try {
          carry_out(self, machine.recover(clock::now()));
        } catch (const std::exception& e) {
          fail_partition(self, std::string{"recovery failed: "} + e.what());
        }
        self->delayed_send(self, resend_interval, resend_atom::value);
      },
      [=, &machine](start_atom, std::string& name, std::string& input, std::string& instance_id,
                    bool return_existing, int32_t version, std::string& traceparent,
                    std::string& tracestate) -> caf::result<std::string> {
        carry_out(self, machine.start(hold(self), std::move(name), std::move(input), std::move(instance_id),
                                      return_existing, version, clock::now(), std::move(traceparent),
                                      std::move(tracestate)));
        return caf::delegated<std::string>{};
      },
      [=, &machine](command_atom, message& msg) -> caf::result<std::string> {
        carry_out(self, machine.command(hold(self), std::move(msg)));
        return caf::delegated<std::string>{};
      },
      [=, &machine](deliver_atom, message& msg) { carry_out(self, machine.deliver(std::move(msg))); },
      [=, &machine](deliver_atom, result_batch& batch) {
        partition::actions actions;
        for (auto& msg : batch.results)
          for (auto& action : machine.deliver(std::move(msg))) actions.push_back(std::move(action));
        carry_out(self, std::move(actions));
      },
      [=, &machine](wait_atom, const std::string& instance_id, int64_t timeout_ms) -> caf::result<instance_record> {
        const auto caller = hold(self);
        auto answered = machine.wait(caller, instance_id);
        // A caller left waiting is let go a little after its own timeout, when it no longer listens.
        if (answered.empty())
          self->delayed_send(self, std::chrono::milliseconds{std::max<int64_t>(timeout_ms, 0)} + wait_expiry_grace,
                             wait_expired_atom::value, caller, instance_id);
        carry_out(self, std::move(answered));
        return caf::delegated<instance_record>{};
      },
      [=, &machine](wait_expired_atom, request_id caller, const std::string& instance_id) {
        carry_out(self, machine.expire_wait(caller, instance_id));
      },
      [=, &machine](purge_atom, const std::string& instance_id) -> caf::result<bool> {
        const auto caller = hold(self);
        try {
          carry_out(self, machine.purge(caller, instance_id));
        } catch (const std::exception& e) {  // the store failed: CAF 0.17 would stop the actor
          fail_partition(self, e.what());
          partition::answer refused{caller, partition::refusal{partition::refusal_code::unavailable,
                                                               std::string{"the store failed: "} + e.what()}};
          answer(self, refused);
        }
        return caf::delegated<bool>{};
      },
      [=, &machine](heartbeat_atom, std::string& instance_id, std::string& execution_id, int32_t task_id,
                    std::string& details) {
        carry_out(self, machine.heartbeat(partition::attempt_ref{std::move(instance_id), std::move(execution_id), task_id},
                                          std::move(details), clock::now()));
      },
      [=, &machine](awaiting_atom, std::string& instance_id, std::string& execution_id, int32_t task_id) {
        carry_out(self, machine.awaiting_completion(
                            partition::attempt_ref{std::move(instance_id), std::move(execution_id), task_id},
                            clock::now()));
      },
      [=, &machine](heartbeat_by_token_atom, std::string& instance_id, std::string& execution_id, int32_t task_id,
                    std::string& details) -> caf::result<std::string> {
        carry_out(self, machine.heartbeat_by_token(
                            hold(self), partition::attempt_ref{std::move(instance_id), std::move(execution_id), task_id},
                            std::move(details), clock::now()));
        return caf::delegated<std::string>{};
      },
      [=, &machine](ack_atom, uint64_t seq) {
        machine.acknowledged(seq);
        schedule_flush(self);
      },
      [=](flush_atom) { flush(self); },
      [=, &machine](timer_atom, uint64_t generation) {
        if (generation != self->state.timer_generation) return;
        carry_out(self, machine.on_timer(clock::now()));
      },
      [=, &machine](resend_atom) {
        carry_out(self, machine.resend());
        self->delayed_send(self, resend_interval, resend_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_partition(caf::actor_system& system, partition_config config) {
  return system.spawn<caf::detached>(partition_behavior, std::move(config));
}

}  // namespace perdure::actors
