// History events and messages <-> Cap'n Proto.
#include "capnp_util.hpp"

#include <type_traits>

namespace perdure::storage::codec::detail {

namespace {

template <typename B>
void write_task_result(B b, int32_t task_id, const std::string& output) {
  b.setTaskId(task_id);
  b.setOutput(text(output));
}

template <typename B>
void write_task_failure(B b, int32_t task_id, const failure_details& f) {
  b.setTaskId(task_id);
  write_failure(b.initFailure(), f);
}

template <typename B>
void write_timer(B b, int32_t timer_id, time_point fire_at) {
  b.setTimerId(timer_id);
  b.setFireAtNs(ns(fire_at));
}

template <typename B, typename Call>
void write_entity_call(B b, const Call& call) {
  b.setTaskId(call.task_id);
  b.setEntity(text(call.entity));
  b.setOperation(text(call.operation));
  b.setInput(text(call.input));
}

template <typename Call>
Call read_entity_call(schema::EntityCall::Reader r) {
  return Call{r.getTaskId(), str(r.getEntity()), str(r.getOperation()), str(r.getInput())};
}

}  // namespace

void write_failure(schema::FailureDetails::Builder b, const failure_details& f) {
  b.setErrorType(text(f.error_type));
  b.setMessage(text(f.message));
  b.setDetails(text(f.details));
  b.setNonRetriable(f.non_retriable);
}

failure_details read_failure(schema::FailureDetails::Reader r) {
  return {str(r.getErrorType()), str(r.getMessage()), str(r.getDetails()), r.getNonRetriable()};
}

void write_parent(schema::ParentInstance::Builder b, const parent_instance& p) {
  b.setName(text(p.name));
  b.setInstanceId(text(p.instance_id));
  b.setExecutionId(text(p.execution_id));
  b.setTaskId(p.task_id);
}

parent_instance read_parent(schema::ParentInstance::Reader r) {
  return {str(r.getName()), str(r.getInstanceId()), str(r.getExecutionId()), r.getTaskId()};
}

void write_entity_operation(schema::EntityOperation::Builder b, const events::entity_operation& op) {
  b.setOperation(text(op.operation));
  b.setInput(text(op.input));
  b.setCallerInstanceId(text(op.caller_instance_id));
  b.setCallerExecutionId(text(op.caller_execution_id));
  b.setCallerTaskId(op.caller_task_id);
  b.setDeliverAtNs(ns(op.deliver_at));
  b.setTraceParent(text(op.trace_parent));
}

events::entity_operation read_entity_operation(schema::EntityOperation::Reader r) {
  return events::entity_operation{str(r.getOperation()), str(r.getInput()), str(r.getCallerInstanceId()),
                                  str(r.getCallerExecutionId()), r.getCallerTaskId(), from_ns(r.getDeliverAtNs()),
                                  str(r.getTraceParent())};
}

void write_event(schema::HistoryEvent::Builder b, const history_event& e) {
  b.setTimestampNs(ns(e.timestamp));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        using namespace events;
        if constexpr (std::is_same_v<T, execution_started>) {
          auto s = b.initExecutionStarted();
          s.setName(text(v.name));
          s.setInstanceId(text(v.instance_id));
          s.setExecutionId(text(v.execution_id));
          s.setInput(text(v.input));
          if (v.parent) write_parent(s.initParent(), *v.parent);
          s.setVersion(v.version);
          s.setTraceParent(text(v.trace_parent));
          s.setTraceState(text(v.trace_state));
        } else if constexpr (std::is_same_v<T, execution_completed>) {
          b.setExecutionCompleted(text(v.output));
        } else if constexpr (std::is_same_v<T, execution_failed>) {
          write_failure(b.initExecutionFailed(), v.failure);
        } else if constexpr (std::is_same_v<T, continued_as_new>) {
          b.setContinuedAsNew(text(v.input));
        } else if constexpr (std::is_same_v<T, execution_terminated>) {
          b.setExecutionTerminated(text(v.reason));
        } else if constexpr (std::is_same_v<T, execution_suspended>) {
          b.setExecutionSuspended(text(v.reason));
        } else if constexpr (std::is_same_v<T, execution_resumed>) {
          b.setExecutionResumed(text(v.reason));
        } else if constexpr (std::is_same_v<T, episode_started>) {
          b.setEpisodeStarted();
        } else if constexpr (std::is_same_v<T, task_scheduled>) {
          auto s = b.initTaskScheduled();
          s.setTaskId(v.task_id);
          s.setName(text(v.name));
          s.setInput(text(v.input));
          s.setAttempt(v.attempt);
          s.setFirstTaskId(v.first_task_id);
          s.setAttemptDeadlineNs(ns(v.timeouts.attempt_deadline));
          s.setCallDeadlineNs(ns(v.timeouts.call_deadline));
          s.setHeartbeatTimeoutNs(v.timeouts.heartbeat_timeout.count());
          s.setHeartbeatDetails(text(v.heartbeat_details));
        } else if constexpr (std::is_same_v<T, task_completed>) {
          write_task_result(b.initTaskCompleted(), v.task_id, v.output);
        } else if constexpr (std::is_same_v<T, events::task_failed>) {
          auto failed = b.initTaskFailed();
          write_task_failure(failed, v.task_id, v.failure);
          failed.setLastHeartbeatDetails(text(v.last_heartbeat_details));
        } else if constexpr (std::is_same_v<T, timer_created>) {
          write_timer(b.initTimerCreated(), v.timer_id, v.fire_at);
        } else if constexpr (std::is_same_v<T, timer_fired>) {
          auto fired = b.initTimerFired();
          write_timer(fired, v.timer_id, v.fire_at);
          fired.setCreatedAtNs(ns(v.created_at));
        } else if constexpr (std::is_same_v<T, sub_orchestration_created>) {
          auto s = b.initSubOrchestrationCreated();
          s.setTaskId(v.task_id);
          s.setName(text(v.name));
          s.setInstanceId(text(v.instance_id));
          s.setInput(text(v.input));
          s.setVersion(v.version);
        } else if constexpr (std::is_same_v<T, sub_orchestration_completed>) {
          write_task_result(b.initSubOrchestrationCompleted(), v.task_id, v.output);
        } else if constexpr (std::is_same_v<T, sub_orchestration_failed>) {
          write_task_failure(b.initSubOrchestrationFailed(), v.task_id, v.failure);
        } else if constexpr (std::is_same_v<T, event_raised>) {
          auto s = b.initEventRaised();
          s.setName(text(v.name));
          s.setInput(text(v.input));
          s.setTraceParent(text(v.trace_parent));
        } else if constexpr (std::is_same_v<T, event_sent>) {
          auto s = b.initEventSent();
          s.setTaskId(v.task_id);
          s.setInstanceId(text(v.instance_id));
          s.setName(text(v.name));
          s.setInput(text(v.input));
        } else if constexpr (std::is_same_v<T, entity_called>) {
          write_entity_call(b.initEntityCalled(), v);
        } else if constexpr (std::is_same_v<T, entity_signaled>) {
          auto s = b.initEntitySignaled();
          write_entity_call(s, v);
          s.setDeliverAtNs(ns(v.deliver_at));
        } else if constexpr (std::is_same_v<T, entity_call_completed>) {
          write_task_result(b.initEntityCallCompleted(), v.task_id, v.output);
        } else if constexpr (std::is_same_v<T, entity_call_failed>) {
          write_task_failure(b.initEntityCallFailed(), v.task_id, v.failure);
        } else if constexpr (std::is_same_v<T, patch_marker>) {
          auto s = b.initPatchMarker();
          s.setPatchId(text(v.patch_id));
          s.setDeprecated(v.deprecated);
        } else if constexpr (std::is_same_v<T, execution_rewound>) {
          b.setExecutionRewound(text(v.reason));
        } else if constexpr (std::is_same_v<T, execution_restarted>) {
          auto s = b.initExecutionRestarted();
          s.setPreviousExecutionId(text(v.previous_execution_id));
          s.setFromEvent(v.from_event);
          s.setVersion(v.version);
        } else {
          static_assert(std::is_same_v<T, entity_operation>);
          write_entity_operation(b.initEntityOperation(), v);
        }
      },
      e.payload);
}

