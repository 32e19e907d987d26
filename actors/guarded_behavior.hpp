// A behavior whose handlers cannot end their actor by throwing.
//
// In CAF 0.17.6 an exception that escapes a message handler always terminates the actor, whatever
// the actor's exception handler returns: the handler only chooses the exit reason and the error
// the pending request gets (checked with a test program: after a handler threw, the next request
// got request_receiver_down although the exception handler returned caf::none). An actor that
// must outlive a bad message, such as a node's only published actor after one corrupt record, has
// to catch inside the handler. guarded_behavior does that for every handler of a behavior: a
// request that fails is answered with the error `on_exception` makes of the exception, and the
// actor goes on with its next message.
#pragma once

#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>  // caf/result.hpp uses it without including it
#include <caf/result.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace perdure::actors {
namespace guard_detail {

template <class R>
struct guarded_result {
  using type = caf::result<R>;  // a plain value or an error
};
template <class R>
struct guarded_result<caf::result<R>> {
  using type = caf::result<R>;
};
template <>
struct guarded_result<void> {
  using type = void;
};

// Wraps one handler; `Member` is the type of its call operator, from which CAF reads the
// signature, so the wrapper declares exactly the same parameters.
template <class F, class OnException, class Member>
struct guard;

template <class F, class OnException, class C, class R, class... Args>
struct guard<F, OnException, R (C::*)(Args...) const> {
  static auto wrap(F f, OnException on_exception) {
    return [f = std::move(f), on_exception = std::move(on_exception)](Args... xs) -> typename guarded_result<R>::type {
      try {
        return f(std::forward<Args>(xs)...);
      } catch (...) {
        auto err = on_exception(std::current_exception());
        if constexpr (!std::is_void_v<R>) return err;  // a one-way message has nobody to answer
      }
    };
  }
};

}  // namespace guard_detail

/// The behavior of `handlers`, each wrapped so that an exception it throws becomes
/// `on_exception(std::exception_ptr) -> caf::error`: the answer to a request, and nothing (but
/// whatever on_exception does, e.g. log) for a one-way message.
template <class OnException, class... Handlers>
caf::behavior guarded_behavior(OnException on_exception, Handlers... handlers) {
  return caf::behavior{guard_detail::guard<Handlers, OnException, decltype(&Handlers::operator())>::wrap(
      std::move(handlers), on_exception)...};
}

}  // namespace perdure::actors
