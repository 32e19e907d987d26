#include "cluster_moves.hpp"

#include "http_url.hpp"
#include "node_client.hpp"

#include <iostream>

namespace perdure::cli {
namespace {

exit_code accepted(const global_options& g, const nlohmann::json& what, const std::string& sentence) {
  if (g.output == output_format::json)
    std::cout << what.dump(2) << '\n';
  else
    std::cout << sentence << '\n';
  return exit_code::ok;
}

}  // namespace

exit_code cluster_drain(const global_options& g, const std::string& node) {
  node_client(g.node, g.timeout).post("/api/cluster/members/" + percent_encode(node) + "/drain", "");
  return accepted(g, {{"nodeId", node}, {"state", "draining"}},
                  "member " + node + " is draining: its partitions move away one at a time (see `perdure cluster "
                  "partitions`); stop it once it owns none");
}

exit_code cluster_activate(const global_options& g, const std::string& node) {
  node_client(g.node, g.timeout).post("/api/cluster/members/" + percent_encode(node) + "/activate", "");
  return accepted(g, {{"nodeId", node}, {"state", "active"}}, "member " + node + " is active again");
}

exit_code cluster_remove(const global_options& g, const std::string& node) {
  node_client(g.node, g.timeout).post("/api/cluster/members/" + percent_encode(node) + "/remove", "");
  return accepted(g, {{"nodeId", node}, {"state", "removed"}},
                  "member " + node + " is removed: every member forgets it within a few seconds; it enrolls again "
                  "if it starts again");
}

exit_code cluster_move(const global_options& g, uint32_t partition, const std::string& node) {
  node_client(g.node, g.timeout)
      .post("/api/cluster/partitions/" + std::to_string(partition) + "/move", nlohmann::json{{"node", node}}.dump());
  return accepted(g, {{"partition", partition}, {"movingTo", node}, {"pinned", true}},
                  "partition " + std::to_string(partition) + " is moving to " + node +
                      ": it follows the log, then takes over (see `perdure cluster partitions`), and stays there "
                      "until `perdure cluster unpin " +
                      std::to_string(partition) + "`");
}

exit_code cluster_unpin(const global_options& g, uint32_t partition) {
  node_client(g.node, g.timeout).post("/api/cluster/partitions/" + std::to_string(partition) + "/unpin", "");
  return accepted(g, {{"partition", partition}, {"pinned", false}},
                  "partition " + std::to_string(partition) + " is unpinned: the balancer may move it");
}

}  // namespace perdure::cli
