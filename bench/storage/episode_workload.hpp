// The episodes the storage benches commit: each is realistic, 2-4 history events with ~100-byte
// JSON payloads, a record update, and a scheduled activity or timer. An instance lives 5
// episodes: start (new execution, index insert), three running episodes, completion (index move),
// then a new instance takes its place.
#pragma once

#include <perdure/storage/store.hpp>

#include <string>
#include <vector>

namespace perdure::storage {

inline const std::string json_100 =
    R"({"order":"ORD-2024-000042","customer":"c-981","amount":129.95,"currency":"EUR","items":[1,2,3],"ok":1})";

struct live_instance {
  std::string id;
  int episode = 0;
  time_point created{};
};

class workload {
 public:
  workload(const hub_store& hub, uint32_t partition, size_t live) : hub_(hub), partition_(partition) {
    for (size_t i = 0; i < live; ++i) live_.push_back(fresh());
  }

  episode_commit next() {
    live_instance& inst = live_[cursor_++ % live_.size()];
    if (inst.episode == 5) inst = fresh();
    auto now = clock::now();
    episode_commit ep;
    ep.instance_id = inst.id;
    ep.record.instance_id = inst.id;
    ep.record.execution_id = "exec-1";
    ep.record.name = "FulfillOrder";
    ep.record.created_at = inst.created;
    ep.record.last_updated_at = now;
    ep.record.input = json_100;
    int32_t task = inst.episode;
    if (inst.episode == 0) {
      ep.new_execution = true;
      ep.appended.push_back({now, events::execution_started{"FulfillOrder", inst.id, "exec-1", json_100, std::nullopt}});
    } else {
      ep.appended.push_back({now, events::task_completed{task - 1, json_100}});
      ep.finished_activities.push_back(task - 1);
    }
    ep.appended.push_back({now, events::episode_started{}});
    if (inst.episode == 4) {
      ep.appended.push_back({now, events::execution_completed{json_100}});
      ep.record.status = runtime_status::completed;
      ep.record.output = json_100;
    } else if (inst.episode % 2 == 0) {
      ep.appended.push_back({now, events::task_scheduled{task, "ChargeCard", json_100}});
      ep.scheduled_activities.push_back({inst.id, "exec-1", task, "ChargeCard", json_100, now});
      ep.record.status = runtime_status::running;
    } else {
      auto fire = now + std::chrono::seconds(30);
      ep.appended.push_back({now, events::task_scheduled{task, "Ship", json_100}});
      ep.appended.push_back({now, events::timer_created{task, fire}});
      ep.scheduled_activities.push_back({inst.id, "exec-1", task, "Ship", json_100, now});
      ep.new_timers.push_back({fire, inst.id, "exec-1", task});
      ep.record.status = runtime_status::running;
    }
    ++inst.episode;
    return ep;
  }

 private:
  live_instance fresh() {
    for (;;) {
      std::string id = "order-" + std::to_string(partition_) + "-" + std::to_string(serial_++);
      if (hub_.partition_of(id) == partition_) return {id, 0, clock::now()};
    }
  }

  const hub_store& hub_;
  uint32_t partition_;
  uint64_t serial_ = 0;
  size_t cursor_ = 0;
  std::vector<live_instance> live_;
};

}  // namespace perdure::storage
