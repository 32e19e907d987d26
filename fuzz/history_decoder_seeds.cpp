// Seeds for fuzz_history_decoder: one real encoding of every value kind it decodes, with the
// selector byte in front (see history_decoder.cpp), so that mutations start from well-formed
// Cap'n Proto messages of every event kind rather than from nothing.
//
//   fuzz_history_decoder_seeds DIR
#include "codec.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <variant>

namespace codec = perdure::storage::codec;
using namespace perdure;

namespace {

// Every kind of history event, its strings filled so that every text field is exercised.
history every_event_kind() {
  history events;
  const auto one_of_each = [&]<size_t... kinds>(std::index_sequence<kinds...>) {
    (events.push_back(history_event{time_point{std::chrono::seconds(1'700'000'000 + kinds)},
                                    event_payload{std::in_place_index<kinds>}}),
     ...);
  };
  one_of_each(std::make_index_sequence<std::variant_size_v<event_payload>>{});
  std::get<events::execution_started>(events[0].payload) =
      events::execution_started{"Pay", "order-1", "exec-1", "{\"amount\":12}", std::nullopt};
  return events;
}

message a_message() {
  message msg{"order-1", "exec-1", history_event{time_point{}, events::event_raised{"paid", "true"}}};
  msg.source_partition = 2;
  msg.source_seq = 41;
  return msg;
}

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
  instance_record record;
  record.instance_id = "order-1";
  record.execution_id = "exec-1";
  record.name = "Pay";
  record.input = "{\"amount\":12}";
  bytes.clear();
  codec::encode_row(record, 3, bytes);
  seed(2, bytes);
  seed(3, bytes);
  bytes.clear();
  codec::encode_activity(storage::activity_task{"order-1", "exec-1", 4, "Charge", "12", time_point{}}, bytes);
  seed(4, bytes);
  bytes.clear();
  codec::encode_timer(storage::timer_entry{time_point{std::chrono::seconds(60)}, "order-1", "exec-1", 5}, bytes);
  seed(5, bytes);
  bytes.clear();
  codec::encode_outbox(storage::outbox_entry{7, 3, a_message()}, bytes);
  seed(6, bytes);
  bytes.clear();
  codec::encode_inbox(storage::inbox_entry{8, a_message()}, bytes);
  seed(7, bytes);
  bytes.clear();
  codec::encode_hub_meta(codec::hub_meta{2, 8}, bytes);
  seed(8, bytes);
  bytes.clear();
  codec::encode_history_chunk(events, bytes);
  seed(9, bytes);
  std::cout << written << " seeds in " << dir.string() << "\n";
  return 0;
}
