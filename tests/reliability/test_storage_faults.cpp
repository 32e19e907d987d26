// Storage failures: an injected write failure stops the partition with a clear error and leaves no
// partial state; a node refuses to start, saying why, on a data dir it cannot use.
// The tests run as root, so permissions cannot make a directory unusable: a file where the
// directory should be, a corrupt hub record and injected faults do.
#include "runtime/node_fixture.hpp"

#include "fault_injection.hpp"
#include "keys.hpp"
#include "rocksdb_store.hpp"

#include <perdure/host.hpp>

#include <doctest/doctest.h>
#include <httplib.h>
#include <rocksdb/db.h>

#include <fstream>

using namespace perdure;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;
using perdure::testing_support::wait_limit;

namespace {

task<std::string> waiter(orchestration_context& ctx) { co_return co_await ctx.wait_for_event<std::string>("go"); }
task<int> quick(orchestration_context& ctx, int x) { co_return co_await ctx.call_activity<int>("AddOne", x); }

void register_functions(host& h) {
  h.add_orchestration("Waiter", waiter);
  h.add_orchestration("Quick", quick);
  h.add_activity("AddOne", [](activity_context&, int x) { return x + 1; });
}

// Installs a fault switch for the stores opened in its scope.
struct installed_faults {
  std::shared_ptr<storage::write_faults> faults = std::make_shared<storage::write_faults>();
  installed_faults() { storage::install_write_faults(faults); }
  ~installed_faults() { storage::install_write_faults(nullptr); }
};

size_t count_events(const history& events, std::string_view name) {
  size_t n = 0;
  for (const auto& e : events)
    if (auto* r = std::get_if<events::event_raised>(&e.payload); r && r->name == name) ++n;
  return n;
}

std::string start_error(const node_options& options) {
  host h;
  register_functions(h);
  try {
    h.start(options);
  } catch (const perdure::error& e) {
    return e.what();
  }
  h.stop();
  return {};
}

}  // namespace

TEST_CASE("a write failure stops the partition with a clear error and leaves no partial state") {
  temp_dir dir;
  auto options = test_node_options(dir.path() / "data");
  history finished_history;
  {
    installed_faults installed;
    host h;
    register_functions(h);
    options.http_port = 0;
    h.start(options);
    auto& c = h.client();
    c.start("Quick", "1", {"done-1"});
    REQUIRE(c.wait_for_completion("done-1", wait_limit).output == "2");
    finished_history = c.history("done-1");
    c.start("Waiter", "", {"w-1"});

    installed.faults->fail_writes(true);
    std::string first_error;
    try {
      c.raise_event("w-1", "go", "\"x\"");
    } catch (const perdure::error& e) {
      first_error = e.what();
    }
    INFO(first_error);
    CHECK(first_error.find("unavailable") != std::string::npos);
    CHECK(first_error.find("injected write fault") != std::string::npos);
    CHECK(installed.faults->failures() > 0);
    // The partition takes no more work, and says why without touching the disk again.
    const auto failures = installed.faults->failures();
    CHECK_THROWS_WITH_AS(c.raise_event("w-1", "go", "\"y\""), doctest::Contains("is unavailable"), perdure::error);
    CHECK(installed.faults->failures() == failures);

    httplib::Client http("127.0.0.1", h.http_port());
    auto metrics = http.Get("/metrics");
    REQUIRE(metrics);
    const std::string sample = "\nperdure_failed_partitions ";
    const auto at = metrics->body.find(sample);
    REQUIRE(at != std::string::npos);
    CHECK(std::stoi(metrics->body.substr(at + sample.size())) >= 1);
    installed.faults->fail_writes(false);
    h.stop();
  }

  // Reopened: what was committed before is intact, the failed batch is wholly absent.
  host h;
  register_functions(h);
  options.http_port = -1;
  h.start(options);
  auto& c = h.client();
  auto done = c.status("done-1");
  REQUIRE(done);
  CHECK(done->status == runtime_status::completed);
  CHECK(c.history("done-1") == finished_history);
  auto waiting = c.status("w-1");
  REQUIRE(waiting);
  CHECK(waiting->status == runtime_status::running);
  CHECK(count_events(c.history("w-1"), "go") == 0);
  c.raise_event("w-1", "go", "\"z\"");
  auto record = c.wait_for_completion("w-1", wait_limit);
  CHECK(record.output == "\"z\"");
  CHECK(count_events(c.history("w-1"), "go") == 1);
  h.stop();
}

TEST_CASE("a node refuses to start on an unusable data dir and says why") {
  temp_dir dir;

  SUBCASE("a file where the data dir should be") {
    const auto file = dir.path() / "data";
    std::ofstream(file) << "not a directory";
    const auto error = start_error(test_node_options(file));
    INFO(error);
    CHECK(error.find("cannot open the data directory " + file.string()) != std::string::npos);
    CHECK(error.find("Not a directory") != std::string::npos);
  }
  SUBCASE("a data dir below a file") {
    const auto file = dir.path() / "data";
    std::ofstream(file) << "not a directory";
    const auto error = start_error(test_node_options(file / "hub"));
    INFO(error);
    CHECK(error.find("cannot create the hub directory") != std::string::npos);
  }
  SUBCASE("a corrupt hub metadata record") {
    const auto data = dir.path() / "data";
    REQUIRE(start_error(test_node_options(data)).empty());  // creates the hub
    {
      rocksdb::DBOptions db_options;
      std::vector<rocksdb::ColumnFamilyDescriptor> families;
      for (const char* name : storage::cf_names) families.emplace_back(name, rocksdb::ColumnFamilyOptions{});
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      rocksdb::DB* db = nullptr;
      REQUIRE(rocksdb::DB::Open(db_options, data.string(), families, &handles, &db).ok());
      CHECK(db->Put(rocksdb::WriteOptions{}, handles[storage::cf_default], std::string(storage::keys::hub_key),
                    "\x01garbage")
                .ok());
      for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
      delete db;
    }
    const auto error = start_error(test_node_options(data));
    INFO(error);
    CHECK(error.find("cannot open the data directory") != std::string::npos);
    CHECK(error.find("hub metadata") != std::string::npos);
  }
  SUBCASE("a disk that fails every write") {
    installed_faults installed;
    installed.faults->fail_writes(true);
    const auto error = start_error(test_node_options(dir.path() / "data"));
    INFO(error);
    CHECK(error.find("cannot open the data directory") != std::string::npos);
    CHECK(error.find("injected write fault") != std::string::npos);
  }
}
