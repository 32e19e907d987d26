// An overload set of lambdas for std::visit. Visiting an event with one lambda per alternative
// (no catch-all) makes a new event kind a compile error wherever it is not handled.
#pragma once

namespace perdure::detail {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace perdure::detail
