// Partition images: one partition's keys in every column family (its applied log position among
// them), written from one RocksDB snapshot with SstFileWriter and installed with one atomic
// ingestion (see replicated_hub.hpp).
//
// The image is one stream: "perdure-partition-image 1\n", the partition (4 bytes), the position's
// seq and epoch (8 + 8), the number of files (4), then per file its column family (4), its size
// (8) and its bytes (an SST file). Numbers are big-endian.
#include "keys.hpp"
#include "rocksdb_store.hpp"

#include <rocksdb/sst_file_writer.h>

#include <fstream>

namespace perdure::storage {
namespace {

constexpr std::string_view image_magic = "perdure-partition-image 1\n";

struct image_file {
  size_t column_family = 0;
  std::filesystem::path path;
};

// Files of one export or import, removed whatever happens.
class scratch_dir {
 public:
  explicit scratch_dir(std::filesystem::path path) : path_(std::move(path)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ignored;  // a leftover is removed by the next use of the same directory
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::filesystem::path file(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string image_error(uint32_t partition, const std::string& what) {
  return "partition image of partition " + std::to_string(partition) + ": " + what;
}

void write_number(std::ostream& out, uint64_t value, int bytes) {
  std::string encoded;
  keys::put_be64(encoded, value);
  out.write(encoded.data() + 8 - bytes, bytes);
}

uint64_t read_number(std::istream& in, int bytes, uint32_t partition) {
  char raw[8] = {};
  in.read(raw + 8 - bytes, bytes);
  if (in.gcount() != bytes) throw store_error(errc::corrupt_record, image_error(partition, "it ends early"));
  return keys::get_be64({raw, 8});
}

void copy_bytes(std::istream& in, std::ostream& out, uint64_t count, uint32_t partition) {
  char buffer[1 << 16];
  while (count > 0) {
    const auto n = static_cast<std::streamsize>(std::min<uint64_t>(count, sizeof buffer));
    in.read(buffer, n);
    if (in.gcount() != n) throw store_error(errc::corrupt_record, image_error(partition, "it ends early"));
    out.write(buffer, n);
    count -= static_cast<uint64_t>(n);
  }
}

}  // namespace

log_position rocksdb_store::export_image(uint32_t partition, const image_consumer& consume) const {
  check_partition(partition);
  // Exports of different partitions may run at once; one partition's exports follow each other
  // (its owner's replica takes them).
  const scratch_dir scratch(dir_ / "partition-images" / ("export-" + std::to_string(partition)));
  struct release_snapshot {
    rocksdb::DB* db;
    void operator()(const rocksdb::Snapshot* s) const noexcept { db->ReleaseSnapshot(s); }
  };
  // Commits go on while the image is written: every one is a single WriteBatch with its position,
  // so what the snapshot holds is exactly the log up to the position it holds.
  const std::unique_ptr<const rocksdb::Snapshot, release_snapshot> snapshot{db_->GetSnapshot(), {db_}};
  std::string position_key;
  keys::log_position_key(position_key, partition);
  const auto position_value = get(cf_partition, position_key, snapshot.get());
  log_position position;
  if (position_value && position_value->size() == 16)
    position = {keys::get_be64(*position_value), keys::get_be64(std::string_view(*position_value).substr(8))};

  std::string lower, upper;
  keys::partition_prefix(lower, partition);
  upper = keys::prefix_end(lower);
  std::vector<image_file> files;
  for (size_t which = 0; which < cf_count; ++which) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot.get();
    ro.fill_cache = false;
    const rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(which)));
    it->Seek(lower);
    if (!it->Valid()) {
      check(it->status(), "partition image scan");
      continue;  // SstFileWriter makes no empty file
    }
    image_file file{which, scratch.file(std::string(cf_name(which)) + ".sst")};
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions{}, db_->GetOptions(cf(which)), cf(which));
    check(writer.Open(file.path.string()), "partition image file open");
    for (; it->Valid(); it->Next()) check(writer.Put(it->key(), it->value()), "partition image write");
    check(it->status(), "partition image scan");
    check(writer.Finish(), "partition image file finish");
    files.push_back(std::move(file));
  }

