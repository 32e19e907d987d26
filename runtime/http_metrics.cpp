#include "http_metrics.hpp"

#include "actors/cluster_view.hpp"
#include "queue_trigger.hpp"

#include <cstdio>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

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

// Enough digits for a count of episodes or a sum of seconds, without the noise of %.17g.
std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

// The buckets are read one by one while observations go on: _count is their sum, so the histogram
// is consistent with itself even if not with its counterpart counter. Values are exported divided
// by `unit` (1e6 turns microseconds into seconds).
template <size_t N>
void histogram(std::string& out, const char* name, const char* help, const std::array<uint64_t, N>& bounds,
               const std::array<std::atomic<uint64_t>, N + 1>& buckets, uint64_t sum, double unit) {
  family(out, name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket{le=\"";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < N; ++i) {
    cumulative += load(buckets[i]);
    sample(out, bucket + number(static_cast<double>(bounds[i]) / unit) + "\"}", cumulative);
  }
  cumulative += load(buckets[N]);
  sample(out, bucket + "+Inf\"}", cumulative);
  out += std::string(name) + "_sum " + number(static_cast<double>(sum) / unit) + "\n";
  sample(out, std::string(name) + "_count", cumulative);
}

std::string label(const char* name, uint32_t partition) {
  return std::string(name) + "{partition=\"" + std::to_string(partition) + "\"}";
}

void cluster_text(std::string& out, const actors::cluster_metrics& c) {
  metric(out, "perdure_cluster_members_up", "gauge", "Other members of the hub this node currently reaches.",
         load(c.members_up));
  metric(out, "perdure_cluster_connection_attempts_total", "counter",
         "Connections to other members this node tried (a member that is down is tried again every tick).",
         load(c.connection_attempts));
  metric(out, "perdure_cluster_messages_out_total", "counter", "Node-to-node messages sent.", load(c.messages_out));
  metric(out, "perdure_cluster_messages_in_total", "counter", "Node-to-node messages received.", load(c.messages_in));
  metric(out, "perdure_cluster_activities_leased_out_total", "counter", "Activities sent to another node's workers.",
         load(c.activities_leased_out));
  metric(out, "perdure_cluster_activities_redispatched_total", "counter",
         "Leased activities dispatched again after their node was lost and the lease ran out.",
         load(c.activities_redispatched));
  metric(out, "perdure_cluster_activities_rejected_total", "counter",
         "Activities from other nodes refused because this node's queue was full.", load(c.activities_rejected));
  // A replicated hub (--nats); they stay 0 in a static cluster.
  metric(out, "perdure_cluster_takeovers_total", "counter",
         "Times this node began to lead a partition in a new epoch: its first assignment, or a takeover from a "
         "lost owner (replicated hub).",
         load(c.takeovers));
  metric(out, "perdure_cluster_leaderships_lost_total", "counter",
         "Partitions this node led until their log refused an append (a newer owner fenced it) or could not be "
         "reached; each was stopped and, if still assigned here, restarted from the log (replicated hub).",
         load(c.leaderships_lost));
  metric(out, "perdure_cluster_assignments_changed_total", "counter",
         "Assignment table entries (owner, followers, epoch of a partition) this node wrote as the coordinator "
         "(replicated hub).",
         load(c.assignments_changed));
  metric(out, "perdure_cluster_log_records_followed_total", "counter",
         "Partition log records this node applied to its copies: as a follower, or catching up before it leads "
         "(replicated hub).",
         load(c.records_followed));
  metric(out, "perdure_cluster_follower_lag_records", "gauge",
         "Partition log records this node has not applied yet, summed over the partitions it follows (replicated "
         "hub; as of the replica manager's last round).",
         load(c.follower_lag));
  metric(out, "perdure_cluster_coordinator", "gauge",
         "1 while this node holds the coordinator lease and applies the placement rules, else 0 (replicated hub).",
         load(c.coordinator));
  metric(out, "perdure_cluster_snapshots_taken_total", "counter",
         "Partition snapshots this node stored as the owner, each followed by a trim of the partition's log below "
         "it (replicated hub).",
         load(c.snapshots_taken));
  if (c.partition_log_count == 0) return;
  family(out, "perdure_partition_snapshot_seq", "gauge",
         "The log record the partition's newest snapshot holds, as this node last stored it (0 until it stores "
         "one; replicated hub).");
  for (uint32_t p = 0; p < c.partition_log_count; ++p)
    sample(out, label("perdure_partition_snapshot_seq", p), load(c.partition_logs[p].snapshot_seq));
  family(out, "perdure_partition_log_first_seq", "gauge",
         "The first record the partition's log still holds, as this node last trimmed it (0 until it trims; "
         "replicated hub).");
  for (uint32_t p = 0; p < c.partition_log_count; ++p)
    sample(out, label("perdure_partition_log_first_seq", p), load(c.partition_logs[p].log_first_seq));
}

// One sample per partition and family, from this node's view (which may lag the assignment table
// by one replica manager round).
void partition_text(std::string& out, const actors::cluster_view& view) {
  std::vector<actors::partition_owner> owners;
  for (uint32_t p = 0; p < view.partitions(); ++p) owners.push_back(view.owner(p));
  family(out, "perdure_partition_epoch", "gauge",
         "The partition's ownership epoch as this node sees it: it grows by one each time the partition moves to "
         "a new owner (always 0 in a static cluster).");
  for (uint32_t p = 0; p < owners.size(); ++p) sample(out, label("perdure_partition_epoch", p), owners[p].epoch);
  family(out, "perdure_partition_led_here", "gauge",
         "1 when the partition's actor runs on this node (this node owns and leads it), else 0.");
  for (uint32_t p = 0; p < owners.size(); ++p)
    sample(out, label("perdure_partition_led_here", p), owners[p].local ? 1 : 0);
}

}  // namespace

