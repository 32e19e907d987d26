#include "jetstream_log.hpp"

#include <perdure/storage/store.hpp>

#include <algorithm>
#include <memory>

namespace perdure::storage {
namespace {

using clock_type = std::chrono::steady_clock;

struct destroy_msg {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};

constexpr const char* msg_id_header = "Nats-Msg-Id";
constexpr int fetch_batch = 256;
// A kept consumer that no read asks for (its partition is quiet, or its node died) is deleted by
// the servers after this long.
constexpr std::chrono::seconds tail_inactive_threshold{30};

}  // namespace

jetstream_log::jetstream_log(jetstream_connection& connection, std::string_view hub, uint32_t partition, int replicas)
    : connection_(connection) {
  require_plain_name("hub name", hub);
  stream_ = "perdure_" + std::string{hub} + "_p" + std::to_string(partition);
  subject_ = "perdure." + std::string{hub} + ".p" + std::to_string(partition);
  create_stream(replicas);
}

void jetstream_log::create_stream(int replicas) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {subject_.c_str()};
  config.Name = stream_.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = replicas;
  config.DenyDelete = true;  // records leave only by a trim below a snapshot (a purge)
  ensure_stream(connection_, config, "the log stream " + stream_);
}

uint64_t jetstream_log::append(std::string_view bytes, uint64_t expected_last, std::string_view record_id) {
  const std::string id{record_id};
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = id.c_str();
  options.MaxWait = connection_.options().request_timeout.count();
  if (expected_last == 0)
    options.ExpectNoMessage = true;
  else
    options.ExpectLastSubjectSeq = expected_last;
  jsErrCode code{};
  jsPubAck* ack = nullptr;
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_Publish(&ack, connection_.context(), subject_.c_str(), bytes.data(), static_cast<int>(bytes.size()),
                      &options, &code);
  });
  if (s == NATS_OK) {
    const uint64_t seq = ack->Sequence;
    jsPubAck_Destroy(ack);
    return seq;
  }
  if (code == JSStreamWrongLastSequenceErr) {
    // An earlier attempt of this very append may have been stored with its acknowledgement lost.
    const auto [seq, last_id] = last();
    if (last_id == id) return seq;
    throw store_error(errc::fenced, "log " + stream_ + " refused an append after record " +
                                        std::to_string(expected_last) + ": its last record is " +
                                        std::to_string(seq) + ", appended by another owner");
  }
  fail_jetstream(s, code, "cannot append to log " + stream_);
}

jetstream_log::last_record jetstream_log::last() {
  jsErrCode code{};
  natsMsg* raw = nullptr;
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_GetLastMsg(&raw, connection_.context(), stream_.c_str(), subject_.c_str(), nullptr, &code);
  });
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return {};
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read the last record of log " + stream_);
  std::unique_ptr<natsMsg, destroy_msg> msg{raw};
  const char* id = nullptr;
  last_record result{natsMsg_GetSequence(msg.get()), {}};
  if (natsMsgHeader_Get(msg.get(), msg_id_header, &id) == NATS_OK && id) result.record_id = id;
  return result;
}

// From the stream's state rather than its last message, which the servers would send whole
// (base64 in JSON) when only its number is wanted: followers ask several times a second.
uint64_t jetstream_log::last_seq() { return bounds().last; }

uint64_t jetstream_log::first_seq() {
  const auto [first, last] = bounds();
  return first == 0 ? last + 1 : first;  // an empty stream's state says 0
}

jetstream_log::seq_bounds jetstream_log::bounds() {
  jsErrCode code{};
  jsStreamInfo* raw = nullptr;
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_GetStreamInfo(&raw, connection_.context(), stream_.c_str(), nullptr, &code);
  });
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read the state of log " + stream_);
  const seq_bounds out{raw->State.FirstSeq, raw->State.LastSeq};
  jsStreamInfo_Destroy(raw);
  return out;
}

void jetstream_log::trim_before(uint64_t seq) {
  // Never the last record: the next append's "expected last subject sequence" must find it.
  seq = std::min(seq, last_seq());
  if (seq <= 1) return;  // nothing below; and the servers read a purge "up to 1" as a purge of all
  jsOptions options;
  jsOptions_Init(&options);
  options.Stream.Purge.Sequence = seq;  // up to, not including
  options.Wait = connection_.options().request_timeout.count();
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_PurgeStream(connection_.context(), stream_.c_str(), &options, &code);
  });
  if (s != NATS_OK) fail_jetstream(s, code, "cannot trim log " + stream_ + " below record " + std::to_string(seq));
}

size_t jetstream_log::max_record_bytes() const { return max_message_bytes(connection_); }

void jetstream_log::unsubscribe::operator()(natsSubscription* s) const noexcept {
  natsSubscription_Unsubscribe(s);  // deletes the ephemeral consumer now rather than at its inactivity timeout
  natsSubscription_Destroy(s);
}

