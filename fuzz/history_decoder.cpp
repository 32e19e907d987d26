// Fuzzes the storage decoders: every value kind read from RocksDB is untrusted bytes. The first byte
// picks the decoder. A decoder may only return a value or throw store_error(corrupt_record); a
// decoded history chunk, history event or message must survive an encode/decode round trip unchanged.
#include "codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace codec = perdure::storage::codec;

namespace {

template <class T, class Decode, class Encode>
void round_trip(const T& value, Decode decode, Encode encode) {
  std::string bytes;
  encode(value, bytes);
  if (!(decode(bytes, codec::key_ref{"fuzz", "again"}) == value)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const codec::key_ref where{"fuzz", "key"};
  try {
    switch (data[0] % 9) {
      case 0:
        round_trip(codec::decode_event(bytes, where), codec::decode_event, codec::encode_event);
        break;
      case 1:
        round_trip(codec::decode_message(bytes, where), codec::decode_message, codec::encode_message);
        break;
      case 2: codec::decode_row(bytes, where); break;
      case 3: codec::decode_row_summary(bytes, where); break;
      case 4: codec::decode_activity(bytes, where); break;
      case 5: codec::decode_timer(bytes, where); break;
      case 6: codec::decode_outbox(bytes, where); break;
      case 7: codec::decode_hub_meta(bytes, where); break;
      case 8: {
        perdure::history chunk;
        codec::decode_history_chunk(bytes, where, chunk);
        round_trip(
            chunk,
            [](std::string_view again, codec::key_ref at) {
              perdure::history out;
              codec::decode_history_chunk(again, at, out);
              return out;
            },
            [](const perdure::history& events, std::string& out) { codec::encode_history_chunk(events, out); });
        break;
      }
    }
  } catch (const perdure::storage::store_error& e) {
    if (e.code() != perdure::storage::errc::corrupt_record) std::abort();
  }
  return 0;
}
