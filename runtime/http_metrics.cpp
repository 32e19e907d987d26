#include "http_metrics.hpp"

#include <cstdio>

namespace perdure {
namespace {

uint64_t load(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }
int64_t load(const std::atomic<int64_t>& v) { return v.load(std::memory_order_relaxed); }

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <class T>
void sample(std::string& out, const std::string& name_and_labels, T value) {
  out += name_and_labels;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

// A metric family with its one sample.
template <class T>
void metric(std::string& out, const char* name, const char* type, const char* help, T value) {
  family(out, name, type, help);
  sample(out, name, value);
}

std::string seconds(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", micros / 1e6);
  return buf;
}

void cluster_text(std::string& out, const actors::cluster_metrics& c) {
  metric(out, "perdure_cluster_members_up", "gauge", "Other members of the hub this node currently reaches.",
         load(c.members_up));
  metric(out, "perdure_cluster_messages_out_total", "counter", "Node-to-node messages sent.", load(c.messages_out));
  metric(out, "perdure_cluster_messages_in_total", "counter", "Node-to-node messages received.", load(c.messages_in));
  metric(out, "perdure_cluster_activities_leased_out_total", "counter", "Activities sent to another node's workers.",
         load(c.activities_leased_out));
  metric(out, "perdure_cluster_activities_redispatched_total", "counter",
         "Leased activities dispatched again after their node was lost and the lease ran out.",
         load(c.activities_redispatched));
  metric(out, "perdure_cluster_activities_rejected_total", "counter",
         "Activities from other nodes refused because this node's queue was full.", load(c.activities_rejected));
}

}  // namespace

std::string prometheus_text(const actors::node_metrics& m, const instance_counts& instances,
                            const actors::cluster_metrics* cluster) {
  std::string out;
  family(out, "perdure_instances", "gauge", "Orchestration instances held by this node, by runtime status.");
  for (runtime_status s : all_runtime_statuses)
    sample(out, std::string("perdure_instances{status=\"") + to_string(s) + "\"}", instances[static_cast<size_t>(s)]);

  metric(out, "perdure_episodes_total", "counter", "Orchestration episodes run.", load(m.episodes));
  metric(out, "perdure_commits_total", "counter", "Storage batches committed.", load(m.commits));
  metric(out, "perdure_committed_episodes_total", "counter",
         "Episodes in the committed batches (divide by perdure_commits_total for the mean batch size).",
         load(m.committed_episodes));

  // Buckets are read one by one while commits go on: _count is their sum, so the histogram is
  // consistent with itself even if not with perdure_commits_total.
  family(out, "perdure_commit_latency_seconds", "histogram", "Time to commit one storage batch.");
  uint64_t cumulative = 0;
  const auto& bounds = actors::node_metrics::commit_latency_bounds_us;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += load(m.commit_latency_buckets[i]);
    sample(out, "perdure_commit_latency_seconds_bucket{le=\"" + seconds(static_cast<double>(bounds[i])) + "\"}",
           cumulative);
  }
  cumulative += load(m.commit_latency_buckets[bounds.size()]);
  sample(out, "perdure_commit_latency_seconds_bucket{le=\"+Inf\"}", cumulative);
  out += "perdure_commit_latency_seconds_sum " + seconds(static_cast<double>(load(m.commit_micros_total))) + "\n";
  sample(out, "perdure_commit_latency_seconds_count", cumulative);

  metric(out, "perdure_timers_fired_total", "counter", "Durable timers fired.", load(m.timers_fired));
  family(out, "perdure_timer_lag_seconds", "gauge", "How late the last fired timer fired.");
  out += "perdure_timer_lag_seconds " + seconds(static_cast<double>(load(m.last_timer_lag_micros))) + "\n";
  metric(out, "perdure_failed_partitions", "gauge", "Partitions stopped by a storage failure.",
         load(m.failed_partitions));

  metric(out, "perdure_activities_started_total", "counter", "Activity executions started.",
         load(m.activities_started));
  metric(out, "perdure_activities_completed_total", "counter", "Activity executions that returned.",
         load(m.activities_completed));
  metric(out, "perdure_activities_failed_total", "counter", "Activity executions that threw.",
         load(m.activities_failed));
  metric(out, "perdure_activity_queue_depth", "gauge", "Activities handed to the workers and not started yet.",
         load(m.activity_queue_depth));
  if (cluster) cluster_text(out, *cluster);
  return out;
}

}  // namespace perdure
