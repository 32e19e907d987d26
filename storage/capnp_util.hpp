// Cap'n Proto helpers shared by the codec sources: framing, safe reading, field conversions.
#pragma once

#include "codec.hpp"
#include "history.capnp.h"
#include "records.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace perdure::storage::codec::detail {

/// A semantic defect found while decoding (e.g. an unknown union member).
class decode_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline capnp::Text::Reader text(const std::string& s) { return {s.data(), s.size()}; }
inline std::string str(capnp::Text::Reader r) { return {r.begin(), r.size()}; }
inline int64_t ns(time_point t) { return t.time_since_epoch().count(); }
inline time_point from_ns(int64_t v) { return time_point{std::chrono::nanoseconds{v}}; }

void write_failure(schema::FailureDetails::Builder b, const failure_details& f);
failure_details read_failure(schema::FailureDetails::Reader r);
void write_parent(schema::ParentInstance::Builder b, const parent_instance& p);
parent_instance read_parent(schema::ParentInstance::Reader r);
void write_entity_operation(schema::EntityOperation::Builder b, const events::entity_operation& op);
events::entity_operation read_entity_operation(schema::EntityOperation::Reader r);
void write_event(schema::HistoryEvent::Builder b, const history_event& e);
history_event read_event(schema::HistoryEvent::Reader r);
void write_message(schema::Message::Builder b, const message& m);
message read_message(schema::Message::Reader r);

/// Serializes a built message into `out` as one flat array.
void to_bytes(capnp::MallocMessageBuilder& builder, std::string& out);

/// The traversal limit guards against a damaged value whose pointers make a reader visit the same
/// words again and again; a value read once visits each of its words about once. So the limit is a
/// multiple of the value's own size (what the store wrote is always readable, whatever
/// max_payload_bytes allows), and at least 64 MiB.
inline capnp::ReaderOptions reader_options(size_t words) {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = std::max<uint64_t>(8u << 20, 4 * static_cast<uint64_t>(words));
  o.nestingLimit = 16;
  return o;
}

/// Reads `bytes` as a message with root `Root` and returns fn(root); any decoding failure becomes
/// store_error(corrupt_record). The bytes are copied to aligned words first: RocksDB gives no
/// alignment guarantee and Cap'n Proto needs 8-byte alignment.
template <typename Root, typename Fn>
auto read(std::string_view bytes, key_ref where, std::string_view what, Fn&& fn) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    throw corrupt(where, what, "value size " + std::to_string(bytes.size()) + " is not a positive multiple of 8");
  constexpr size_t inline_words = 64;
  alignas(capnp::word) unsigned char small[inline_words * sizeof(capnp::word)];
  std::unique_ptr<uint64_t[]> large;
  void* buffer = small;
  if (bytes.size() > sizeof(small)) {
    large.reset(new uint64_t[bytes.size() / sizeof(uint64_t)]);
    buffer = large.get();
  }
  std::memcpy(buffer, bytes.data(), bytes.size());
  kj::ArrayPtr<const capnp::word> words(static_cast<const capnp::word*>(buffer), bytes.size() / sizeof(capnp::word));
  try {
    capnp::FlatArrayMessageReader reader(words, reader_options(words.size()));
    return fn(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    throw corrupt(where, what, e.getDescription().cStr());
  } catch (const decode_error& e) {
    throw corrupt(where, what, e.what());
  }
}

}  // namespace perdure::storage::codec::detail
