#include "jetstream_snapshot_store.hpp"

#include <perdure/storage/store.hpp>

#include <memory>
#include <ostream>

namespace perdure::storage {
namespace {

struct destroy_msg {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
using message = std::unique_ptr<natsMsg, destroy_msg>;

std::string snapshot_name(uint32_t partition) { return "the snapshot of partition " + std::to_string(partition); }

}  // namespace

jetstream_snapshot_store::jetstream_snapshot_store(jetstream_connection& connection, std::string_view hub, int replicas)
    : connection_(connection), hub_(hub) {
  require_plain_name("hub name", hub);
  stream_ = "perdure_" + hub_ + "_snapshots";
  const std::string subjects = "perdure." + hub_ + ".snapshots.>";
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream_.c_str();
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = replicas;
  ensure_stream(connection_, config, "the snapshot stream " + stream_);
}

std::string jetstream_snapshot_store::subject(uint32_t partition, std::string_view kind) const {
  return "perdure." + hub_ + ".snapshots.p" + std::to_string(partition) + "." + std::string{kind};
}

snapshot_manifest jetstream_snapshot_store::put(uint32_t partition, uint64_t log_seq, uint64_t epoch,
                                                std::istream& image) {
  const auto previous = last_manifest(partition);
  snapshot_manifest manifest{log_seq, epoch, 0, 0, {}};
  chunk_image(image, max_message_bytes(connection_), manifest,
              [&](std::string_view chunk) { manifest.chunks.push_back(publish_chunk(partition, chunk)); });
  publish_manifest(partition, manifest, previous ? previous->seq : 0);
  // Older snapshots go, and so do the chunks of writers that stopped before their manifest.
  if (!manifest.chunks.empty()) purge_before(partition, manifest.chunks.front());
  return manifest;
}

uint64_t jetstream_snapshot_store::publish_chunk(uint32_t partition, std::string_view chunk) {
  const std::string to = subject(partition, "chunk");
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = connection_.options().request_timeout.count();
  jsErrCode code{};
  jsPubAck* ack = nullptr;
  // A retry after a lost acknowledgement stores the chunk twice; the copy nobody names is purged
  // with the next snapshot.
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_Publish(&ack, connection_.context(), to.c_str(), chunk.data(), static_cast<int>(chunk.size()), &options,
                      &code);
  });
  if (s != NATS_OK) fail_jetstream(s, code, "cannot store a chunk of " + snapshot_name(partition) + " in " + stream_);
  const uint64_t seq = ack->Sequence;
  jsPubAck_Destroy(ack);
  return seq;
}

void jetstream_snapshot_store::publish_manifest(uint32_t partition, const snapshot_manifest& manifest,
                                                uint64_t expected_last) {
  const std::string to = subject(partition, "manifest");
  const std::string text = encode_manifest(manifest);
  const std::string expected = std::to_string(expected_last);
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] {
    natsMsg* raw = nullptr;
    natsStatus made = natsMsg_Create(&raw, to.c_str(), nullptr, text.data(), static_cast<int>(text.size()));
    if (made != NATS_OK) return made;
    const message msg{raw};
    // libnats sends no expectation for 0, which the servers take as "the subject has no message".
    made = natsMsgHeader_Set(msg.get(), "Nats-Expected-Last-Subject-Sequence", expected.c_str());
    if (made != NATS_OK) return made;
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = connection_.options().request_timeout.count();
    jsPubAck* ack = nullptr;
    made = js_PublishMsg(&ack, connection_.context(), msg.get(), &options, &code);
    if (ack) jsPubAck_Destroy(ack);
    return made;
  });
  if (s == NATS_OK) return;
  if (code == JSStreamWrongLastSequenceErr) {
    // An earlier attempt of this very manifest may have been stored with its acknowledgement lost.
    if (const auto last = last_manifest(partition); last && last->manifest == manifest) return;
    throw store_error(errc::fenced, "another snapshot of partition " + std::to_string(partition) +
                                        " was stored while this one was written");
  }
  fail_jetstream(s, code, "cannot store the manifest of " + snapshot_name(partition) + " in " + stream_);
}

void jetstream_snapshot_store::purge_before(uint32_t partition, uint64_t seq) {
  // The servers read a purge "up to sequence 1" as no bound at all: the whole subject would go.
  if (seq <= 1) return;
  const std::string subjects = "perdure." + hub_ + ".snapshots.p" + std::to_string(partition) + ".*";
  jsOptions options;
  jsOptions_Init(&options);
  options.Stream.Purge.Subject = subjects.c_str();
  options.Stream.Purge.Sequence = seq;  // up to, not including
  options.Wait = connection_.options().request_timeout.count();
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_PurgeStream(connection_.context(), stream_.c_str(), &options, &code);
  });
  if (s != NATS_OK)
    fail_jetstream(s, code, "cannot remove the older snapshots of partition " + std::to_string(partition) + " from " + stream_);
}

std::optional<jetstream_snapshot_store::stored_manifest> jetstream_snapshot_store::last_manifest(uint32_t partition) {
  const std::string from = subject(partition, "manifest");
  jsErrCode code{};
  natsMsg* raw = nullptr;
  const natsStatus s = retry_transient(connection_, code, [&] {
    return js_GetLastMsg(&raw, connection_.context(), stream_.c_str(), from.c_str(), nullptr, &code);
  });
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return std::nullopt;
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read the newest manifest of partition " + std::to_string(partition));
  const message msg{raw};
  const std::string_view text(natsMsg_GetData(msg.get()), static_cast<size_t>(natsMsg_GetDataLength(msg.get())));
  return stored_manifest{decode_manifest(text, stream_ + " " + from), natsMsg_GetSequence(msg.get())};
}

std::optional<snapshot_manifest> jetstream_snapshot_store::newest(uint32_t partition) {
  auto last = last_manifest(partition);
  if (!last) return std::nullopt;
  return std::move(last->manifest);
}

void jetstream_snapshot_store::read(uint32_t partition, const snapshot_manifest& manifest, std::ostream& out) {
  const std::string chunks = subject(partition, "chunk");
  image_checksum checksum;
  uint64_t bytes = 0;
  for (const uint64_t seq : manifest.chunks) {
    jsErrCode code{};
    natsMsg* raw = nullptr;
    const natsStatus s = retry_transient(connection_, code, [&] {
      return js_GetMsg(&raw, connection_.context(), stream_.c_str(), seq, nullptr, &code);
    });
    if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr)
      throw store_error(errc::not_found, snapshot_name(partition) + " at record " + std::to_string(manifest.log_seq) +
                                             " was replaced by a newer one while it was read");
    if (s != NATS_OK) fail_jetstream(s, code, "cannot read a chunk of " + snapshot_name(partition) + " from " + stream_);
    const message msg{raw};
    if (chunks != natsMsg_GetSubject(msg.get()))
      throw store_error(errc::corrupt_record, snapshot_name(partition) + ": its manifest names message " +
                                                  std::to_string(seq) + " of " + stream_ + ", which is not its chunk");
    const std::string_view chunk(natsMsg_GetData(msg.get()), static_cast<size_t>(natsMsg_GetDataLength(msg.get())));
    checksum.add(chunk);
    bytes += chunk.size();
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
  check_image(partition, manifest, bytes, checksum.value());
}

}  // namespace perdure::storage
