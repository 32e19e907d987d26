// Real-time enrichment: one short orchestration per click ("EnrichClick", instance id = event id)
// looks the user and the product up in parallel and appends the enriched row to the warehouse.
//
// Exactly once per event, even across a kill -9: re-submitting the stream starts each event at
// most once (same instance id; finished ones are skipped, running ones left alone), and the sink
// ignores an event it already holds (an activity re-run after the crash).
#pragma once

#include "clicks.hpp"

#include <perdure/client.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <filesystem>
#include <vector>

namespace enrichment {

perdure::task<enriched_click> enrich_click(perdure::orchestration_context& ctx, click c);

/// Registers "EnrichClick" and its activities over the stores in `dir` (seeding them).
void register_enrichment(perdure::host& host, const std::filesystem::path& dir);

/// Submits every click not submitted before, from `threads` threads (each start waits for its
/// commit; concurrent starts share commits). Returns how many were new.
size_t submit(perdure::client& client, const std::vector<click>& clicks, size_t threads);

}  // namespace enrichment
