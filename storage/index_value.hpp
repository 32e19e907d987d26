// The value of an instance's index entry ([p][status][created][id]): what list filters read
// without loading the record. An entry written before versions holds the bare orchestration name,
// which reads as version 0, not waiting; an entry of version 0 that does not wait is still written
// that way, so indexes of unversioned hubs do not change.
#pragma once

#include <perdure/instance.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace perdure::storage {

struct index_value {
  std::string name;
  int32_t version = 0;
  bool waiting_for_version = false;
  friend bool operator==(const index_value&, const index_value&) = default;
};

index_value index_value_of(const instance_record& record);
/// Replaces `out` with the bytes.
void encode_index_value(const index_value& value, std::string& out);
index_value decode_index_value(std::string_view bytes);

}  // namespace perdure::storage
