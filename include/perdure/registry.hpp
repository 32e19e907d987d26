// Orchestrations and activities by name, with typed adapters through perdure::codec.
//
// Accepted signatures (function pointers or non-generic lambdas):
//   orchestration: task<Out> f(orchestration_context&, In)   or   task<Out> f(orchestration_context&)
//   activity:      Out f(activity_context&, In)               or   Out f(activity_context&)
//   entity:        void f(entity_context&)   (one function for every operation: see entity.hpp)
// Out may be void (an empty payload). In may be taken by value or const reference; a function
// without In ignores its input. Registering a name (an orchestration: a name and version) twice
// throws invalid_argument_error.
//
// Versions: an orchestration name may be registered in several versions side by side
// (add_orchestration(name, fn, {.version = 2})); a new instance starts on the latest one unless it
// names another, and an instance keeps the version it started with (recorded in its
// ExecutionStarted) until it ends or continues as new. A registration without a version is
// version 0, which is also what histories written before versions existed run.
//
// Concurrency: register everything before running; afterwards the registry is only read, and
// invoke_activity may be called from many threads at once (as long as the activities allow it).
#pragma once

#include <perdure/activity_context.hpp>
#include <perdure/codec.hpp>
#include <perdure/entity.hpp>
#include <perdure/errors.hpp>
#include <perdure/failure.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>

namespace perdure {

namespace detail {

template <class F>
struct signature : signature<decltype(&F::operator())> {};
template <class R, class... A>
struct signature<R (*)(A...)> {
  using result = R;
  using args = std::tuple<A...>;
};
template <class R, class... A>
struct signature<R(A...)> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...)> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const noexcept> : signature<R (*)(A...)> {};

template <class T>
struct task_value;
template <class T>
struct task_value<task<T>> {
  using type = T;
};

/// The input type of a function (second parameter), or void if it takes none.
template <class Args>
struct input_of {
  using type = void;
};
template <class Ctx, class In>
struct input_of<std::tuple<Ctx, In>> {
  using type = std::remove_cvref_t<In>;
};

template <class In>
In decode_input(std::string_view input, const char* what, std::string_view name) {
  try {
    return codec<In>::decode(input);
  } catch (const payload_error& e) {
    throw payload_error(std::string(what) + " '" + std::string(name) +
                        "': input could not be decoded as " + type_name(typeid(In)) + ": " +
                        e.what());
  }
}

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Out, class In, class F>
task<std::string> run_orchestration(const F& fn, orchestration_context& ctx, std::string input) {
  if constexpr (std::is_void_v<In>) {
    if constexpr (std::is_void_v<Out>) {
      co_await fn(ctx);
      co_return std::string{};
    } else {
      co_return codec<Out>::encode(co_await fn(ctx));
    }
  } else {
    In in = decode_input<In>(input, "orchestration", ctx.name());
    if constexpr (std::is_void_v<Out>) {
      co_await fn(ctx, std::move(in));
      co_return std::string{};
    } else {
      co_return codec<Out>::encode(co_await fn(ctx, std::move(in)));
    }
  }
}

}  // namespace detail

struct orchestration_options {
  int32_t version = 0;  // >= 0; each (name, version) once
};

class registry {
 public:
  /// Untyped forms: JSON text in, JSON text out.
  using orchestration_fn = std::function<task<std::string>(orchestration_context&, std::string input)>;
  using activity_fn = std::function<std::string(activity_context&, std::string_view input)>;

  template <class F>
  registry& add_orchestration(std::string name, F fn, orchestration_options options = {}) {
    using sig = detail::signature<std::decay_t<F>>;
    using out = typename detail::task_value<typename sig::result>::type;
    using in = typename detail::input_of<typename sig::args>::type;
    return add_orchestration_raw(
        std::move(name), options,
        [fn = std::move(fn)](orchestration_context& ctx, std::string input) {
          return detail::run_orchestration<out, in>(fn, ctx, std::move(input));
        });
  }

  template <class F>
  registry& add_activity(std::string name, F fn) {
    using sig = detail::signature<std::decay_t<F>>;
    using out = typename sig::result;
    using in = typename detail::input_of<typename sig::args>::type;
    return add_activity_raw(name, [fn = std::move(fn), name](activity_context& ctx,
                                                             std::string_view input) -> std::string {
      if constexpr (std::is_void_v<in>) {
        if constexpr (std::is_void_v<out>) {
          fn(ctx);
          return {};
        } else {
          return codec<out>::encode(fn(ctx));
        }
      } else {
        in value = detail::decode_input<in>(input, "activity", name);
        if constexpr (std::is_void_v<out>) {
          fn(ctx, std::move(value));
          return {};
        } else {
          return codec<out>::encode(fn(ctx, std::move(value)));
        }
      }
    });
  }

  using entity_fn = std::function<void(entity_context&)>;
  /// An entity's name may not contain '@' (its id's instance-id form uses it as separator).
  registry& add_entity(std::string name, entity_fn fn);

  /// Whether `name` is registered in any version.
  bool has_orchestration(std::string_view name) const;
  /// Whether `name` is registered in that version.
  bool has_orchestration(std::string_view name, int32_t version) const;
  /// The version a new execution of `name` runs: `requested`, or the latest registered one when it
  /// is execution_started::any_version. Throws unknown_orchestration_error for a name nobody
  /// registered, orchestration_version_unavailable for a requested version that is not registered.
  int32_t version_to_start(std::string_view name, int32_t requested) const;
  bool has_entity(std::string_view name) const;
  bool has_activity(std::string_view name) const;

  /// The orchestration registered under `name` in `version`; throws unknown_orchestration_error
  /// (orchestration_version_unavailable when only other versions are registered).
  const orchestration_fn& orchestration(std::string_view name, int32_t version) const;

  /// Runs an activity and returns its output JSON text. Throws what the activity throws,
  /// unknown_function_error for an unknown name, payload_error (naming the activity) for an input
  /// it cannot decode. Turn exceptions into failure_details with perdure::to_failure_details.
  std::string invoke_activity(std::string_view name, activity_context& ctx,
                              std::string_view input_json) const;
  /// Runs one operation of the entity ctx.id() names. Throws what the entity throws, or
  /// unknown_function_error for an entity name nobody registered.
  void invoke_entity(entity_context& ctx) const;

 private:
  // Behind the typed add_orchestration / add_activity: the function already works on JSON text.
  registry& add_orchestration_raw(std::string name, orchestration_options options, orchestration_fn fn);
  registry& add_activity_raw(std::string name, activity_fn fn);

  using versions = std::map<int32_t, orchestration_fn>;  // ordered: the last one is the latest
  const versions& versions_of(std::string_view name) const;

  std::unordered_map<std::string, versions, detail::string_hash, std::equal_to<>> orchestrations_;
  std::unordered_map<std::string, activity_fn, detail::string_hash, std::equal_to<>> activities_;
  std::unordered_map<std::string, entity_fn, detail::string_hash, std::equal_to<>> entities_;
};

}  // namespace perdure
