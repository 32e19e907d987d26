#include "validate.hpp"

#include "keys.hpp"

#include <type_traits>

namespace perdure::storage {

namespace {

[[noreturn]] void invalid(std::string message) { throw store_error(errc::invalid_argument, std::move(message)); }

// Calls f(field_name, text) for every payload of a history event.
template <typename F>
void for_each_payload(const history_event& e, F&& f) {
  auto failure = [&](const failure_details& d) {
    f("failure message", d.message);
    f("failure details", d.details);
  };
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        using namespace events;
        if constexpr (std::is_same_v<T, execution_completed> || std::is_same_v<T, task_completed> ||
                      std::is_same_v<T, sub_orchestration_completed> || std::is_same_v<T, entity_call_completed>) {
          f("output", v.output);
        } else if constexpr (std::is_same_v<T, execution_failed> || std::is_same_v<T, events::task_failed> ||
                             std::is_same_v<T, sub_orchestration_failed> || std::is_same_v<T, entity_call_failed>) {
          failure(v.failure);
        } else if constexpr (std::is_same_v<T, execution_terminated> || std::is_same_v<T, execution_suspended> ||
                             std::is_same_v<T, execution_resumed> || std::is_same_v<T, execution_rewound>) {
          f("reason", v.reason);
        } else if constexpr (std::is_same_v<T, patch_marker>) {
          f("patch id", v.patch_id);
        } else if constexpr (requires { v.input; }) {
          f("input", v.input);
        }
      },
      e.payload);
}

// Descriptions of where a defect is are built only on failure: validation runs on the hot path.
class checker {
 public:
  checker(uint32_t partition, uint32_t partition_count, size_t limit)
      : partition_(partition), count_(partition_count), limit_(limit) {}

  template <typename Where>
  void payload(const Where& where, std::string_view field, const std::string& value) const {
    if (value.size() <= limit_) return;
    throw store_error(errc::payload_too_large,
                      where() + ": " + std::string(field) + " is " + std::to_string(value.size()) +
                          " bytes, more than max_payload_bytes (" + std::to_string(limit_) +
                          "); nothing of the batch was written");
  }

  template <typename Where>
  void event(const Where& where, const history_event& e) const {
    for_each_payload(e, [&](std::string_view field, const std::string& v) {
      payload([&] { return where() + " (" + event_kind_name(e.payload) + ")"; }, field, v);
    });
  }

  template <typename Where>
  void owned_id(const Where& where, const std::string& id) const {
    if (id.empty()) invalid(where() + ": empty instance id");
    uint32_t p = keys::partition_of(id, count_);
    if (p != partition_)
      invalid(where() + ": instance '" + id + "' belongs to partition " + std::to_string(p) + ", not " +
              std::to_string(partition_));
  }

  template <typename Where>
  void message_of(const Where& where, const message& m) const {
    if (m.instance_id.empty()) invalid(where() + ": message with an empty receiver instance id");
    event([&] { return where() + " event"; }, m.event);
  }

  template <typename Where>
  void outbox(const Where& where, const std::vector<outbox_entry>& entries) const {
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& o = entries[i];
      auto out = [&] { return where() + " outbox message " + std::to_string(i); };
      message_of(out, o.msg);
      uint32_t target = keys::partition_of(o.msg.instance_id, count_);
      if (o.target_partition != target)
        invalid(out() + " for '" + o.msg.instance_id + "' targets partition " + std::to_string(o.target_partition) +
                ", but that instance lives in partition " + std::to_string(target));
    }
  }

 private:
  uint32_t partition_;
  uint32_t count_;
  size_t limit_;
};

void validate_episode(const checker& check, const episode_commit& ep, size_t index) {
  auto where = [&] { return "episode " + std::to_string(index) + " (instance '" + ep.instance_id + "')"; };
  auto record = [&] { return where() + " record"; };
  check.owned_id(where, ep.instance_id);
  if (ep.record.instance_id != ep.instance_id)
    invalid(where() + ": record.instance_id '" + ep.record.instance_id + "' differs from the episode's instance id");
  for (size_t i = 0; i < ep.appended.size(); ++i)
    check.event([&] { return where() + " history event " + std::to_string(i); }, ep.appended[i]);
  const auto& r = ep.record;
  check.payload(record, "input", r.input);
  check.payload(record, "output", r.output);
  check.payload(record, "custom status", r.custom_status);
  if (r.failure) {
    check.payload(record, "failure message", r.failure->message);
    check.payload(record, "failure details", r.failure->details);
  }
  for (const auto& a : ep.scheduled_activities) {
    auto task = [&] { return where() + " activity task " + std::to_string(a.task_id); };
    if (a.instance_id != ep.instance_id) invalid(task() + " names instance '" + a.instance_id + "'");
    check.payload(task, "input", a.input);
  }
  for (const auto* timers : {&ep.new_timers, &ep.fired_timers})
    for (const auto& t : *timers)
      if (t.instance_id != ep.instance_id)
        invalid(where() + ": timer " + std::to_string(t.timer_id) + " names instance '" + t.instance_id + "'");
  check.outbox(where, ep.outbox);
}

void validate_entity(const checker& check, const entity_commit& ec, size_t index) {
  auto where = [&] { return "entity commit " + std::to_string(index) + " ('" + ec.instance_id + "')"; };
  check.owned_id(where, ec.instance_id);
  if (ec.record) {
    if (ec.record->id.instance_id() != ec.instance_id)
      invalid(where() + ": the record names entity '" + ec.record->id.instance_id() + "'");
    check.payload([&] { return where() + " record"; }, "state", ec.record->state);
  }
  if (ec.lock && ec.lock->instance_id.empty()) invalid(where() + ": a lock held by no instance");
  for (const auto* timers : {&ec.new_timers, &ec.fired_timers})
    for (const auto& t : *timers)
      if (t.instance_id != ec.instance_id)
        invalid(where() + ": timer " + std::to_string(t.timer_id) + " names instance '" + t.instance_id + "'");
  check.outbox(where, ec.outbox);
}

}  // namespace

void validate(const commit_batch& batch, uint32_t partition_count, size_t max_payload_bytes) {
  if (batch.partition >= partition_count)
    invalid("commit to partition " + std::to_string(batch.partition) + ", but the hub has " +
            std::to_string(partition_count) + " partitions");
  checker check(batch.partition, partition_count, max_payload_bytes);
  for (size_t i = 0; i < batch.episodes.size(); ++i) validate_episode(check, batch.episodes[i], i);
  for (size_t i = 0; i < batch.entities.size(); ++i) validate_entity(check, batch.entities[i], i);
}

}  // namespace perdure::storage
