#include "cluster_membership.hpp"

#include <perdure/errors.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace perdure::actors {

member parse_member(std::string_view entry) {
  const auto bad = [&](std::string_view why) {
    return invalid_argument_error("bad member '" + std::string{entry} + "' in --members: " + std::string{why} +
                                  " (expected id@host:port)");
  };
  const auto at = entry.find('@');
  if (at == std::string_view::npos) throw bad("no '@'");
  const auto colon = entry.rfind(':');
  if (colon == std::string_view::npos || colon < at) throw bad("no ':port'");
  member m{std::string{entry.substr(0, at)}, std::string{entry.substr(at + 1, colon - at - 1)}, 0};
  if (m.id.empty()) throw bad("empty node id");
  if (m.host.empty()) throw bad("empty host");
  const auto port_text = entry.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    throw bad("port must be 1..65535");
  m.port = static_cast<uint16_t>(port);
  return m;
}

cluster_membership cluster_membership::parse(std::string_view spec, std::string self_id) {
  std::vector<member> members;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto entry = spec.substr(0, comma);
    if (!entry.empty()) members.push_back(parse_member(entry));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
  }
  return cluster_membership{std::move(members), std::move(self_id)};
}

cluster_membership::cluster_membership(std::vector<member> members, std::string self_id) : members_(std::move(members)) {
  if (members_.empty()) throw invalid_argument_error("--members lists no member");
  std::ranges::sort(members_, {}, &member::id);
  std::set<std::pair<std::string, uint16_t>> addresses;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (i > 0 && members_[i].id == members_[i - 1].id)
      throw invalid_argument_error("node id '" + members_[i].id + "' appears twice in --members");
    if (!addresses.emplace(members_[i].host, members_[i].port).second)
      throw invalid_argument_error("address " + members_[i].host + ":" + std::to_string(members_[i].port) +
                                   " appears twice in --members");
  }
  auto self = index_of(self_id);
  if (!self) throw invalid_argument_error("this node's id '" + self_id + "' is not in --members (" + canonical() + ")");
  self_ = *self;
}

std::optional<size_t> cluster_membership::index_of(std::string_view id) const {
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i].id == id) return i;
  return std::nullopt;
}

size_t cluster_membership::add(const member& m) {
  if (auto index = index_of(m.id)) {
    if (m.port != 0) members_[*index] = m;
    return *index;
  }
  members_.push_back(m);
  return members_.size() - 1;
}

std::string cluster_membership::canonical() const {
  std::string out;
  for (const auto& m : members_) {
    if (!out.empty()) out += ',';
    out += m.id + "@" + m.host + ":" + std::to_string(m.port);
  }
  return out;
}

}  // namespace perdure::actors
