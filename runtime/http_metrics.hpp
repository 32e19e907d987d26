// The node's metrics in the Prometheus text exposition format (version 0.0.4).
#pragma once

#include "actors/cluster_metrics.hpp"
#include "actors/metrics.hpp"

#include <perdure/instance.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace perdure::actors {
class cluster_view;
}

namespace perdure {

class queue_trigger;

using instance_counts = std::array<uint64_t, all_runtime_statuses.size()>;  // indexed by runtime_status

/// `cluster`: a cluster node's networking and replication counters, exported too when given;
/// `view`: its view of the hub, exported as one epoch and one led-here sample per partition.
std::string prometheus_text(const actors::node_metrics& metrics, const instance_counts& instances,
                            const actors::cluster_metrics* cluster, const actors::cluster_view* view = nullptr);

/// The instances of this node's partitions that wait for an orchestration version it does not
/// register (instance_record::waiting_for_version): a count per name and version, and one sample
/// per instance (the first `max_listed` in `waiting`) naming it, so an operator sees which code to deploy.
std::string version_wait_metrics(const std::vector<instance_record>& waiting, size_t max_listed = 100);

/// The management API's requests waiting for an instance to end, and their limit.
std::string waiter_metrics(size_t waiting, size_t limit);

/// The queue triggers' counters, one sample per trigger labelled by subject and durable consumer.
std::string queue_trigger_metrics(const std::vector<std::unique_ptr<queue_trigger>>& triggers);

}  // namespace perdure
