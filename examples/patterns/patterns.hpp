// The classic durable-function patterns, one orchestration each (one file each):
//   "PriceChain"     function chaining: each activity's output is the next one's input
//   "DirectorySize"  fan-out/fan-in: one activity per file, in parallel, then the total
//   "SlowReport"     async HTTP API: started over HTTP, polled at its status URL (see main.cpp)
//   "WatchJob"       monitor: poll an external job on a durable timer until done or a deadline,
//                    continuing as new each round so the history stays small
//   "Approval"       human interaction: wait for an approval event; on timeout escalate to a
//                    manager and wait again
//   "Cart" entity    a shopping cart: durable state changed one operation at a time, and
//   + "Checkout"     an orchestration that reads it with call_entity, charges, and clears it
#pragma once

#include <perdure/codec.hpp>
#include <perdure/entity.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace patterns {

perdure::task<std::string> price_chain(perdure::orchestration_context& ctx, int usd_cents);

struct directory_size {
  int files = 0;
  int64_t bytes = 0;
};
PERDURE_DEFINE_TYPE(directory_size, files, bytes)
perdure::task<directory_size> directory_size_of(perdure::orchestration_context& ctx, std::string directory);

perdure::task<std::string> slow_report(perdure::orchestration_context& ctx, int sections);

struct watch {
  std::string job_id;
  int64_t interval_ms = 1000;
  int64_t deadline_ms = 0;  // since the epoch; set by the first execution from timeout_ms
  int64_t timeout_ms = 10'000;
  int checks = 0;
};
PERDURE_DEFINE_TYPE(watch, job_id, interval_ms, deadline_ms, timeout_ms, checks)
perdure::task<std::string> watch_job(perdure::orchestration_context& ctx, watch w);

struct approval_request {
  std::string request_id;
  std::string approver;
  std::string manager;
  int64_t timeout_ms = 60'000;  // for each of the approver and the manager
};
PERDURE_DEFINE_TYPE(approval_request, request_id, approver, manager, timeout_ms)
perdure::task<std::string> approval(perdure::orchestration_context& ctx, approval_request r);

struct cart_item {
  std::string sku;
  int quantity = 0;
  int64_t price_cents = 0;
};
PERDURE_DEFINE_TYPE(cart_item, sku, quantity, price_cents)

struct order_summary {
  std::string cart;
  int lines = 0;
  int64_t total_cents = 0;
};
PERDURE_DEFINE_TYPE(order_summary, cart, lines, total_cents)

/// The "Cart" entity: "add" a cart_item (quantities of one sku add up), "remove" a sku, "get" the
/// items, "clear" (deletes the entity).
void cart(perdure::entity_context& ctx);
perdure::task<order_summary> checkout(perdure::orchestration_context& ctx, std::string cart_key);

/// Registers the six orchestrations, the Cart entity and their activities. The monitored jobs are the table
/// `dir`/jobs.jsonl; approval requests and escalations go to `dir`/inbox.jsonl; charges to
/// `dir`/charges.jsonl.
void register_patterns(perdure::host& host, const std::filesystem::path& dir);

}  // namespace patterns
