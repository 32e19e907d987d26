// perdure::task<T>: the coroutine type orchestrations are written in, and the handle every
// orchestration awaitable (activity, timer, event, sub-orchestration) returns.
//
// Operation: a task is a reference-counted handle to a shared state. The state is either the
// promise of a coroutine or a "leaf" that the replay engine completes when a history event
// arrives. Coroutines start eagerly (like Durable Functions tasks): calling one runs it up to its
// first suspension, so the actions it takes are scheduled at the call, in program order.
//
// Lifetimes: dropping the last handle to a suspended coroutine destroys its frame (and with it
// every task it holds). Actions it already scheduled stay scheduled; their results are simply not
// awaited anymore. A task's value is taken by the await; await a task from one place at a time.
//
// Concurrency: none. An orchestration runs on one thread at a time, so counts are not atomic.
#pragma once

#include <perdure/codec.hpp>
#include <perdure/errors.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace perdure {

template <class T>
class task;

namespace detail {
struct task_access;

class state_base;

/// Notified when one of a group of states completes (when_any).
class any_group {
 public:
  virtual std::coroutine_handle<> on_done(state_base* done) noexcept = 0;

 protected:
  ~any_group() = default;
};

class state_base {
 public:
  enum class kind : uint8_t { leaf, coroutine };

  explicit state_base(kind k) noexcept : kind_(k) {}
  state_base(const state_base&) = delete;
  state_base& operator=(const state_base&) = delete;

  void add_ref() noexcept { ++refs_; }
  inline void release() noexcept;
  uint32_t refs() const noexcept { return refs_; }
  bool done() const noexcept { return done_; }
  bool is_leaf() const noexcept { return kind_ == kind::leaf; }

  /// Marks the state done and returns the coroutine to resume next (noop if nobody waits).
  std::coroutine_handle<> finish() noexcept {
    done_ = true;
    if (group_ != nullptr) return std::exchange(group_, nullptr)->on_done(this);
    if (continuation_) return std::exchange(continuation_, {});
    return std::noop_coroutine();
  }

  std::coroutine_handle<> continuation_;
  any_group* group_ = nullptr;
  std::exception_ptr error_;

 protected:
  ~state_base() = default;
  void* frame_ = nullptr;  // the coroutine frame, for kind::coroutine

 private:
  uint32_t refs_ = 0;
  kind kind_;
  bool done_ = false;
};

/// A state the engine completes: the result of an activity, timer, event or sub-orchestration.
class leaf_state final : public state_base {
 public:
  leaf_state(const char* what, std::string name) noexcept
      : state_base(kind::leaf), what_(what), name_(std::move(name)) {}
  const char* what_;   // "activity", "sub-orchestration", "event", "timer": for error messages
  std::string name_;
  std::string payload_;  // JSON text of the result, empty for none
};

inline void state_base::release() noexcept {
  if (--refs_ != 0) return;
  if (kind_ == kind::leaf)
    delete static_cast<leaf_state*>(this);
  else
    std::coroutine_handle<>::from_address(frame_).destroy();
}

/// An intrusive reference to a state.
template <class S>
class ref {
 public:
  ref() noexcept = default;
  explicit ref(S* p) noexcept : p_(p) {
    if (p_) p_->add_ref();
  }
  ref(const ref& o) noexcept : ref(o.p_) {}
  ref(ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  ref(ref<U>&& o) noexcept : p_(o.detach()) {}
  ref& operator=(ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~ref() {
    if (p_) p_->release();
  }
  S* get() const noexcept { return p_; }
  S* operator->() const noexcept { return p_; }
  S& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  S* detach() noexcept { return std::exchange(p_, nullptr); }

 private:
  S* p_ = nullptr;
};

/// "type 'int'"-style name of a type, for payload errors.
std::string type_name(const std::type_info& type);

template <class T>
T decode_leaf(const leaf_state& leaf) {
  try {
    return codec<T>::decode(leaf.payload_);
  } catch (const payload_error& e) {
    throw payload_error(std::string(leaf.what_) + " '" + leaf.name_ +
                        "': result could not be decoded as " + type_name(typeid(T)) + ": " +
                        e.what());
  }
}

template <class T>
class promise;

/// Decodes a leaf's payload as T; null for void (no payload to decode).
template <class T>
using decoder = std::conditional_t<std::is_void_v<T>, std::nullptr_t, T (*)(const leaf_state&)>;

/// Takes the value (or rethrows the failure) of a done state. Leaves decode their payload with
/// `decode`, set only for tasks made from leaves so that coroutine results need no codec.
template <class T>
T take_result(state_base& s, decoder<T> decode) {
  if (s.error_) std::rethrow_exception(s.error_);
  if constexpr (std::is_void_v<T>) {
    return;
  } else {
    if (s.is_leaf()) return decode(static_cast<leaf_state&>(s));
    return std::move(*static_cast<promise<T>&>(s).value_);
  }
}

/// Suspends until a state is done. Its destructor detaches it, so destroying a suspended frame
/// never leaves the engine a dangling continuation.
class done_awaiter {
 public:
  explicit done_awaiter(state_base* s) noexcept : s_(s) {}
  done_awaiter(const done_awaiter&) = delete;
  done_awaiter& operator=(const done_awaiter&) = delete;
  ~done_awaiter() {
    if (waiting_ && s_->continuation_ == waiting_) s_->continuation_ = {};
  }
  bool await_ready() const noexcept { return s_->done(); }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    waiting_ = h;
    s_->continuation_ = h;
  }
  void await_resume() noexcept { waiting_ = {}; }

 protected:
  ref<state_base> s_;
  std::coroutine_handle<> waiting_;
};

template <class T>
class value_awaiter : public done_awaiter {
 public:
  value_awaiter(state_base* s, decoder<T> decode) noexcept : done_awaiter(s), decode_(decode) {}
  T await_resume() {
    waiting_ = {};
    return take_result<T>(*s_, decode_);
  }

