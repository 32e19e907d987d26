// Reading /metrics (Prometheus text format) in tests.
#pragma once

#include <doctest/doctest.h>

#include <string>

namespace perdure::testing_support {

/// The value of one sample, `name` with its labels if any; the test fails if it is missing.
inline double sample_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  REQUIRE_MESSAGE(at != std::string::npos, name, " missing from\n", text);
  return std::stod(text.substr(at + name.size() + 2));
}

}  // namespace perdure::testing_support
