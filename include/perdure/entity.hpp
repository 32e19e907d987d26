// Durable entities: small addressable objects with durable state that run one operation at a time.
//
// An entity is a function registered by name (registry::add_entity), addressed by entity_id{name,
// key}, created by the first operation sent to it and never "started". Each operation runs with an
// entity_context that reads and writes the state, returns a result to a caller, signals other
// entities and starts orchestrations. The partition that owns the entity commits the new state
// together with the messages the operation sent, once per batch of operations: an operation runs
// exactly once in effect, and one that throws leaves the state and sends nothing.
//
// Operations on one entity run in arrival order per sender. The state is a record (JSON text),
// not a replayed history: an entity with a million operations behind it costs one read to load.
#pragma once

#include <perdure/codec.hpp>
#include <perdure/entity_record.hpp>
#include <perdure/errors.hpp>
#include <perdure/history.hpp>
#include <perdure/task.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perdure {

namespace detail {

/// What one operation did, for the partition to commit. Payloads are JSON text.
struct entity_effects {
  struct signal {
    entity_id target;
    std::string operation;
    std::string input;
  };
  struct start {
    std::string name;
    std::string instance_id;
    std::string input;
  };
  std::optional<std::string> state;  // nullopt: the entity has no state (it is deleted)
  std::string output;
  std::vector<signal> signals;
  std::vector<start> starts;
};

}  // namespace detail

/// One operation's window on its entity. Valid only during the operation.
class entity_context {
 public:
  entity_context(const entity_id& id, const std::string& operation, const std::string& input, time_point now,
                 detail::entity_effects& effects) noexcept
      : id_(id), operation_(operation), input_(input), now_(now), effects_(effects) {}
  entity_context(const entity_context&) = delete;
  entity_context& operator=(const entity_context&) = delete;

  const entity_id& id() const noexcept { return id_; }
  const std::string& operation() const noexcept { return operation_; }
  /// When the partition ran the operation.
  time_point current_time() const noexcept { return now_; }

  /// The operation's input; throws payload_error (naming the operation) if it is not a T.
  template <class T>
  T input() const {
    try {
      return codec<T>::decode(input_);
    } catch (const payload_error& e) {
      throw payload_error("operation '" + operation_ + "' on entity '" + id_.instance_id() +
                          "': input could not be decoded as " + detail::type_name(typeid(T)) + ": " + e.what());
    }
  }
  const std::string& input_json() const noexcept { return input_; }

  bool has_state() const noexcept { return effects_.state.has_value(); }
  /// The state, or `initial` when the entity has none yet.
  template <class T>
  T state(T initial = T{}) const {
    if (!effects_.state) return initial;
    return codec<T>::decode(*effects_.state);
  }
  template <class T>
  void set_state(const T& value) {
    effects_.state = encode_payload(value);
  }
  /// Deletes the entity: it has no state, and the next operation finds it new.
  void delete_state() noexcept { effects_.state.reset(); }

  /// The result a caller receives (an orchestration's call_entity); a signal's is dropped.
  template <class T>
  void return_value(const T& value) {
    effects_.output = encode_payload(value);
  }

  /// Sends an operation to an entity, one-way, once this operation commits.
  void signal_entity(entity_id target, std::string operation) {
    effects_.signals.push_back({std::move(target), std::move(operation), {}});
  }
  template <class T>
  void signal_entity(entity_id target, std::string operation, const T& input) {
    effects_.signals.push_back({std::move(target), std::move(operation), encode_payload(input)});
  }

  /// Starts an orchestration once this operation commits (nothing happens if that instance id
  /// runs already), in the latest version registered under `name`. Returns its instance id; an
  /// empty one picks a new random id.
  template <class T>
  std::string start_orchestration(std::string name, const T& input, std::string instance_id = {}) {
    return start_orchestration_raw(std::move(name), encode_payload(input), std::move(instance_id));
  }
  std::string start_orchestration_raw(std::string name, std::string input_json, std::string instance_id);

 private:
  const entity_id& id_;
  const std::string& operation_;
  const std::string& input_;
  time_point now_;
  detail::entity_effects& effects_;
};

}  // namespace perdure
