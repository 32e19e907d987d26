// Human-readable output of the CLI (--output table): instances, instance lists, entities, history
// timelines and the cluster's members and partitions, from the management API's JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <ostream>
#include <string>

namespace perdure::cli {

/// "850us", "12.3ms", "4.207s", "3m07s", "2h05m".
std::string format_duration(std::chrono::nanoseconds d);

/// A payload on one line, cut to `width` characters: "-" when there is none.
std::string short_payload(const nlohmann::json& value, size_t width = 60);

void print_instance(std::ostream& out, const nlohmann::json& instance);
void print_instance_table(std::ostream& out, const nlohmann::json& instances);

/// An entity of GET /api/entities/{name}/{key}: its id, times and state.
void print_entity(std::ostream& out, const nlohmann::json& entity);
/// The "entities" of GET /api/entities, one line each (the state cut short).
void print_entity_table(std::ostream& out, const nlohmann::json& entities);

/// `cluster members`: {"members": [{"nodeId", "reachable", "partitionsOwned": [partition, ...]}]}.
void print_member_table(std::ostream& out, const nlohmann::json& members);
/// `cluster partitions`: the "partitions" of GET /api/cluster.
void print_partition_table(std::ostream& out, const nlohmann::json& partitions);

/// One line per event: time, offset from the first event, kind, key fields; completions show how
/// long their task, timer or sub-orchestration took. EpisodeStarted markers only with `episodes`.
void print_timeline(std::ostream& out, const nlohmann::json& events, bool episodes);

/// GET /api/replay-check's report: each mismatching instance with the position and both sides,
/// the instances whose orchestration the node lacks, and a summary line.
void print_replay_check(std::ostream& out, const nlohmann::json& report);

}  // namespace perdure::cli
