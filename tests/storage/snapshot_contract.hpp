// The snapshot_store contract, checked the same way against every implementation
// (memory_snapshot_store in the storage tests, jetstream_snapshot_store against real nats-servers
// in the cluster tests).
#pragma once

#include <perdure/storage/store.hpp>
#include <snapshot_store.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <sstream>
#include <streambuf>
#include <string>
#include <utility>

namespace perdure::testing_support {

/// A stream that delivers `good` bytes and then fails, like a file whose disk went away.
class failing_image final : public std::streambuf {
 public:
  explicit failing_image(std::string good) : good_(std::move(good)) { setg(good_.data(), good_.data(), good_.data() + good_.size()); }

 protected:
  int_type underflow() override { throw std::runtime_error("the image's disk went away"); }

 private:
  std::string good_;
};

/// A stream that delivers `head`, runs `between`, then delivers `tail`: another writer's snapshot
/// stored while this one is written.
class interleaving_image final : public std::streambuf {
 public:
  interleaving_image(std::string head, std::string tail, std::function<void()> between)
      : head_(std::move(head)), tail_(std::move(tail)), between_(std::move(between)) {
    setg(head_.data(), head_.data(), head_.data() + head_.size());
  }

 protected:
  int_type underflow() override {
    if (!between_) return traits_type::eof();
    std::exchange(between_, nullptr)();
    setg(tail_.data(), tail_.data(), tail_.data() + tail_.size());
    return tail_.empty() ? traits_type::eof() : traits_type::to_int_type(tail_[0]);
  }

 private:
  std::string head_, tail_;
  std::function<void()> between_;
};

/// An image of `bytes` bytes whose content depends on `seed`.
inline std::string test_image(size_t bytes, char seed) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>(seed + static_cast<char>(i * 7 % 251));
  return out;
}

inline std::string read_back(storage::snapshot_store& store, uint32_t partition, const storage::snapshot_manifest& m) {
  std::ostringstream out;
  store.read(partition, m, out);
  return out.str();
}

/// `open` gives a new handle on the same, initially empty store (another node's view of it);
/// `chunk_bytes` is the largest chunk its handles store.
inline void check_snapshot_contract(const std::function<std::unique_ptr<storage::snapshot_store>()>& open,
                                    size_t chunk_bytes) {
  using storage::errc;
  auto owner = open();
  CHECK_FALSE(owner->newest(0));

  // An image of several chunks reads back whole, from another handle.
  const std::string first_image = test_image(chunk_bytes * 2 + 17, 'a');
  std::istringstream first_in(first_image);
  const auto first = owner->put(0, 100, 2, first_in);
  CHECK(first.log_seq == 100);
  CHECK(first.epoch == 2);
  CHECK(first.bytes == first_image.size());
  CHECK(first.chunks.size() == 3);
  auto reader = open();
  REQUIRE(reader->newest(0));
  CHECK(*reader->newest(0) == first);
  CHECK(read_back(*reader, 0, first) == first_image);
  CHECK_FALSE(reader->newest(1));

  // A snapshot whose image fails half way is never used: the older one stays the newest.
  failing_image broken(test_image(chunk_bytes + 5, 'b'));
  std::istream broken_in(&broken);
  CHECK_THROWS_AS(owner->put(0, 150, 2, broken_in), storage::store_error);
  REQUIRE(reader->newest(0));
  CHECK(reader->newest(0)->log_seq == 100);
  CHECK(read_back(*reader, 0, first) == first_image);

  // Partitions keep their own snapshots.
  const std::string other_image = test_image(10, 'o');
  std::istringstream other_in(other_image);
  const auto other = owner->put(1, 7, 1, other_in);

  // A newer snapshot replaces the older one, whose chunks go.
  const std::string second_image = test_image(chunk_bytes + 1, 'c');
  std::istringstream second_in(second_image);
  const auto second = owner->put(0, 200, 3, second_in);
  REQUIRE(reader->newest(0));
  CHECK(*reader->newest(0) == second);
  CHECK(read_back(*reader, 0, second) == second_image);
  try {
    read_back(*reader, 0, first);
    FAIL("the replaced snapshot was read");
  } catch (const storage::store_error& e) {
    CHECK(e.code() == errc::not_found);
  }
  CHECK(read_back(*reader, 1, other) == other_image);

  // Of two writers at once (a zombie owner and the new one), the one that finishes first stores;
  // the other is refused and its chunks go.
  const std::string winner_image = test_image(chunk_bytes + 3, 'w');
  const std::string loser_image = test_image(chunk_bytes * 2, 'l');
  interleaving_image interleaved(loser_image.substr(0, chunk_bytes), loser_image.substr(chunk_bytes), [&] {
    std::istringstream in(winner_image);
    reader->put(0, 300, 4, in);
  });
  std::istream loser_in(&interleaved);
  try {
    owner->put(0, 250, 3, loser_in);
    FAIL("both writers stored a snapshot");
  } catch (const storage::store_error& e) {
    CHECK(e.code() == errc::fenced);
  }
  REQUIRE(owner->newest(0));
  CHECK(owner->newest(0)->log_seq == 300);
  CHECK(read_back(*owner, 0, *owner->newest(0)) == winner_image);

  // A manifest that does not match its chunks is refused.
  auto wrong = *owner->newest(0);
  wrong.checksum ^= 1;
  try {
    read_back(*reader, 0, wrong);
    FAIL("a wrong checksum was accepted");
  } catch (const storage::store_error& e) {
    CHECK(e.code() == errc::corrupt_record);
  }
}

}  // namespace perdure::testing_support
