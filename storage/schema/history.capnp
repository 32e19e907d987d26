# History events of an orchestration execution (perdure/history.hpp).
# Evolution: only add fields and union members with new ordinals; never renumber or retype.
@0xcb7d53a6730918e5;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("perdure::storage::schema");

struct FailureDetails {
  errorType    @0 :Text;
  message      @1 :Text;
  details      @2 :Text;
  nonRetriable @3 :Bool;
}

struct ParentInstance {
  name        @0 :Text;
  instanceId  @1 :Text;
  executionId @2 :Text;
  taskId      @3 :Int32;
}

struct ExecutionStarted {
  name        @0 :Text;
  instanceId  @1 :Text;
  executionId @2 :Text;
  input       @3 :Text;
  parent      @4 :ParentInstance;  # absent when there is no parent
  version     @5 :Int32;           # the orchestration's registered version; 0 (histories before it) = unversioned
  traceParent @6 :Text;            # the W3C traceparent the start came with; empty = none
  traceState  @7 :Text;
}

struct TaskScheduled {
  taskId      @0 :Int32;
  name        @1 :Text;
  input       @2 :Text;
  attempt     @3 :Int32 = 1;   # histories written before it read as a first attempt
  firstTaskId @4 :Int32 = -1;  # -1 on the first attempt itself
  # activity_timeouts; histories written before them read as 0, no limit.
  attemptDeadlineNs  @5 :Int64;
  callDeadlineNs     @6 :Int64;
  heartbeatTimeoutNs @7 :Int64;
  heartbeatDetails   @8 :Text;
}

struct TaskResult {  # task_completed, sub_orchestration_completed
  taskId @0 :Int32;
  output @1 :Text;
}

struct TaskFailure {  # task_failed, sub_orchestration_failed
  taskId  @0 :Int32;
  failure @1 :FailureDetails;
  lastHeartbeatDetails @2 :Text;  # task_failed only
}

struct Timer {  # timer_created, timer_fired
  timerId  @0 :Int32;
  fireAtNs @1 :Int64;
  createdAtNs @2 :Int64;  # timer_fired: when the timer was created (its span's start); 0 = unknown (before it)
}

struct SubOrchestrationCreated {
  taskId     @0 :Int32;
  name       @1 :Text;
  instanceId @2 :Text;
  input      @3 :Text;
  version    @4 :Int32 = -1;  # the child's version the call asked for; -1 (histories before it): the latest
}

struct EventRaised {
  name  @0 :Text;
  input @1 :Text;
  traceParent @2 :Text;  # the W3C traceparent of the sender's span (its episode's, or a client's); empty = none
}

struct EventSent {
  taskId     @0 :Int32;
  instanceId @1 :Text;
  name       @2 :Text;
  input      @3 :Text;
}

struct EntityCall {  # entity_called, entity_signaled
  taskId    @0 :Int32;
  entity    @1 :Text;
  operation @2 :Text;
  input     @3 :Text;
  deliverAtNs @4 :Int64;  # entity_signaled: a scheduled signal's delivery time; 0 = at once
}

struct EntityOperation {
  operation         @0 :Text;
  input             @1 :Text;
  callerInstanceId  @2 :Text;
  callerExecutionId @3 :Text;
  callerTaskId      @4 :Int32 = -1;
  deliverAtNs       @5 :Int64;  # a scheduled signal's delivery time; 0 = at once
  traceParent       @6 :Text;   # the W3C traceparent of the sender's span: the operation's span is its child; empty = none
}

struct PatchMarker {
  patchId    @0 :Text;
  deprecated @1 :Bool;
}

struct ExecutionRestarted {
  previousExecutionId @0 :Text;
  fromEvent           @1 :Int32;
  version             @2 :Int32;
}

struct HistoryEvent {
  timestampNs @0 :Int64;
  union {
    executionStarted          @1  :ExecutionStarted;
    executionCompleted        @2  :Text;            # output
    executionFailed           @3  :FailureDetails;
    continuedAsNew            @4  :Text;            # input of the next execution
    executionTerminated       @5  :Text;            # reason
    executionSuspended        @6  :Text;            # reason
    executionResumed          @7  :Text;            # reason
    episodeStarted            @8  :Void;
    taskScheduled             @9  :TaskScheduled;
    taskCompleted             @10 :TaskResult;
    taskFailed                @11 :TaskFailure;
    timerCreated              @12 :Timer;
    timerFired                @13 :Timer;
    subOrchestrationCreated   @14 :SubOrchestrationCreated;
    subOrchestrationCompleted @15 :TaskResult;
    subOrchestrationFailed    @16 :TaskFailure;
    eventRaised               @17 :EventRaised;
    eventSent                 @18 :EventSent;
    entityCalled              @19 :EntityCall;
    entitySignaled            @20 :EntityCall;
    entityCallCompleted       @21 :TaskResult;
    entityCallFailed          @22 :TaskFailure;
    entityOperation           @23 :EntityOperation;
    patchMarker               @24 :PatchMarker;
    executionRewound          @25 :Text;            # reason
    executionRestarted        @26 :ExecutionRestarted;
  }
}

# The value under a history key: the events one episode appended, in order. One value per episode
# rather than one per event: each RocksDB key costs a memtable skip-list insert on commit.
struct HistoryChunk {
  events @0 :List(HistoryEvent);
}
