#include "defenses.hpp"

#include <array>
#include <fstream>
#include <stdexcept>

namespace security {

bool is_admin_probe(std::string_view path) {
  static constexpr std::array<std::string_view, 9> probes{
      "/wp-admin", "/wp-login.php", "/.env", "/phpmyadmin", "/admin", "/.git/config",
      "/server-status", "/xmlrpc.php", "/actuator"};
  for (auto probe : probes)
    if (path.starts_with(probe)) return true;
  return false;
}

bool threat_feed::lists(const std::string& ip) const {
  std::ifstream in(file_);
  if (!in) throw std::runtime_error("cannot read the threat feed " + file_.string());
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line == ip) return true;
  }
  return false;
}

void firewall::block(const std::string& ip, int64_t until_ms, int offenses, const std::string& reason) {
  rules_.put({{"ip", ip}, {"action", "block"}, {"until_ms", until_ms}, {"offenses", offenses}, {"reason", reason}});
}

void firewall::unblock(const std::string& ip) { rules_.put({{"ip", ip}, {"action", "allow"}}); }

bool firewall::blocks(const std::string& ip) {
  auto rule = rules_.get(ip);
  return rule && (*rule)["action"] == "block";
}

}  // namespace security
