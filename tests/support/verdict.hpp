// What a crash test's checking program found: the programs print "PROBLEM ..." lines for what is
// wrong and "VERIFIED" when all is right, and exit 0 only then.
#pragma once

#include "support/child_process.hpp"

#include <string>
#include <vector>

namespace perdure::testing_support {

struct verdict {
  std::vector<std::string> problems;
  bool verified = false;
  int exit_code = -1;
};

/// Reads the checker's lines until it ends (or `timeout_ms` passes without one), then its exit.
inline verdict read_verdict(child_process& checker, int timeout_ms) {
  verdict v;
  while (auto line = checker.read_line(timeout_ms)) {
    if (line->rfind("PROBLEM", 0) == 0) v.problems.push_back(*line);
    if (line->rfind("VERIFIED", 0) == 0) v.verified = true;
  }
  v.exit_code = checker.wait();
  return v;
}

}  // namespace perdure::testing_support