history_event read_event(schema::HistoryEvent::Reader r) {
  using E = schema::HistoryEvent;
  history_event e;
  e.timestamp = from_ns(r.getTimestampNs());
  switch (r.which()) {
    case E::EXECUTION_STARTED: {
      auto s = r.getExecutionStarted();
      events::execution_started v{str(s.getName()), str(s.getInstanceId()), str(s.getExecutionId()),
                                  str(s.getInput()), std::nullopt, s.getVersion(), str(s.getTraceParent()),
                                  str(s.getTraceState())};
      if (s.hasParent()) v.parent = read_parent(s.getParent());
      e.payload = std::move(v);
      break;
    }
    case E::EXECUTION_COMPLETED: e.payload = events::execution_completed{str(r.getExecutionCompleted())}; break;
    case E::EXECUTION_FAILED: e.payload = events::execution_failed{read_failure(r.getExecutionFailed())}; break;
    case E::CONTINUED_AS_NEW: e.payload = events::continued_as_new{str(r.getContinuedAsNew())}; break;
    case E::EXECUTION_TERMINATED: e.payload = events::execution_terminated{str(r.getExecutionTerminated())}; break;
    case E::EXECUTION_SUSPENDED: e.payload = events::execution_suspended{str(r.getExecutionSuspended())}; break;
    case E::EXECUTION_RESUMED: e.payload = events::execution_resumed{str(r.getExecutionResumed())}; break;
    case E::EPISODE_STARTED: e.payload = events::episode_started{}; break;
    case E::TASK_SCHEDULED: {
      auto s = r.getTaskScheduled();
      e.payload = events::task_scheduled{
          s.getTaskId(),
          str(s.getName()),
          str(s.getInput()),
          s.getAttempt(),
          s.getFirstTaskId(),
          activity_timeouts{from_ns(s.getAttemptDeadlineNs()), from_ns(s.getCallDeadlineNs()),
                            std::chrono::nanoseconds{s.getHeartbeatTimeoutNs()}},
          str(s.getHeartbeatDetails())};
      break;
    }
    case E::TASK_COMPLETED: {
      auto s = r.getTaskCompleted();
      e.payload = events::task_completed{s.getTaskId(), str(s.getOutput())};
      break;
    }
    case E::TASK_FAILED: {
      auto s = r.getTaskFailed();
      e.payload = events::task_failed{s.getTaskId(), read_failure(s.getFailure()), str(s.getLastHeartbeatDetails())};
      break;
    }
    case E::TIMER_CREATED: {
      auto s = r.getTimerCreated();
      e.payload = events::timer_created{s.getTimerId(), from_ns(s.getFireAtNs())};
      break;
    }
    case E::TIMER_FIRED: {
      auto s = r.getTimerFired();
      e.payload = events::timer_fired{s.getTimerId(), from_ns(s.getFireAtNs()), from_ns(s.getCreatedAtNs())};
      break;
    }
    case E::SUB_ORCHESTRATION_CREATED: {
      auto s = r.getSubOrchestrationCreated();
      e.payload = events::sub_orchestration_created{s.getTaskId(), str(s.getName()), str(s.getInstanceId()),
                                                    str(s.getInput()), s.getVersion()};
      break;
    }
    case E::SUB_ORCHESTRATION_COMPLETED: {
      auto s = r.getSubOrchestrationCompleted();
      e.payload = events::sub_orchestration_completed{s.getTaskId(), str(s.getOutput())};
      break;
    }
    case E::SUB_ORCHESTRATION_FAILED: {
      auto s = r.getSubOrchestrationFailed();
      e.payload = events::sub_orchestration_failed{s.getTaskId(), read_failure(s.getFailure())};
      break;
    }
    case E::EVENT_RAISED: {
      auto s = r.getEventRaised();
      e.payload = events::event_raised{str(s.getName()), str(s.getInput()), str(s.getTraceParent())};
      break;
    }
    case E::EVENT_SENT: {
      auto s = r.getEventSent();
      e.payload = events::event_sent{s.getTaskId(), str(s.getInstanceId()), str(s.getName()), str(s.getInput())};
      break;
    }
    case E::ENTITY_CALLED: e.payload = read_entity_call<events::entity_called>(r.getEntityCalled()); break;
    case E::ENTITY_SIGNALED: {
      auto signal = read_entity_call<events::entity_signaled>(r.getEntitySignaled());
      signal.deliver_at = from_ns(r.getEntitySignaled().getDeliverAtNs());
      e.payload = std::move(signal);
      break;
    }
    case E::ENTITY_CALL_COMPLETED: {
      auto s = r.getEntityCallCompleted();
      e.payload = events::entity_call_completed{s.getTaskId(), str(s.getOutput())};
      break;
    }
    case E::ENTITY_CALL_FAILED: {
      auto s = r.getEntityCallFailed();
      e.payload = events::entity_call_failed{s.getTaskId(), read_failure(s.getFailure())};
      break;
    }
    case E::ENTITY_OPERATION:
      e.payload = read_entity_operation(r.getEntityOperation());
      break;
    case E::PATCH_MARKER: {
      auto s = r.getPatchMarker();
      e.payload = events::patch_marker{str(s.getPatchId()), s.getDeprecated()};
      break;
    }
    case E::EXECUTION_REWOUND:
      e.payload = events::execution_rewound{str(r.getExecutionRewound())};
      break;
    case E::EXECUTION_RESTARTED: {
      auto s = r.getExecutionRestarted();
      e.payload = events::execution_restarted{str(s.getPreviousExecutionId()), s.getFromEvent(), s.getVersion()};
      break;
    }
    default:
      throw decode_error("unknown history event kind " + std::to_string(static_cast<int>(r.which())));
  }
  return e;
}

void write_message(schema::Message::Builder b, const message& m) {
  b.setInstanceId(text(m.instance_id));
  b.setExecutionId(text(m.execution_id));
  write_event(b.initEvent(), m.event);
  b.setSourcePartition(m.source_partition);
  b.setSourceSeq(m.source_seq);
}

message read_message(schema::Message::Reader r) {
  if (!r.hasEvent()) throw decode_error("message has no event");
  return {str(r.getInstanceId()), str(r.getExecutionId()), read_event(r.getEvent()), r.getSourcePartition(),
          r.getSourceSeq()};
}

}  // namespace perdure::storage::codec::detail
