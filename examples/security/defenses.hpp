// The security example's local systems: a threat feed (a text file of known-bad IPs, one a line,
// '#' starts a comment; edits take effect at once) and a firewall rule table (JSON lines, one rule
// per IP; the file is also the audit log of every block, extension and unblock).
#pragma once

#include "examples/common/jsonl_table.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace security {

/// wp-admin, .env, phpmyadmin, ...: paths scanners probe for.
bool is_admin_probe(std::string_view path);

class threat_feed {
 public:
  explicit threat_feed(std::filesystem::path file) : file_(std::move(file)) {}
  bool lists(const std::string& ip) const;

 private:
  std::filesystem::path file_;
};

class firewall {
 public:
  explicit firewall(const std::filesystem::path& dir) : rules_(dir / "firewall.jsonl", "ip") {}
  void block(const std::string& ip, int64_t until_ms, int offenses, const std::string& reason);
  void unblock(const std::string& ip);
  bool blocks(const std::string& ip);
  examples::jsonl_table& rules() { return rules_; }

 private:
  examples::jsonl_table rules_;
};

}  // namespace security
