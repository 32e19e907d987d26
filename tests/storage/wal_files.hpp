// Damage to a hub's write-ahead log, as a crash or a bad disk leaves it (RocksDB's log format:
// 32 KiB blocks of records, each with a 7-byte header: checksum, length, type).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace perdure::testing_support {

/// The live WAL: the newest `*.log` of a hub's directory.
inline std::filesystem::path live_wal(const std::filesystem::path& hub) {
  std::vector<std::filesystem::path> logs;
  for (const auto& entry : std::filesystem::directory_iterator(hub))
    if (entry.path().extension() == ".log") logs.push_back(entry.path());
  if (logs.empty()) throw std::runtime_error("no WAL in " + hub.string());
  return *std::max_element(logs.begin(), logs.end());  // zero-padded numbers: names sort by number
}

/// Appends what a crash in the middle of appending a record leaves: a header announcing more
/// bytes than follow.
inline void append_torn_record(const std::filesystem::path& wal) {
  constexpr size_t block = 32 * 1024, header = 7;
  std::string tail;
  size_t left_in_block = block - std::filesystem::file_size(wal) % block;
  if (left_in_block < header + 64) {  // the writer pads such a block's rest and starts the next
    tail.append(left_in_block, '\0');
    left_in_block = block;
  }
  const size_t length = std::min<size_t>(1000, left_in_block - header);
  tail += std::string("\x12\x34\x56\x78", 4);  // checksum: never checked, the record is incomplete
  tail += static_cast<char>(length & 0xff);
  tail += static_cast<char>(length >> 8);
  tail += '\x01';  // a full (unfragmented) record
  tail.append(length / 2, 'x');
  std::ofstream(wal, std::ios::binary | std::ios::app) << tail;
}

/// Inverts `count` bytes in the middle of the file.
inline void flip_bytes_in_the_middle(const std::filesystem::path& wal, size_t count) {
  std::fstream file(wal, std::ios::binary | std::ios::in | std::ios::out);
  const auto middle = static_cast<std::streamoff>(std::filesystem::file_size(wal) / 2);
  std::string bytes(count, '\0');
  file.seekg(middle);
  file.read(bytes.data(), static_cast<std::streamsize>(count));
  for (auto& b : bytes) b = static_cast<char>(~b);
  file.seekp(middle);
  file.write(bytes.data(), static_cast<std::streamsize>(count));
}

}  // namespace perdure::testing_support
