#include "echo_workflow.hpp"

namespace perdure::fuzzing {
namespace {

task<std::string> echo(orchestration_context& ctx, std::string in) {
  co_return co_await ctx.call_activity<std::string>("Same", in);
}

}  // namespace

void add_echo_workflow(host& h) {
  h.add_orchestration("Echo", echo);
  h.add_activity("Same", [](activity_context&, std::string s) { return s; });
}

}  // namespace perdure::fuzzing
