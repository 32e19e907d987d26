// when_all and when_any over tasks.
//
// when_all waits for every task, then rethrows the failure of the first failed task (in argument
// order) or returns all values: a std::tuple for the variadic form (void tasks give
// std::monostate), a std::vector for the vector form (task<void> for a vector of task<void>).
// It costs one coroutine frame in all, whatever the number of tasks: fan-out of 100,000 activities
// is 100,000 leaf states plus one vector.
//
// when_any returns the index of the first task to finish (the lowest index if several already
// have); it does not take the winner's value: co_await the winner for it. The losers keep running
// harmlessly: their results are recorded in the history when they arrive and nobody awaits them.
// A task may be passed to one when_any at a time.
#pragma once

#include <perdure/task.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace perdure {

template <class T>
using result_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace detail {

template <class T>
result_or_monostate_t<T> take_or_monostate(task<T>& t) {
  if constexpr (std::is_void_v<T>) {
    t.take();
    return {};
  } else {
    return t.take();
  }
}

/// Awaits the first of N states to finish; N is a compile-time size or dynamic (vector).
template <class Storage>
class any_awaiter final : public any_group {
 public:
  explicit any_awaiter(Storage states) noexcept : states_(std::move(states)) {}
  any_awaiter(const any_awaiter&) = delete;
  any_awaiter& operator=(const any_awaiter&) = delete;
  ~any_awaiter() { detach(); }

  bool await_ready() noexcept {
    for (size_t i = 0; i < states_.size(); ++i) {
      if (states_[i]->done()) {
        winner_ = i;
        return true;
      }
    }
    return states_.size() == 0;
  }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    waiting_ = h;
    for (auto& s : states_) s->group_ = this;
  }
  size_t await_resume() noexcept {
    waiting_ = {};
    return winner_;
  }
  std::coroutine_handle<> on_done(state_base* done) noexcept override {
    detach();
    for (size_t i = 0; i < states_.size(); ++i)
      if (states_[i].get() == done) winner_ = i;
    return std::exchange(waiting_, {});
  }

 private:
  void detach() noexcept {
    for (auto& s : states_)
      if (s->group_ == this) s->group_ = nullptr;
  }
  Storage states_;
  std::coroutine_handle<> waiting_;
  size_t winner_ = 0;
};

template <class... T>
task<std::tuple<result_or_monostate_t<T>...>> when_all_impl(task<T>... tasks) {
  (co_await tasks.when_done(), ...);
  std::exception_ptr first_failure;
  ((first_failure = first_failure ? first_failure : detail::task_access::state(tasks)->error_), ...);
  if (first_failure) std::rethrow_exception(first_failure);
  co_return std::tuple<result_or_monostate_t<T>...>{take_or_monostate(tasks)...};
}

}  // namespace detail

template <class... T>
task<std::tuple<result_or_monostate_t<T>...>> when_all(task<T>... tasks) {
  return detail::when_all_impl(std::move(tasks)...);
}

template <class T>
  requires(!std::is_void_v<T>)
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
  for (auto& t : tasks) co_await t.when_done();
  for (auto& t : tasks)
    if (t.is_failed()) t.take();  // rethrows the first failure
  std::vector<T> values;
  values.reserve(tasks.size());
  for (auto& t : tasks) values.push_back(t.take());
  co_return values;
}

inline task<void> when_all(std::vector<task<void>> tasks) {
  for (auto& t : tasks) co_await t.when_done();
  for (auto& t : tasks)
    if (t.is_failed()) t.take();
}

template <class... Tasks>
auto when_any(const Tasks&... tasks) {
  using storage = std::array<detail::ref<detail::state_base>, sizeof...(Tasks)>;
  return detail::any_awaiter<storage>(storage{detail::ref<detail::state_base>(detail::task_access::state(tasks))...});
}

template <class T>
auto when_any(const std::vector<task<T>>& tasks) {
  using storage = std::vector<detail::ref<detail::state_base>>;
  storage states;
  states.reserve(tasks.size());
  for (const auto& t : tasks) states.emplace_back(detail::task_access::state(t));
  return detail::any_awaiter<storage>(std::move(states));
}

}  // namespace perdure
