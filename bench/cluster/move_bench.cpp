// The time a partition move takes, and the unavailability window of its flip, on a replicated hub.
//
//   move_bench [--instances N] [--nats N] [--snapshot-every N] [--window N] [--node-program PATH]
//
// Starts N nats-servers (JetStream) and 3 cluster_node processes a, b, c with --nats, one
// partition (so it holds every instance) and one follower: the coordinator gives the partition to
// one node and a follower slot to another, and the third holds nothing of it. Loads the partition
// with --instances completed instances (FanOut with 0 activities: one episode each, started
// asynchronously), then moves it to the node that holds nothing, as `perdure cluster move 0 NODE`
// does (POST /api/cluster/partitions/0/move), so the target installs the partition's snapshot and
// then reads the log above it. Meanwhile it polls the target's view (GET /api/cluster) and two
// probes call the partition back to back through the follower's node: the status of a loaded
// instance, and starts of new instances. Prints the move's timeline (seen by the target, target
// caught up, flip, target leads, first start answered after the flip) and, per probe, the longest
// gap between two successful answers and how many calls failed unavailable (or otherwise).
// --snapshot-every is 200 by default: 100,000 one-episode instances make ~900 log records, and
// the owner must have stored a snapshot for the target to install one. The target's view never
// shows moveLag: the coordinator flips on the round that reads the target's report.
#include "local_cluster.hpp"

#include "tests/support/nats_cluster.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <perdure/client.hpp>
#include <perdure/errors.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace perdure::bench;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

