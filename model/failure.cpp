#include <perdure/failure.hpp>

#include <perdure/errors.hpp>
#include <perdure/task.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace perdure {

namespace detail {
std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}
}  // namespace detail

failure_details to_failure_details(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const task_failed& e) {
    failure_details inner = e.failure();
    std::string where = "in task '" + e.task_name() + "'";
    inner.details = inner.details.empty() ? where : where + ": " + inner.details;
    return inner;
  } catch (const std::exception& e) {
    failure_details f{detail::type_name(typeid(e)), e.what(), {}, false};
    f.non_retriable = dynamic_cast<const payload_error*>(&e) != nullptr ||
                      dynamic_cast<const unknown_function_error*>(&e) != nullptr;
    return f;
  } catch (...) {
    return failure_details{"unknown", "an exception not derived from std::exception", {}, false};
  }
}

}  // namespace perdure
