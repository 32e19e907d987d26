// Seeds for fuzz_history_decoder: one real encoding of every value kind it decodes, with the
// selector byte in front (see history_decoder.cpp), so that mutations start from well-formed
// Cap'n Proto messages of every event kind rather than from nothing.
//
//   fuzz_history_decoder_seeds DIR
#include "tests/storage/test_util.hpp"
#include "codec.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace codec = perdure::storage::codec;
using namespace perdure;
using namespace perdure::storage::test;  // the storage tests' sample values: every event kind, every field set

namespace {

// An event raised from partition 2 (outbox seq 41).
message a_message() { return message{"order-1", "exec-1", every_event_kind()[17], 2, 41}; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_history_decoder_seeds DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  int written = 0;
  const auto seed = [&](char selector, const std::string& bytes) {
    std::ofstream(dir / ("seed-" + std::to_string(written++)), std::ios::binary) << selector << bytes;
  };
  const auto events = every_event_kind();
  for (const auto& event : events) {
    std::string bytes;
    codec::encode_event(event, bytes);
    seed(0, bytes);
  }
  std::string bytes;
  codec::encode_message(a_message(), bytes);
  seed(1, bytes);
  bytes.clear();
  codec::encode_row(make_record("order-1", "Pay", runtime_status::running, at_ms(1'700'000'000'000)), 3, bytes);
  seed(2, bytes);
  seed(3, bytes);
  bytes.clear();
  codec::encode_activity(storage::activity_task{"order-1", "exec-1", 4, "Charge", "12", at_ms(1'700'000'000'000)},
                         bytes);
  seed(4, bytes);
  bytes.clear();
  codec::encode_timer(storage::timer_entry{at_ms(1'700'000'060'000), "order-1", "exec-1", 5}, bytes);
  seed(5, bytes);
  bytes.clear();
  codec::encode_outbox(storage::outbox_entry{7, 3, a_message()}, bytes);
  seed(6, bytes);
  bytes.clear();
  codec::encode_hub_meta(codec::hub_meta{2, 8}, bytes);
  seed(7, bytes);
  bytes.clear();
  codec::encode_history_chunk(events, bytes);
  seed(8, bytes);
  std::cout << written << " seeds in " << dir.string() << "\n";
  return 0;
}
