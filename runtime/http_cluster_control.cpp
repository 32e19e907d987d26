#include "http_cluster_control.hpp"

#include "http_errors.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace perdure {
namespace {

uint32_t partition_number(const std::string& text) {
  uint32_t p = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw http_error(400, "InvalidArgument", "'" + text + "' is not a partition number");
  return p;
}

std::string target_node(const http::request& req) {
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("node") || !body["node"].is_string())
    throw http_error(400, "InvalidJson", "send the target member as {\"node\": \"<node id>\"}");
  return body["node"].get<std::string>();
}

}  // namespace

std::optional<http::response> route_cluster_control(const http::request& req, cluster_control* control) {
  const auto& s = req.segments;
  if (req.method != "POST" || s.size() != 5 || s[0] != "api" || s[1] != "cluster") return std::nullopt;
  const bool member_route = s[2] == "members" && (s[4] == "drain" || s[4] == "activate" || s[4] == "remove");
  const bool move_route = s[2] == "partitions" && (s[4] == "move" || s[4] == "unpin");
  if (!member_route && !move_route) return std::nullopt;
  if (!control)
    throw http_error(409, "NotReplicated", "this node is not in a replicated hub (--nats): its partitions do not move");
  if (s[4] == "drain")
    control->drain(s[3]);
  else if (s[4] == "activate")
    control->activate(s[3]);
  else if (s[4] == "remove")
    control->remove(s[3]);
  else if (s[4] == "unpin")
    control->unpin(partition_number(s[3]));
  else
    control->move(partition_number(s[3]), target_node(req));
  return http::response{202, "application/json", {}, {}};
}

}  // namespace perdure