double ms_between(steady::time_point from, steady::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// One node's view of partition 0 (GET /api/cluster), or nullopt when the node did not answer.
struct partition_view {
  std::string owner;
  uint64_t epoch = 0;
  std::string moving_to;
  std::optional<uint64_t> move_lag;
  std::vector<std::string> followers;
  bool led_here = false;
};

std::optional<partition_view> view_of(httplib::Client& http) {
  auto res = http.Get("/api/cluster");
  if (!res || res->status != 200) return std::nullopt;
  const auto body = nlohmann::json::parse(res->body);
  for (const auto& p : body.at("partitions")) {
    if (p.at("partition").get<uint32_t>() != 0) continue;
    partition_view view;
    if (!p.at("owner").is_null()) view.owner = p.at("owner").get<std::string>();
    view.epoch = p.at("epoch").get<uint64_t>();
    if (!p.at("movingTo").is_null()) view.moving_to = p.at("movingTo").get<std::string>();
    if (!p.at("moveLag").is_null()) view.move_lag = p.at("moveLag").get<uint64_t>();
    view.followers = p.at("followers").get<std::vector<std::string>>();
    view.led_here = p.at("ledHere").get<bool>();
    return view;
  }
  return std::nullopt;
}

// The value of an unlabelled counter or gauge in a node's /metrics, or -1.
double metric(uint16_t http_port, const std::string& name) {
  httplib::Client http("127.0.0.1", http_port);
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

// A client calling the partition back to back on its own thread: when each call answered, and
// how many failed.
class probe {
 public:
  probe(std::string what, std::function<void(int)> call) : what_(std::move(what)), call_(std::move(call)) {}
  void start() {
    thread_ = std::thread([this] {
      for (int i = 0; !stop_; ++i) {
        try {
          call_(i);
          std::lock_guard lock(mutex_);
          answered_.push_back(steady::now());
        } catch (const perdure::error& e) {
          std::lock_guard lock(mutex_);
          (e.code() == perdure::errc::unavailable ? unavailable_ : other_failures_)++;
          if (first_failure_.empty()) first_failure_ = e.what();
        }
      }
    });
  }
  void stop() {
    stop_ = true;
    thread_.join();
  }
  // The first successful answer at or after `t`.
  std::optional<steady::time_point> first_answer_after(steady::time_point t) const {
    for (auto at : answered_)
      if (at >= t) return at;
    return std::nullopt;
  }
  void report(steady::time_point flip) const {
    double longest = 0;
    steady::time_point gap_start{};
    for (size_t i = 1; i < answered_.size(); ++i) {
      const double gap = ms_between(answered_[i - 1], answered_[i]);
      if (gap > longest) {
        longest = gap;
        gap_start = answered_[i - 1];
      }
    }
    std::printf("probe %s: %zu calls answered, %d failed unavailable, %d failed otherwise%s%s\n", what_.c_str(),
                answered_.size(), unavailable_, other_failures_, first_failure_.empty() ? "" : "; first failure: ",
                first_failure_.c_str());
    if (answered_.size() > 1)
      std::printf("    longest gap between two answers: %.1f ms, from %+.1f ms to %+.1f ms around the flip "
                  "(median call %.2f ms)\n",
                  longest, ms_between(flip, gap_start), ms_between(flip, gap_start) + longest, median_call());
    std::fflush(stdout);
  }

 private:
  double median_call() const {
    std::vector<double> gaps;
    for (size_t i = 1; i < answered_.size(); ++i) gaps.push_back(ms_between(answered_[i - 1], answered_[i]));
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    return gaps[gaps.size() / 2];
  }

  std::string what_;
  std::function<void(int)> call_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<steady::time_point> answered_;
  int unavailable_ = 0;
  int other_failures_ = 0;
  std::string first_failure_;
};

struct timeline {
  steady::time_point asked;
  std::optional<steady::time_point> written;    // the target's view shows movingTo: its catch-up begins
  std::optional<steady::time_point> caught_up;  // the target's log records followed went up: catch-up done
  std::optional<steady::time_point> flipped;    // the target's view shows it owns the partition
  std::optional<steady::time_point> led_here;   // the target's partition actor runs
  uint64_t epoch_before = 0, epoch_after = 0;
};

// Polls the target's view and metrics until it leads the partition (or `limit` passed). A
// replica applies the log in one go on the round it first sees the move (snapshot install, then
// the records above it), and counts the records when done.
timeline follow_move(uint16_t target_http, const std::string& target, uint64_t epoch_before, double followed_before,
                     steady::time_point asked, std::chrono::seconds limit) {
  timeline t;
  t.asked = asked;
  t.epoch_before = epoch_before;
  httplib::Client http("127.0.0.1", target_http);
  while (!t.led_here && steady::now() - asked < limit) {
    const auto view = view_of(http);
    const auto now = steady::now();
    if (!view) continue;
    if (!t.written && (view->moving_to == target || view->owner == target)) t.written = now;
    if (t.written && !t.caught_up &&
        metric(target_http, "perdure_cluster_log_records_followed_total") > followed_before)
      t.caught_up = steady::now();
    if (!t.flipped && view->owner == target && view->epoch > epoch_before) {
      t.flipped = now;
      t.epoch_after = view->epoch;
    }
    if (t.flipped && view->led_here) t.led_here = now;
    std::this_thread::sleep_for(2ms);
  }
  return t;
}

void print_at(const char* what, steady::time_point asked, const std::optional<steady::time_point>& at) {
  if (at)
    std::printf("    %-48s %9.1f ms\n", what, ms_between(asked, *at));
  else
    std::printf("    %-48s %9s\n", what, "never");
}

}  // namespace

int run_bench(int argc, char** argv) {
  CLI::App app{"The time a partition move takes and the unavailability window of its flip, on a replicated hub"};
  int instances = 100000;
  int nats_servers = 3;
  uint64_t snapshot_every = 200;
  size_t window = 256;
  size_t workers = 4;
  std::string program = CLUSTER_NODE_PATH;
  app.add_option("--instances", instances, "Completed instances in the moved partition")->capture_default_str();
  app.add_option("--nats", nats_servers, "nats-servers of the replicated hub")->capture_default_str();
  app.add_option("--snapshot-every", snapshot_every, "The nodes' --snapshot-every")->capture_default_str();
  app.add_option("--window", window, "Calls in flight per client connection while loading")->capture_default_str();
  app.add_option("--workers", workers, "Activity workers per node")->capture_default_str();
  app.add_option("--node-program", program, "The cluster_node program (e.g. another version's)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto dir = std::filesystem::temp_directory_path() / ("perdure-move-bench-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  perdure::testing_support::nats_cluster nats(nats_servers);
  std::string urls;
  for (const auto& url : nats.urls()) urls += (urls.empty() ? "" : ",") + url;
  auto run = start_cluster(program, 3, dir, 1, workers, "off", urls, 1,
                           {"--followers", "1", "--snapshot-every", std::to_string(snapshot_every)});
  run.nats_servers = nats.pids();

  // Who owns, who follows, who holds nothing (once the coordinator gave the follower slot).
  httplib::Client first_http("127.0.0.1", run.nodes[0].http_port);
  std::optional<partition_view> before;
  for (auto deadline = steady::now() + 60s; steady::now() < deadline; std::this_thread::sleep_for(100ms)) {
    before = view_of(first_http);
    if (before && !before->owner.empty() && !before->followers.empty()) break;
  }
  if (!before || before->owner.empty() || before->followers.empty()) {
    std::cerr << "partition 0 got no owner and follower; see " << dir << "\n";
    stop_cluster(run);
    return 1;
  }
  const auto index_of = [](const std::string& id) { return static_cast<size_t>(id.at(0) - 'a'); };
  size_t target = 0;
  while (target < 3 && (std::string(1, static_cast<char>('a' + target)) == before->owner ||
                        std::string(1, static_cast<char>('a' + target)) == before->followers.front()))
    ++target;
  const std::string target_id(1, static_cast<char>('a' + target));
  const size_t owner = index_of(before->owner), follower = index_of(before->followers.front());
  std::printf("partition 0: owner %s (epoch %llu), follower %s, moving to %s; %d nats-servers, --snapshot-every %llu\n",
              before->owner.c_str(), static_cast<unsigned long long>(before->epoch), before->followers.front().c_str(),
              target_id.c_str(), nats_servers, static_cast<unsigned long long>(snapshot_every));
  std::fflush(stdout);

  const double seconds = run_async(clients_of(run), "FanOut", "0", instances, "load", window);
  // The owner snapshots on a round of its own once due: the move waits a while for it, so that the
  // target installs it (the figures say whether it did).
  const auto owner_http = run.nodes[owner].http_port;
  for (auto deadline = steady::now() + 10s;
       steady::now() < deadline && metric(owner_http, "perdure_cluster_snapshots_taken_total") < 1;)
    std::this_thread::sleep_for(100ms);
  std::printf("loaded %d instances (FanOut of 0 activities) in %.1f s = %.0f/s; the owner stored %.0f snapshots, the "
              "newest at log record %.0f, its log starts at %.0f\n",
              instances, seconds, instances / seconds, metric(owner_http, "perdure_cluster_snapshots_taken_total"),
              metric(owner_http, "perdure_partition_snapshot_seq{partition=\"0\"}"),
              metric(owner_http, "perdure_partition_log_first_seq{partition=\"0\"}"));
  std::fflush(stdout);

  // The probes go through the follower's node, which forwards to the owner of the day.
  auto& via = *run.clients[follower];
  probe status("status", [&via](int) {
    if (!via.status("load-0")) throw std::runtime_error("load-0 is gone");
  });
  probe starts("start", [&via](int i) {
    perdure::start_options options;
    options.instance_id = "probe-" + std::to_string(i);
    via.start("FanOut", "0", options);
  });
  status.start();
  starts.start();
  std::this_thread::sleep_for(1s);

  const double followed_before = metric(run.nodes[target].http_port, "perdure_cluster_log_records_followed_total");
  httplib::Client control("127.0.0.1", run.nodes[follower].http_port);
  const auto asked = steady::now();
  auto res = control.Post("/api/cluster/partitions/0/move", nlohmann::json{{"node", target_id}}.dump(),
                          "application/json");
  if (!res || res->status != 202) {
    std::cerr << "the move was refused: " << (res ? res->body : std::string{"no answer"}) << "\n";
    status.stop();
    starts.stop();
    stop_cluster(run);
    return 1;
  }
  const auto moved = follow_move(run.nodes[target].http_port, target_id, before->epoch, followed_before, asked, 300s);
  std::this_thread::sleep_for(1s);
  status.stop();
  starts.stop();

  std::printf("move of partition 0 (%d instances) from %s to %s, epoch %llu -> %llu:\n", instances,
              before->owner.c_str(), target_id.c_str(), static_cast<unsigned long long>(moved.epoch_before),
              static_cast<unsigned long long>(moved.epoch_after));
  print_at("move written (target's view shows movingTo)", asked, moved.written);
  print_at("target caught up (its first catch-up round done)", asked, moved.caught_up);
  print_at("flip (target's view: owner = target, epoch + 1)", asked, moved.flipped);
  print_at("target leads (its partition actor runs)", asked, moved.led_here);
  const auto flip = moved.flipped.value_or(asked);
  print_at("first start answered after the flip", asked, starts.first_answer_after(flip));
  std::printf("    log records the target applied: %.0f\n",
              metric(run.nodes[target].http_port, "perdure_cluster_log_records_followed_total") - followed_before);
  if (moved.written && moved.caught_up && moved.flipped && moved.led_here)
    std::printf("    catch-up %.1f ms, then flip to leading %.1f ms (of which the coordinator's wait for its round "
                "%.1f ms)\n",
                ms_between(*moved.written, *moved.caught_up), ms_between(*moved.caught_up, *moved.led_here),
                ms_between(*moved.caught_up, *moved.flipped));
  status.report(flip);
  starts.report(flip);

  stop_cluster(run);
  std::filesystem::remove_all(dir);
  return moved.led_here ? 0 : 1;
}

int main(int argc, char** argv) { return perdure::bench::run_reporting_errors("move_bench", run_bench, argc, argv); }
