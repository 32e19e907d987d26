// Golden values of name_based_uuid: orchestrations' new_uuid() ids are recorded in histories and
// replayed, so they must stay byte-identical whatever computes them.
#include <model/uuid.hpp>

#include <doctest/doctest.h>

#include <string>

using perdure::detail::name_based_uuid;

namespace {
std::string all_bytes() {
  std::string out;
  for (int c = 0; c < 256; ++c) out += static_cast<char>(c);
  return out;
}
}  // namespace

TEST_CASE("name_based_uuid: the version-5 ids of Perdure's namespace never change") {
  CHECK(name_based_uuid("") == "ecf331ea-3669-5862-b5cc-b9d4b23fc1b3");
  CHECK(name_based_uuid("a") == "620d2b60-5c59-5bbb-b829-2f6fc665fcbf");
  // The form engine::new_uuid gives them: instance, execution, time, counter.
  CHECK(name_based_uuid("order-42\n3f2a\n1700000000000000000\n0") == "a72f0034-0b07-52a1-a078-1b2063b22a06");
  CHECK(name_based_uuid("order-42\n3f2a\n1700000000000000000\n1") == "89f2fb90-a6cf-57f7-bd69-66cd173d809f");
  CHECK(name_based_uuid("caf\xc3\xa9 \xe2\x9c\x93") == "3399dd41-3f39-5f2c-848a-233c74d74840");
  CHECK(name_based_uuid(std::string("nul\0inside", 10)) == "4c774bde-7b59-5292-9ec1-7b2fd840d536");
  CHECK(name_based_uuid(all_bytes()) == "45800cb7-2ffa-5f69-b312-a542e6f99c4f");
  // Around SHA-1's 64-byte block and its 8-byte length field: one block, two, three.
  CHECK(name_based_uuid(std::string(55, 'x')) == "abed3ad7-6b90-5ac6-8e74-d544fbd4722a");
  CHECK(name_based_uuid(std::string(56, 'x')) == "7abbcd87-440e-53c7-a016-d6eec1a707a3");
  CHECK(name_based_uuid(std::string(64, 'x')) == "c6ae19bd-4f4d-55c9-86d5-b28bee324e9d");
  CHECK(name_based_uuid(std::string(119, 'x')) == "a3952651-28a3-508a-9aee-e0092f1b0a91");
}
