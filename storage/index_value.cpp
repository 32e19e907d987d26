#include "index_value.hpp"

namespace perdure::storage {

namespace {
// name, then '\0', the version (4 bytes, big-endian) and a flags byte; the '\0' keeps a name that
// ends in 5 arbitrary bytes from reading as a suffix.
constexpr size_t suffix_size = 1 + 4 + 1;
constexpr uint8_t waiting_flag = 1;
}  // namespace

index_value index_value_of(const instance_record& record) {
  return {record.name, record.version, record.waiting_for_version()};
}

void encode_index_value(const index_value& value, std::string& out) {
  out = value.name;
  if (value.version == 0 && !value.waiting_for_version) return;
  out.push_back('\0');
  const auto version = static_cast<uint32_t>(value.version);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((version >> shift) & 0xff));
  out.push_back(static_cast<char>(value.waiting_for_version ? waiting_flag : 0));
}

index_value decode_index_value(std::string_view bytes) {
  if (bytes.size() < suffix_size || bytes[bytes.size() - suffix_size] != '\0') return {std::string(bytes), 0, false};
  const auto* suffix = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - suffix_size + 1);
  const uint32_t version = (uint32_t{suffix[0]} << 24) | (uint32_t{suffix[1]} << 16) | (uint32_t{suffix[2]} << 8) | suffix[3];
  return {std::string(bytes.substr(0, bytes.size() - suffix_size)), static_cast<int32_t>(version),
          (suffix[4] & waiting_flag) != 0};
}

}  // namespace perdure::storage
