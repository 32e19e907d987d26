// The runs of a crash test's node program: each start of its `run` mode between kill -9s is one,
// numbered from 0 in DIR/runs.log (a line per run), so that its checker knows which ids exist.
#pragma once

#include <fstream>
#include <string>

namespace perdure::testing_support {

/// How many runs DIR/runs.log records.
inline int runs_so_far(const std::string& dir) {
  std::ifstream in(dir + "/runs.log");
  int runs = 0;
  for (std::string line; std::getline(in, line);) ++runs;
  return runs;
}

/// Records a new run in DIR/runs.log and returns its number.
inline int begin_run(const std::string& dir) {
  const int run = runs_so_far(dir);
  std::ofstream(dir + "/runs.log", std::ios::app) << run << std::endl;
  return run;
}

}  // namespace perdure::testing_support
