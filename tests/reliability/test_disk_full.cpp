// A full disk (issue 12, item 7), with a real ENOSPC: a node on a small tmpfs is loaded until its
// writes fail. It must stay up with its partitions stopped (RocksDB in Debian's build asserted
// `sync_without_flush_called_` and aborted), stop cleanly, and after space is freed and a restart
// every instance whose start or event was acknowledged is there and runs to completion.
#include "runtime/node_fixture.hpp"
#include "support/child_process.hpp"
#include "support/prometheus_sample.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include <sys/mount.h>

using perdure::testing_support::child_process;
using perdure::testing_support::sample_value;
using perdure::testing_support::temp_dir;

namespace {

/// A tmpfs of a given size mounted for the test's lifetime (needs root, as the tests run here and
/// in CI; mounted() says whether it worked and error() why not).
class tmpfs_mount {
 public:
  tmpfs_mount(std::filesystem::path at, int megabytes) : path_(std::move(at)) {
    std::filesystem::create_directories(path_);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, size_option(megabytes).c_str()) == 0)
      mounted_ = true;
    else
      error_ = std::strerror(errno);
  }
  ~tmpfs_mount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& path() const { return path_; }
  /// Frees space the way an operator would: a larger disk.
  bool grow_to(int megabytes) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, size_option(megabytes).c_str()) == 0;
  }

 private:
  static std::string size_option(int megabytes) { return "size=" + std::to_string(megabytes) + "m"; }

  std::filesystem::path path_;
  bool mounted_ = false;
  std::string error_;
};

bool starts_with(const std::string& line, std::string_view prefix) { return line.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("a full disk stops the partitions, not the node, after space is freed nothing acknowledged is missing") {
  temp_dir dir;
  tmpfs_mount disk(dir.path() / "disk", 16);
  if (!disk.mounted()) {
    MESSAGE("SKIPPED: cannot mount a tmpfs at " << disk.path() << ": " << disk.error());
    return;
  }
  const auto data = (disk.path() / "data").string();
  const auto lines_file = dir.path() / "acknowledged";
  std::set<std::string> started;
  {
    child_process node{{FAULT_NODE_PATH, "load", data, "4", "65536"}};
    const auto up = node.wait_for_line("UP ", 60'000);
    REQUIRE(up);
    std::ofstream acknowledged(lines_file);
    std::string first_refusal;
    bool full = false;
    for (int i = 0; i < 100'000 && !full; ++i) {
      const auto line = node.read_line(120'000);
      REQUIRE_MESSAGE(line, "the node stopped talking (crashed?) before the disk was full");
      if (starts_with(*line, "ACK ") || starts_with(*line, "EVENT ")) acknowledged << *line << "\n";
      if (starts_with(*line, "ACK ")) started.insert(line->substr(4));
      if (starts_with(*line, "REFUSED ") && first_refusal.empty()) first_refusal = *line;
      full = *line == "FULL";
    }
    acknowledged.close();
    REQUIRE(full);
    INFO(first_refusal);
    CHECK(first_refusal.find("No space left on device") != std::string::npos);
    CHECK(started.size() > 10);

    httplib::Client http("127.0.0.1", std::stoi(up->substr(3)));
    const auto metrics = http.Get("/metrics");
    REQUIRE(metrics);
    CHECK(sample_value(metrics->body, "perdure_failed_partitions") >= 1);
    const auto health = http.Get("/api/health");
    REQUIRE(health);
    CHECK(health->status == 503);

    node.kill(SIGTERM);
    CHECK(node.wait_for_line("STOPPED", 60'000));
    CHECK(node.wait() == 0);
  }

  REQUIRE(disk.grow_to(512));
  child_process node{{FAULT_NODE_PATH, "finish", data, lines_file.string()}};
  const auto done = node.wait_for_line("DONE ", 300'000);
  CHECK(done == "DONE " + std::to_string(started.size()) + " 0 0");
  CHECK(node.wait() == 0);
}