jetstream_log::subscription jetstream_log::subscribe_from(uint64_t seq) {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_.c_str();
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = seq;
  options.Config.AckPolicy = js_AckNone;
  options.Config.MemoryStorage = true;
  options.Config.InactiveThreshold = std::chrono::nanoseconds{tail_inactive_threshold}.count();
  jsErrCode code{};
  natsSubscription* raw = nullptr;
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_PullSubscribe(&raw, connection_.context(), subject_.c_str(), nullptr, nullptr, &options, &code);
  });
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read log " + stream_);
  return subscription{raw};
}

std::vector<log_record> jetstream_log::read(uint64_t from, size_t max) {
  std::vector<log_record> out;
  const uint64_t last_seq = this->last_seq();
  if (max == 0 || from > last_seq) return out;
  from = std::max<uint64_t>(from, 1);
  bool kept = tail_ && tail_next_ == from;
  if (!kept) tail_ = subscribe_from(from);
  tail_next_ = 0;  // unknown until this read ends well: the next read makes a new consumer

  // Records up to last_seq exist (none is ever deleted below it but by a trim, which moves the
  // start), so fetching stops there instead of waiting for records that may never come.
  //
  // The ephemeral consumer lands on any replica of the stream, and on nats-server 2.9.10 a replica
  // that rejoined with an empty store answers as it is: it starts the consumer below `from` (at
  // what it holds), delivers slowly while it catches up, or never (its catch-up can stall for good,
  // "Catchup for stream ... stalled"). Records below the next one due are skipped; when the consumer
  // delivers nothing or skips one, the rest is read from the stream's leader, which has them all.
  uint64_t next = from;
  uint64_t delivered_through = from - 1;  // the consumer's position
  const auto deadline = clock_type::now() + connection_.options().deadline;
  while (out.size() < max && next <= last_seq) {
    if (clock_type::now() >= deadline)
      throw store_error(errc::unavailable, "reading log " + stream_ + " from record " + std::to_string(from) +
                                               " did not finish in time");
    natsMsgList list{};
    jsErrCode code{};
    const int batch = static_cast<int>(std::min<size_t>(fetch_batch, max - out.size()));
    const natsStatus s =
        natsSubscription_Fetch(&list, tail_.get(), batch, connection_.options().request_timeout.count(), &code);
    if (s != NATS_OK && list.Count == 0 && kept) {
      // The kept consumer is gone (the servers deleted it when it sat idle, or it was on a server
      // that left) or stuck: a new one from the record due.
      natsMsgList_Destroy(&list);
      tail_ = subscribe_from(next);
      delivered_through = next - 1;
      kept = false;
      continue;
    }
    if (s != NATS_OK && !transient(s, code)) {
      natsMsgList_Destroy(&list);
      fail_jetstream(s, code, "cannot read log " + stream_);
    }
    bool skipped = s == NATS_TIMEOUT && list.Count == 0;
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
        natsMsgList_Destroy(&list);
        throw store_error(errc::io_error, "log " + stream_ + " delivered a record without JetStream metadata");
      }
      const uint64_t seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
      delivered_through = std::max(delivered_through, seq);
      if (skipped || seq < next || out.size() == max) continue;
      if (seq > next) {
        skipped = true;
        continue;
      }
      out.push_back(log_record{seq, std::string{natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m))}});
      ++next;
    }
    natsMsgList_Destroy(&list);
    if (skipped) {
      tail_.reset();
      read_from_leader(out, next, last_seq, max, deadline);
      return out;
    }
  }
  tail_next_ = delivered_through + 1;
  return out;
}

// One request per record, each answered by the stream's leader: slower than a consumer, but it
// cannot wait on a lagging replica.
void jetstream_log::read_from_leader(std::vector<log_record>& out, uint64_t from, uint64_t last_seq, size_t max,
                                     clock_type::time_point deadline) {
  for (uint64_t seq = from; seq <= last_seq && out.size() < max; ++seq) {
    // The whole read keeps one deadline: without it each record could retry for a deadline of its own.
    if (clock_type::now() >= deadline)
      throw store_error(errc::unavailable, "reading log " + stream_ + " from its leader at record " +
                                               std::to_string(seq) + " did not finish in time");
    jsErrCode code{};
    natsMsg* raw = nullptr;
    const natsStatus s = retry_transient(connection_, code, [&] {
      return js_GetMsg(&raw, connection_.context(), stream_.c_str(), seq, nullptr, &code);
    });
    if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) {
      // Below a trim, the log starts later; DenyDelete leaves no other hole.
      if (const uint64_t first = first_seq(); first > seq) seq = first - 1;
      continue;
    }
    if (s != NATS_OK) fail_jetstream(s, code, "cannot read record " + std::to_string(seq) + " of log " + stream_);
    std::unique_ptr<natsMsg, destroy_msg> msg{raw};
    out.push_back(log_record{seq, std::string{natsMsg_GetData(msg.get()), static_cast<size_t>(natsMsg_GetDataLength(msg.get()))}});
  }
}

}  // namespace perdure::storage
