# Records a partition stores besides history: messages, instance rows, queues, hub metadata.
# Evolution: only add fields with new ordinals; never renumber or retype.
@0xfbd398e3f0c554c0;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("perdure::storage::schema");

using History = import "history.capnp";

struct Message {
  instanceId      @0 :Text;
  executionId     @1 :Text;
  event           @2 :History.HistoryEvent;
  sourcePartition @3 :Int32 = -1;
  sourceSeq       @4 :UInt64;
}

struct InstanceRecord {
  instanceId      @0  :Text;
  executionId     @1  :Text;
  name            @2  :Text;
  status          @3  :UInt8;   # perdure::runtime_status
  createdAtNs     @4  :Int64;
  lastUpdatedAtNs @5  :Int64;
  input           @6  :Text;
  output          @7  :Text;
  customStatus    @8  :Text;
  failure         @9  :History.FailureDetails;  # absent = none
  parent          @10 :History.ParentInstance;  # absent = none
  version         @11 :Int32;   # the current execution's orchestration version (0 = unversioned)
  traceParent       @12 :Text;  # the W3C traceparent of the instance's own span; empty = none (older records)
  traceState        @13 :Text;
  traceCallerSpanId @14 :Text;  # the span that started the instance; empty = the instance's span is a root
}

# The value under an instance key: the record plus what commit() needs to append history.
struct InstanceRow {
  record        @0 :InstanceRecord;
  historyChunks @1 :UInt64;  # history values (HistoryChunk) of the current execution
}

# The value under an entity key: its state and bookkeeping (no history: an entity is a record).
struct EntityRow {
  name             @0 :Text;
  key              @1 :Text;
  state            @2 :Text;   # JSON
  createdAtNs      @3 :Int64;
  lastModifiedAtNs @4 :Int64;
  # A critical section (lock_entities) holding it: the row then exists even without state.
  stateless          @5 :Bool;  # no state: the row is kept for its lock only
  lockInstanceId     @6 :Text;  # empty: not locked
  lockExecutionId    @7 :Text;
  heldOperations     @8 :List(History.EntityOperation);  # sent by others while locked, in arrival order
  scheduledOperations @9 :List(History.EntityOperation);  # scheduled signals not yet due (deliverAtNs)
}

struct ActivityTask {
  instanceId    @0 :Text;
  executionId   @1 :Text;
  taskId        @2 :Int32;
  name          @3 :Text;
  input         @4 :Text;
  scheduledAtNs @5 :Int64;
  attempt       @6 :Int32 = 1;   # queues written before it hold first attempts
  firstTaskId   @7 :Int32 = -1;  # -1 on the first attempt itself
  # activity_timeouts; queues written before them read as 0, no limit.
  attemptDeadlineNs  @8 :Int64;
  callDeadlineNs     @9 :Int64;
  heartbeatTimeoutNs @10 :Int64;
  heartbeatDetails   @11 :Text;
  awaitingCompletion @12 :Bool;  # the attempt returned pending: completed by its task token, not run again
  traceParent        @13 :Text;  # the instance's traceparent: the attempt's span is its child; empty = none
}

struct TimerEntry {
  fireAtNs    @0 :Int64;
  instanceId  @1 :Text;
  executionId @2 :Text;
  timerId     @3 :Int32;
  createdAtNs @4 :Int64;  # when the episode that created it ran; 0 = unknown (entries written before it)
}

struct OutboxEntry {
  seq             @0 :UInt64;
  targetPartition @1 :UInt32;
  message         @2 :Message;
}

struct HubMeta {
  formatVersion  @0 :UInt32;
  partitionCount @1 :UInt32;
}

# One record of a partition log (cluster mode): what a partition's owner appended before it
# applied the same change to its local store, and what followers apply.
struct LogRecord {
  epoch @0 :UInt64;   # the owner's epoch (its assignment's)
  union {
    epochStart @1 :Text;      # a new owner (its node id) fences the log: later appends of older owners are refused
    batch      @2 :BatchPart;
  }
}

# A slice of one RocksDB WriteBatch representation: a batch larger than one log record is split
# into parts appended in order, and applied only once its last part was read.
struct BatchPart {
  part  @0 :UInt32;   # 0-based
  parts @1 :UInt32;
  bytes @2 :Data;
}
