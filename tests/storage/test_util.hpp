// Shared fixtures of the storage tests: a temporary hub directory and sample values.
#pragma once

#include <perdure/storage/store.hpp>

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace perdure::storage::test {

/// A fresh directory under /tmp, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = "/tmp/perdure-storage-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path hub() const { return path_ / "hub"; }

 private:
  std::filesystem::path path_;
};

inline time_point at_ms(int64_t ms) { return time_point{std::chrono::milliseconds{ms}}; }

inline std::unique_ptr<hub_store> open_hub(const std::filesystem::path& dir, uint32_t partitions = 4,
                                           size_t max_payload = 4u << 20) {
  store_options o;
  o.partition_count = partitions;
  o.max_payload_bytes = max_payload;
  return hub_store::open(dir, o);
}

inline failure_details sample_failure() { return {"std::runtime_error", "boom", "at step 3\nnested: x", true}; }

/// One event of every kind, with every field set to a distinctive value.
inline std::vector<history_event> every_event_kind() {
  using namespace events;
  parent_instance parent{"Parent", "parent-1", "exec-p", 7};
  std::vector<event_payload> payloads = {
      execution_started{"Orch", "inst-1", "exec-1", R"({"a":1})", parent},
      execution_started{"Orch", "inst-1", "exec-1", "", std::nullopt, 7},
      execution_completed{R"("done")"},
      execution_failed{sample_failure()},
      continued_as_new{R"({"n":2})"},
      execution_terminated{"by operator"},
      execution_suspended{"pause"},
      execution_resumed{"go"},
      episode_started{},
      task_scheduled{3, "Charge", R"({"amount":10})"},
      task_completed{3, R"({"ok":true})"},
      task_failed{4, sample_failure()},
      timer_created{5, at_ms(1'700'000'000'123)},
      timer_fired{5, at_ms(-5)},
      sub_orchestration_created{6, "Child", "child-1", R"([1,2])"},
      sub_orchestration_completed{6, "null"},
      sub_orchestration_failed{8, failure_details{"E", "m", "", false}},
      event_raised{"Approval", R"({"by":"ann"})"},
      event_sent{9, "other-1", "Ping", std::string("with\0nul", 8)},
      entity_called{10, "@Counter@a", "add", "5"},
      entity_signaled{11, "@Counter@b", "reset", ""},
      entity_signaled{13, "@Counter@b", "add", "2", at_ms(9)},  // a scheduled signal
      entity_call_completed{10, "6"},
      entity_call_failed{12, sample_failure()},
      entity_operation{"add", "1", "inst-1", "exec-1", 10},
      entity_operation{"add", "2", "inst-1", "exec-1", -1, at_ms(9)},
      patch_marker{"send-sms", true},
  };
  std::vector<history_event> out;
  int64_t ms = 1'700'000'000'000;
  for (auto& p : payloads) out.push_back({at_ms(ms++), std::move(p)});
  return out;
}

inline instance_record make_record(std::string id, std::string name, runtime_status status, time_point created) {
  instance_record r;
  r.instance_id = std::move(id);
  r.execution_id = "exec-" + r.instance_id;
  r.name = std::move(name);
  r.status = status;
  r.created_at = created;
  r.last_updated_at = created + std::chrono::seconds(1);
  r.input = R"({"order":42})";
  return r;
}

/// An id in the given partition: `base`, or `base` with a numeric suffix.
inline std::string id_in(const hub_store& hub, uint32_t partition, const std::string& base) {
  for (int i = 0;; ++i) {
    std::string id = i == 0 ? base : base + "~" + std::to_string(i);
    if (hub.partition_of(id) == partition) return id;
  }
}

/// An episode that only replaces the record of an existing instance.
inline episode_commit update_episode(const instance_record& record) {
  episode_commit ep;
  ep.instance_id = record.instance_id;
  ep.record = record;
  return ep;
}

inline instance_query with_statuses(std::vector<runtime_status> statuses) {
  instance_query q;
  q.statuses = std::move(statuses);
  return q;
}

/// A batch starting one instance with the given history.
inline commit_batch start_batch(const hub_store& hub, instance_record record, std::vector<history_event> events) {
  commit_batch b;
  b.partition = hub.partition_of(record.instance_id);
  episode_commit ep;
  ep.instance_id = record.instance_id;
  ep.new_execution = true;
  ep.appended = std::move(events);
  ep.record = std::move(record);
  b.episodes.push_back(std::move(ep));
  return b;
}

}  // namespace perdure::storage::test
