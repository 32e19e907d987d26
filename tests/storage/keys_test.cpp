#include "keys.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace perdure;
using namespace perdure::storage;

TEST_CASE("keys: big-endian numbers and times sort bytewise") {
  std::vector<int64_t> ms = {-5'000, -1, 0, 1, 999, 1'700'000'000'000};
  std::vector<std::string> encoded;
  for (auto m : ms) {
    std::string s;
    keys::put_be64(s, keys::encode_time(time_point{std::chrono::milliseconds{m}}));
    encoded.push_back(s);
    CHECK(keys::decode_time(keys::get_be64(s)) == time_point{std::chrono::milliseconds{m}});
  }
  CHECK(std::is_sorted(encoded.begin(), encoded.end()));
  std::string a, b;
  keys::put_be32(a, 0x01020304);
  CHECK(keys::get_be32(a) == 0x01020304u);
  keys::seq_key(a, 1, 255);
  keys::seq_key(b, 1, 256);
  CHECK(a < b);
}

TEST_CASE("keys: partition_of is FNV-1a 64 modulo the count, stable") {
  CHECK(keys::partition_of("", 1000) == 14695981039346656037ull % 1000);
  CHECK(keys::partition_of("a", 1u << 31) == 0xaf63dc4c8601ec8cull % (1u << 31));
  for (uint32_t n : {1u, 3u, 16u})
    for (const char* id : {"order-1", "order-2", "x"}) CHECK(keys::partition_of(id, n) < n);
}

TEST_CASE("keys: one instance's history is an exact prefix, ids of any length") {
  std::string p1, p2, k;
  keys::history_prefix(p1, 2, "ab");
  keys::history_prefix(p2, 2, "abc");
  keys::history_key(k, 2, "abc", 0);
  CHECK(!k.starts_with(p1));  // the length prefix keeps "ab" from matching "abc"
  CHECK(k.starts_with(p2));
  CHECK(k < keys::prefix_end(p2));
  keys::history_key(k, 2, "ab", UINT64_MAX);
  CHECK(k < keys::prefix_end(p1));
}

TEST_CASE("keys: index order is (created, id), partitions are disjoint ranges") {
  std::string a, b, c;
  keys::index_key(a, 0, runtime_status::running, 5, "b");
  keys::index_key(b, 0, runtime_status::running, 5, "ba");
  keys::index_key(c, 0, runtime_status::running, 6, "a");
  CHECK(a < b);
  CHECK(b < c);
  std::string p0, p1;
  keys::partition_prefix(p0, 0);
  keys::partition_prefix(p1, 1);
  CHECK(keys::prefix_end(p0) == p1);
  CHECK(keys::prefix_end(std::string("\x01\xff", 2)) == "\x02");
  CHECK(keys::prefix_end(std::string("\xff\xff", 2)).empty());
}

TEST_CASE("keys: escape makes any key readable") {
  CHECK(keys::escape(std::string("\x00\x00\x00\x01" "ab\xff\\", 8)) == "\\x00\\x00\\x00\\x01ab\\xff\\x5c");
}