std::string prometheus_text(const actors::node_metrics& m, const instance_counts& instances,
                            const actors::cluster_metrics* cluster, const actors::cluster_view* view) {
  std::string out;
  family(out, "perdure_instances", "gauge", "Orchestration instances held by this node, by runtime status.");
  for (runtime_status s : all_runtime_statuses)
    sample(out, std::string("perdure_instances{status=\"") + to_string(s) + "\"}", instances[static_cast<size_t>(s)]);

  metric(out, "perdure_episodes_total", "counter", "Orchestration episodes run.", load(m.episodes));
  metric(out, "perdure_commits_total", "counter", "Storage batches committed.", load(m.commits));
  histogram(out, "perdure_commit_batch_episodes", "Episodes in one committed storage batch.",
            actors::node_metrics::commit_batch_bounds, m.commit_batch_buckets, load(m.committed_episodes), 1);
  histogram(out, "perdure_commit_latency_seconds", "Time to commit one storage batch.",
            actors::node_metrics::commit_latency_bounds_us, m.commit_latency_buckets, load(m.commit_micros_total),
            1e6);
  metric(out, "perdure_timers_fired_total", "counter", "Durable timers fired.", load(m.timers_fired));
  histogram(out, "perdure_timer_lag_seconds", "How late durable timers fired, from their due time to their firing.",
            actors::node_metrics::timer_lag_bounds_us, m.timer_lag_buckets, load(m.timer_lag_micros_total), 1e6);
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
  metric(out, "perdure_spans_exported_total", "counter", "Trace spans the OTLP collector accepted.",
         load(m.spans_exported));
  metric(out, "perdure_spans_dropped_total", "counter",
         "Trace spans dropped: the exporter's queue was full or the collector did not accept them.",
         load(m.spans_dropped));
  if (cluster) cluster_text(out, *cluster);
  if (view) partition_text(out, *view);
  return out;
}

std::string waiter_metrics(size_t waiting, size_t limit) {
  std::string out;
  metric(out, "perdure_http_waiting_requests", "gauge",
         "Requests of the management API waiting for an instance to end (start-and-wait, long-polls)", waiting);
  metric(out, "perdure_http_waiting_requests_limit", "gauge",
         "The most requests that may wait at once (--http-max-waiters); past it they get 503", limit);
  return out;
}

namespace {

// A label value in the exposition format: backslash, double quote and newline escaped.
std::string label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Subjects and durable names are NATS names: no quote, backslash or newline to escape.
std::string trigger_labels(const queue_trigger& t) {
  return "{subject=\"" + t.options().subject + "\",durable=\"" + t.options().durable + "\"}";
}

}  // namespace

std::string version_wait_metrics(const std::vector<instance_record>& waiting, size_t max_listed) {
  std::map<std::pair<std::string, int32_t>, uint64_t> counts;
  for (const auto& record : waiting) ++counts[{record.name, record.version}];
  std::string out;
  family(out, "perdure_instances_waiting_for_version", "gauge",
         "Running instances held by this node whose orchestration version it does not register: they wait (not "
         "fail) until a node that registers it serves them.");
  sample(out, "perdure_instances_waiting_for_version", waiting.size());
  family(out, "perdure_instances_waiting_for_version_by_orchestration", "gauge",
         "The same, by orchestration name and the version the instances wait for.");
  for (const auto& [key, count] : counts)
    sample(out, "perdure_instances_waiting_for_version_by_orchestration{name=\"" + label_value(key.first) +
                    "\",version=\"" + std::to_string(key.second) + "\"}",
           count);
  family(out, "perdure_instance_waiting_for_version", "gauge",
         "1 for each instance waiting for its orchestration version (the first ones by id, up to a bound), by id, "
         "name and version.");
  for (size_t i = 0; i < waiting.size() && i < max_listed; ++i)
    sample(out, "perdure_instance_waiting_for_version{instance_id=\"" + label_value(waiting[i].instance_id) +
                    "\",name=\"" + label_value(waiting[i].name) + "\",version=\"" +
                    std::to_string(waiting[i].version) + "\"}",
           1);
  return out;
}

std::string queue_trigger_metrics(const std::vector<std::unique_ptr<queue_trigger>>& triggers) {
  std::string out;
  if (triggers.empty()) return out;
  const auto counter = [&](const char* name, const char* help, auto member) {
    family(out, name, "counter", help);
    for (const auto& t : triggers) sample(out, name + trigger_labels(*t), load(t->counters().*member));
  };
  counter("perdure_queue_messages_received_total", "Queue trigger deliveries, redeliveries included.",
          &queue_trigger_counters::received);
  counter("perdure_queue_instances_started_total", "Instances started by queue trigger messages.",
          &queue_trigger_counters::started);
  counter("perdure_queue_instances_existing_total",
          "Queue trigger messages whose instance already existed (a redelivery or a repeated id): nothing started.",
          &queue_trigger_counters::already_started);
  counter("perdure_queue_events_raised_total", "Events raised by queue trigger messages.",
          &queue_trigger_counters::events_raised);
  counter("perdure_queue_redeliveries_total", "Queue trigger deliveries after the first of a message.",
          &queue_trigger_counters::redeliveries);
  counter("perdure_queue_messages_retried_total",
          "Queue trigger messages given back because the node could not take them then (delivered again).",
          &queue_trigger_counters::retried);
  counter("perdure_queue_poison_messages_total",
          "Queue trigger messages terminated after failing max-deliveries times (never delivered again).",
          &queue_trigger_counters::poison);
  return out;
}

}  // namespace perdure
