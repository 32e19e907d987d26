// The batches the crash child commits and how the parent recognizes them afterwards. Every item a
// batch writes carries its batch number, so a partly present batch is detectable.
#pragma once

#include "test_util.hpp"

#include <algorithm>
#include <set>

namespace perdure::storage::test {

inline constexpr uint32_t crash_partitions = 4;
inline constexpr int crash_episodes = 4;

inline std::string crash_marker(uint64_t n) { return "batch-" + std::to_string(n); }

inline std::string crash_id(const hub_store& hub, uint64_t n, int episode) {
  return id_in(hub, static_cast<uint32_t>(n % crash_partitions), "b" + std::to_string(n) + "-e" + std::to_string(episode));
}

inline commit_batch crash_batch(const hub_store& hub, uint64_t n) {
  commit_batch b;
  b.partition = static_cast<uint32_t>(n % crash_partitions);
  std::string marker = crash_marker(n);
  for (int k = 0; k < crash_episodes; ++k) {
    std::string id = crash_id(hub, n, k);
    auto rec = make_record(id, "Crash", runtime_status::running, at_ms(static_cast<int64_t>(n)));
    rec.custom_status = marker;
    std::vector<history_event> events = {
        {at_ms(1), events::execution_started{"Crash", id, "e", R"({"batch":")" + marker + "\"}", std::nullopt}},
        {at_ms(2), events::episode_started{}},
        {at_ms(3), events::timer_created{k, at_ms(static_cast<int64_t>(n))}}};
    auto ep = start_batch(hub, rec, std::move(events)).episodes[0];
    ep.new_timers = {{at_ms(static_cast<int64_t>(n)), id, marker, k}};
    std::string target = "target-" + marker + "-" + std::to_string(k);
    ep.outbox = {{0, hub.partition_of(target), message{target, "", {at_ms(4), events::event_raised{"Ping", marker}}, -1, 0}}};
    b.episodes.push_back(std::move(ep));
  }
  return b;
}

/// The store's content, read once, to classify batches.
struct crash_view {
  std::set<std::pair<int64_t, std::string>> timers;  // (fire ms, execution id = marker)
  std::set<std::string> outbox_markers;
  std::set<uint64_t> outbox_seqs;
  size_t outbox_entries = 0;

  explicit crash_view(const hub_store& hub) {
    for (uint32_t p = 0; p < crash_partitions; ++p) {
      for (auto& t : hub.timers(p, time_point::max(), SIZE_MAX))
        timers.emplace(std::chrono::duration_cast<std::chrono::milliseconds>(t.fire_at.time_since_epoch()).count(),
                       t.execution_id + "/" + std::to_string(t.timer_id));
      for (auto& o : hub.outbox(p)) {
        outbox_markers.insert(std::get<events::event_raised>(o.msg.event.payload).input + "/" + o.msg.instance_id);
        outbox_seqs.insert(o.seq * crash_partitions + p);
        ++outbox_entries;
      }
    }
  }
};

enum class presence { absent, whole, partial };

/// How much of batch n is present: records, histories, timers and outbox entries, all or none.
inline presence crash_presence(const hub_store& hub, const crash_view& view, uint64_t n) {
  std::string marker = crash_marker(n);
  int found = 0, parts = 0;
  for (int k = 0; k < crash_episodes; ++k) {
    std::string id = crash_id(hub, n, k);
    auto rec = hub.instance(id);
    found += rec && rec->custom_status == marker;
    found += hub.history(id).size() == 3;
    found += view.timers.count({static_cast<int64_t>(n), marker + "/" + std::to_string(k)}) == 1;
    found += view.outbox_markers.count(marker + "/target-" + marker + "-" + std::to_string(k)) == 1;
    parts += 4;
  }
  return found == 0 ? presence::absent : found == parts ? presence::whole : presence::partial;
}

}  // namespace perdure::storage::test
