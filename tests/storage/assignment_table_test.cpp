#include "assignment_contract.hpp"

using namespace perdure;

TEST_CASE("memory_assignment_table keeps the assignment_table contract") {
  storage::memory_assignment_table table;
  testing_support::check_assignment_contract(table, table);
}

TEST_CASE("an assignment that is not one is a corrupt record naming its key") {
  try {
    storage::decode_assignment(R"({"owner":"a"})", "hub p3");
    FAIL("decoded");
  } catch (const storage::store_error& e) {
    CHECK(e.code() == storage::errc::corrupt_record);
    CHECK(std::string{e.what()}.find("hub p3") != std::string::npos);
  }
  CHECK(storage::decode_assignment(storage::encode_assignment({"a", {"b"}, 7}), "x") ==
        storage::partition_assignment{"a", {"b"}, 7});
}
