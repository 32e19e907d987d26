#include "uuid.hpp"

#include <uuid/uuid.h>

namespace perdure::detail {

namespace {

// Perdure's namespace UUID: arbitrary but fixed forever, since every generated id depends on it.
const uuid_t perdure_namespace{0x9b, 0x1d, 0x5f, 0x2e, 0x6c, 0x43, 0x5a, 0x8e,
                               0x91, 0x0f, 0x3a, 0x7d, 0x22, 0x64, 0xc1, 0x58};

}  // namespace

std::string name_based_uuid(std::string_view name) {
  uuid_t id;
  uuid_generate_sha1(id, perdure_namespace, name.data(), name.size());
  char text[37];  // 36 characters and the terminating NUL uuid_unparse writes
  uuid_unparse_lower(id, text);
  return text;
}

}  // namespace perdure::detail
