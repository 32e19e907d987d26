#include "snapshot_store.hpp"

#include <perdure/storage/store.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <istream>
#include <ostream>

namespace perdure::storage {

void image_checksum::add(std::string_view bytes) noexcept {
  for (const unsigned char c : bytes) {
    hash_ ^= c;
    hash_ *= 0x100000001b3ull;
  }
}

void chunk_image(std::istream& image, size_t chunk_bytes, snapshot_manifest& manifest,
                 const std::function<void(std::string_view chunk)>& store) {
  image_checksum checksum;
  std::string chunk(chunk_bytes, '\0');
  manifest.bytes = 0;
  for (;;) {
    image.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (image.bad()) throw store_error(errc::io_error, "the partition image could not be read for its snapshot");
    const auto got = static_cast<size_t>(image.gcount());
    if (got == 0) break;
    const std::string_view piece(chunk.data(), got);
    checksum.add(piece);
    manifest.bytes += got;
    store(piece);
    if (got < chunk.size()) break;
  }
  manifest.checksum = checksum.value();
}

void check_image(uint32_t partition, const snapshot_manifest& manifest, uint64_t bytes, uint64_t checksum) {
  if (bytes != manifest.bytes || checksum != manifest.checksum)
    throw store_error(errc::corrupt_record,
                      "the snapshot of partition " + std::to_string(partition) + " at record " +
                          std::to_string(manifest.log_seq) + " read back as " + std::to_string(bytes) +
                          " bytes that do not match its manifest (" + std::to_string(manifest.bytes) +
                          " bytes and their checksum)");
}

std::string encode_manifest(const snapshot_manifest& manifest) {
  return nlohmann::json{{"logSeq", manifest.log_seq},
                        {"epoch", manifest.epoch},
                        {"bytes", manifest.bytes},
                        {"checksum", manifest.checksum},
                        {"chunks", manifest.chunks}}
      .dump();
}

snapshot_manifest decode_manifest(std::string_view text, std::string_view where) {
  try {
    const auto j = nlohmann::json::parse(text);
    return snapshot_manifest{j.at("logSeq").get<uint64_t>(), j.at("epoch").get<uint64_t>(),
                             j.at("bytes").get<uint64_t>(), j.at("checksum").get<uint64_t>(),
                             j.at("chunks").get<std::vector<uint64_t>>()};
  } catch (const nlohmann::json::exception& e) {
    throw store_error(errc::corrupt_record, "snapshot manifest " + std::string{where} + " is not one: " + e.what());
  }
}

snapshot_manifest memory_snapshot_store::put(uint32_t partition, uint64_t log_seq, uint64_t epoch, std::istream& image) {
  uint64_t revision = 0;
  {
    std::lock_guard lock(mutex_);
    revision = partitions_[partition].revision;
  }
  snapshot_manifest manifest{log_seq, epoch, 0, 0, {}};
  chunk_image(image, chunk_bytes_, manifest, [&](std::string_view chunk) {
    std::lock_guard lock(mutex_);
    chunks_.emplace(++last_chunk_, stored_chunk{partition, std::string{chunk}});
    manifest.chunks.push_back(last_chunk_);
  });
  std::lock_guard lock(mutex_);
  auto& snapshots = partitions_[partition];
  if (snapshots.revision != revision)
    throw store_error(errc::fenced, "another snapshot of partition " + std::to_string(partition) +
                                        " was stored while this one was written");
  snapshots.manifest = manifest;
  ++snapshots.revision;
  // Older snapshots go, and so do the chunks of writers that did not finish theirs.
  std::erase_if(chunks_, [&](const auto& entry) {
    return entry.second.partition == partition &&
           std::find(manifest.chunks.begin(), manifest.chunks.end(), entry.first) == manifest.chunks.end();
  });
  return manifest;
}

std::optional<snapshot_manifest> memory_snapshot_store::newest(uint32_t partition) {
  std::lock_guard lock(mutex_);
  const auto found = partitions_.find(partition);
  return found == partitions_.end() ? std::nullopt : found->second.manifest;
}

void memory_snapshot_store::read(uint32_t partition, const snapshot_manifest& manifest, std::ostream& out) {
  image_checksum checksum;
  uint64_t bytes = 0;
  for (const uint64_t id : manifest.chunks) {
    std::string chunk;
    {
      std::lock_guard lock(mutex_);
      const auto found = chunks_.find(id);
      if (found == chunks_.end())
        throw store_error(errc::not_found, "the snapshot of partition " + std::to_string(partition) + " at record " +
                                               std::to_string(manifest.log_seq) + " was replaced by a newer one");
      chunk = found->second.bytes;
    }
    checksum.add(chunk);
    bytes += chunk.size();
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
  check_image(partition, manifest, bytes, checksum.value());
}

size_t memory_snapshot_store::chunks_held() {
  std::lock_guard lock(mutex_);
  return chunks_.size();
}

}  // namespace perdure::storage
