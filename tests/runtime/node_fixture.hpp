// A real node for tests: RocksDB in a fresh temporary directory, real CAF actors.
#pragma once

#include <perdure/host.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

namespace perdure::testing_support {

class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("perdure-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline node_options test_node_options(const std::filesystem::path& data) {
  node_options options;
  options.data_dir = data;
  options.partitions = 4;
  options.activity_workers = 4;
  options.scheduler_threads = 2;
  options.log_level = std::getenv("PERDURE_TEST_LOG") ? std::getenv("PERDURE_TEST_LOG") : "warn";
  return options;
}

inline constexpr std::chrono::seconds wait_limit{30};

/// Polls `done` every 10 ms until it holds (true) or `limit` has passed (false).
template <class Predicate>
bool eventually(Predicate&& done, std::chrono::milliseconds limit = wait_limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace perdure::testing_support
