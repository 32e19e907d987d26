// The CLI's subcommands: each validates its input locally, makes its requests and prints the
// result; failures are thrown as cli::failure (see exit_codes.hpp).
#pragma once

#include "exit_codes.hpp"
#include "node_client.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace perdure::cli {

enum class output_format { table, json };

struct global_options {
  node_address node;
  output_format output = output_format::table;
  std::chrono::milliseconds timeout{30'000};  // for one call; `wait` bounds its polls by its own --timeout
};

/// The list/purge filters, as given on the command line.
struct filter_options {
  std::vector<std::string> statuses;
  std::string name;
  std::string created_from;
  std::string created_to;
  std::string prefix;
  std::optional<int> version;
  bool waiting_for_version = false;
  bool any() const noexcept;
};

/// JSON given inline or in a file (at most one of the two).
struct json_input {
  std::optional<std::string> inline_text;
  std::optional<std::string> file;
};

/// The caller's W3C trace context (docs/tracing.md), sent as the `traceparent` and `tracestate`
/// headers; an empty traceparent sends neither.
struct trace_options {
  std::string traceparent;
  std::string tracestate;
};

/// The headers that carry `trace`. A malformed traceparent, or a tracestate without one, is a
/// usage error (the node would ignore it).
httplib::Headers trace_headers(const trace_options& trace);

/// `version`: the orchestration version to run; unset: the latest the node registers.
exit_code start(const global_options& g, const std::string& name, const json_input& input, const std::string& id,
                std::optional<int> version, const trace_options& trace);
exit_code status(const global_options& g, const std::string& id, bool history, bool show_input);
exit_code list(const global_options& g, const filter_options& filters, size_t top, const std::string& token,
               bool all, bool show_input);
/// `export_file`: write the history export document (docs/http-api.md, "History export") there
/// instead of showing the timeline.
exit_code history(const global_options& g, const std::string& id, bool episodes, const std::string& export_file);
/// Asks the node to replay the histories of the instances the filters match (by default those that
/// run) against its code; exit_code::mismatch when some no longer replay.
exit_code replay_check(const global_options& g, const filter_options& filters);
exit_code raise(const global_options& g, const std::string& id, const std::string& event, const json_input& data,
                const trace_options& trace);
/// terminate, suspend, resume or rewind.
exit_code command(const global_options& g, const std::string& verb, const std::string& id, const std::string& reason);
/// Restarts a finished instance from the start (from_event 0) or from a prefix of its history.
exit_code restart(const global_options& g, const std::string& id, int from_event, std::optional<int> version);
exit_code purge(const global_options& g, const std::string& id, const filter_options& filters);
exit_code wait(const global_options& g, const std::string& id, double timeout_seconds, double interval_seconds,
               bool show_input);
/// `cluster members`: each member of the node's hub, whether the node reaches it, the partitions it owns.
exit_code cluster_members(const global_options& g);
/// `cluster partitions`: each partition's owner, epoch and followers, as the node sees them.
exit_code cluster_partitions(const global_options& g);

}  // namespace perdure::cli
