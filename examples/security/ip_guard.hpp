// Security automation: one long-lived orchestration per IP ("ip-<address>") receives that IP's 404
// requests as events. A probe of an admin path from an IP in the threat feed blocks the IP: the
// block list is an entity (BlockList@firewall) that records each block and its end, and the end is
// a scheduled signal to it ("expire" at the block's end), which lifts the block in the firewall
// unless a later probe extended it; blocks and lifts change the firewall inside a critical section
// on the block list, so the firewall follows its order. The guard continues as new after each request, so its history
// stays short however long it lives; nothing of a block waits in it.
#pragma once

#include <perdure/client.hpp>
#include <perdure/codec.hpp>
#include <perdure/entity.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
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
  int64_t block_ms = 60'000;  // each offense blocks (or extends the block) by this much
  int offenses = 0;
};
PERDURE_DEFINE_TYPE(guard_state, ip, block_ms, offenses)

/// One IP in the block list, and the firewall rule it stands for.
struct block_rule {
  std::string ip;
  int64_t until_ms = 0;  // 0: not blocked (lifted)
  int offenses = 0;
  std::string reason;
};
PERDURE_DEFINE_TYPE(block_rule, ip, until_ms, offenses, reason)

/// An offense to the block list: block `ip` for `block_ms` more, from now or from its current end.
struct offense {
  std::string ip;
  int64_t block_ms = 0;
  int64_t now_ms = 0;
  std::string reason;
};
PERDURE_DEFINE_TYPE(offense, ip, block_ms, now_ms, reason)

/// The block list's state: every IP it ever blocked, by address.
using block_list = std::map<std::string, block_rule>;

/// The block list entity's id.
perdure::entity_id block_list_id();

perdure::task<void> guard_ip(perdure::orchestration_context& ctx, guard_state state);

/// Registers "GuardIp", the "BlockList" entity and their activities; the threat feed is
/// `dir`/threat-feed.txt and the firewall table `dir`/firewall.jsonl.
void register_security(perdure::host& host, const std::filesystem::path& dir);

std::string guard_id(const std::string& ip);

/// Routes one 404 to its IP's guard, starting the guard if needed. Ordinary 404s (not an admin
/// path) are dropped here, so only IPs that probe get a guard.
void report_404(perdure::client& client, const request& r, std::chrono::milliseconds block_for);

}  // namespace security