  const auto image_path = scratch.file("image");
  {
    std::ofstream out(image_path, std::ios::binary);
    out.write(image_magic.data(), static_cast<std::streamsize>(image_magic.size()));
    write_number(out, partition, 4);
    write_number(out, position.seq, 8);
    write_number(out, position.epoch, 8);
    write_number(out, files.size(), 4);
    for (const auto& file : files) {
      write_number(out, file.column_family, 4);
      write_number(out, std::filesystem::file_size(file.path), 8);
      std::ifstream in(file.path, std::ios::binary);
      out << in.rdbuf();
    }
    out.flush();
    if (!out) throw store_error(errc::io_error, image_error(partition, "cannot write " + image_path.string()));
  }
  std::ifstream image(image_path, std::ios::binary);
  consume(image, position);
  return position;
}

log_position rocksdb_store::import_image(uint32_t partition, const image_producer& fill) {
  check_partition(partition);
  partition_state& state = partitions_[partition];
  std::lock_guard lock(state.mutex);
  if (state.log)
    throw store_error(errc::invalid_argument, "partition " + std::to_string(partition) +
                                                  " is led by this node: an image is installed only into a copy that follows");
  const scratch_dir scratch(dir_ / "partition-images" / ("import-" + std::to_string(partition)));
  const auto image_path = scratch.file("image");
  {
    std::ofstream out(image_path, std::ios::binary);
    fill(out);
    out.flush();
    if (!out) throw store_error(errc::io_error, image_error(partition, "cannot write " + image_path.string()));
  }

  std::ifstream in(image_path, std::ios::binary);
  std::string magic(image_magic.size(), '\0');
  in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
  if (magic != image_magic) throw store_error(errc::corrupt_record, image_error(partition, "it is not a partition image"));
  const auto imaged = static_cast<uint32_t>(read_number(in, 4, partition));
  if (imaged != partition)
    throw store_error(errc::invalid_argument,
                      image_error(partition, "it is an image of partition " + std::to_string(imaged)));
  const log_position position{read_number(in, 8, partition), read_number(in, 8, partition)};
  const auto count = read_number(in, 4, partition);
  std::vector<rocksdb::IngestExternalFileArg> ingest;
  for (uint64_t i = 0; i < count; ++i) {
    const auto which = read_number(in, 4, partition);
    if (which >= cf_count || which == cf_default)
      throw store_error(errc::corrupt_record, image_error(partition, "it names column family " + std::to_string(which)));
    const auto path = scratch.file(std::string(cf_name(which)) + ".sst");
    std::ofstream file(path, std::ios::binary);
    copy_bytes(in, file, read_number(in, 8, partition), partition);
    file.close();
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cf(which);
    arg.external_files = {path.string()};
    arg.options.move_files = true;
    ingest.push_back(std::move(arg));
  }

  // The old copy goes first, durably: an ingestion that does not overlap the memtable does not
  // flush it, and a deletion lost from an unsynced WAL would bring stale keys back. Key by key:
  // a range tombstone starting at the bare partition prefix would break the memtable's insert
  // hints of several column families (see insert_hint_prefix in rocksdb_store.cpp).
  std::string lower;
  keys::partition_prefix(lower, partition);
  const std::string upper = keys::prefix_end(lower);
  rocksdb::WriteBatch clear;
  for (size_t which = 1; which < cf_count; ++which)
    scan(which, lower, upper, [&](std::string_view key, std::string_view) {
      clear.Delete(cf(which), key);
      return true;
    });
  write(clear, "clear a partition for its image");
  check(db_->FlushWAL(true), "sync the cleared partition");
  // One ingestion for every column family: a crash leaves the old copy cleared or the image whole.
  if (!ingest.empty()) check(db_->IngestExternalFiles(ingest), "ingest a partition image");
  state.pending_parts.clear();
  state.pending_next_part = 0;
  state.pending_through = 0;
  return position;
}

}  // namespace perdure::storage