 private:
  decoder<T> decode_;
};

template <class T>
class promise_base : public state_base {
 public:
  promise_base() noexcept : state_base(kind::coroutine) {}

  task<T> get_return_object() noexcept;
  std::suspend_never initial_suspend() const noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<promise<T>> h) noexcept {
      return h.promise().finish();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
};

template <class T>
class promise final : public promise_base<T> {
 public:
  template <class U>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
  std::optional<T> value_;
};

template <>
class promise<void> final : public promise_base<void> {
 public:
  void return_void() const noexcept {}
};

}  // namespace detail

/// A unit of orchestration work producing a T. See the file comment for semantics.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::promise<T>;
  using value_type = T;

  task() noexcept = default;
  /// A coroutine's task.
  explicit task(detail::ref<detail::state_base> state) noexcept : state_(std::move(state)) {}
  /// A leaf's task: the payload is decoded through codec<T>.
  struct from_leaf {};
  task(detail::ref<detail::state_base> leaf, from_leaf) noexcept : state_(std::move(leaf)) {
    if constexpr (!std::is_void_v<T>) decode_ = &detail::decode_leaf<T>;
  }

  /// True once the task finished (successfully or not).
  bool is_done() const noexcept { return state_ && state_->done(); }
  /// True once the task finished with an exception.
  bool is_failed() const noexcept { return is_done() && state_->error_ != nullptr; }
  bool valid() const noexcept { return static_cast<bool>(state_); }

  detail::value_awaiter<T> operator co_await() const noexcept {
    return detail::value_awaiter<T>(state_.get(), decode_);
  }
  /// Waits for completion without taking the value or rethrowing the failure.
  detail::done_awaiter when_done() const noexcept { return detail::done_awaiter(state_.get()); }
  /// The value of a done task (rethrows its failure).
  T take() { return detail::take_result<T>(*state_, decode_); }

 private:
  friend struct detail::task_access;
  detail::ref<detail::state_base> state_;
  detail::decoder<T> decode_ = nullptr;
};

namespace detail {
/// The state behind a task, for the combinators.
struct task_access {
  template <class T>
  static state_base* state(const task<T>& t) noexcept {
    return t.state_.get();
  }
};

template <class T>
task<T> leaf_task(ref<state_base> leaf) noexcept {
  return task<T>(std::move(leaf), typename task<T>::from_leaf{});
}

template <class T>
task<T> promise_base<T>::get_return_object() noexcept {
  auto h = std::coroutine_handle<promise<T>>::from_promise(static_cast<promise<T>&>(*this));
  frame_ = h.address();
  return task<T>(ref<state_base>(this));
}
}  // namespace detail

}  // namespace perdure
