// Security automation: one long-lived orchestration per IP ("ip-<address>") receives that IP's 404
// requests as events. A probe of an admin path from an IP in the threat feed blocks the IP in the
// firewall until a durable timer expires, then unblocks it; another probe while blocked extends the
// block. Each time it is (again) unblocked, or has handled a request without blocking, the guard
// continues as new, so its history stays short however long it lives.
#pragma once

#include <perdure/client.hpp>
#include <perdure/codec.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace security {

struct request {
  std::string ip;
  std::string path;
};
PERDURE_DEFINE_TYPE(request, ip, path)

struct verdict {
  bool block = false;
  std::string reason;
};
PERDURE_DEFINE_TYPE(verdict, block, reason)

/// What a guard carries from one execution to the next.
struct guard_state {
  std::string ip;
  int64_t block_ms = 60'000;   // each offense blocks (or extends the block) by this much
  int offenses = 0;
  int64_t blocked_until_ms = 0;  // 0: not blocked
};
PERDURE_DEFINE_TYPE(guard_state, ip, block_ms, offenses, blocked_until_ms)

struct block_rule {
  std::string ip;
  int64_t until_ms = 0;
  int offenses = 0;
  std::string reason;
};
PERDURE_DEFINE_TYPE(block_rule, ip, until_ms, offenses, reason)

perdure::task<void> guard_ip(perdure::orchestration_context& ctx, guard_state state);

/// Registers "GuardIp" and its activities; the threat feed is `dir`/threat-feed.txt and the
/// firewall table `dir`/firewall.jsonl.
void register_security(perdure::host& host, const std::filesystem::path& dir);

std::string guard_id(const std::string& ip);

/// Routes one 404 to its IP's guard, starting the guard if needed. Ordinary 404s (not an admin
/// path) are dropped here, so only IPs that probe get a guard.
void report_404(perdure::client& client, const request& r, std::chrono::milliseconds block_for);

}  // namespace security
