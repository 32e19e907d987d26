// The enrichment example's stores, JSON-lines tables under one directory: the user-profile store,
// the product catalog (both seeded by the example) and the warehouse sink. The sink is keyed by
// event id, so an event appended twice (an activity re-run after a crash) is stored once.
#pragma once

#include "examples/common/jsonl_table.hpp"
#include "clicks.hpp"

#include <filesystem>

namespace enrichment {

inline constexpr int seeded_users = 50;
inline constexpr int seeded_products = 20;

struct stores {
  explicit stores(const std::filesystem::path& dir)
      : profiles(dir / "user-profiles.jsonl", "user_id"),
        catalog(dir / "product-catalog.jsonl", "product_id"),
        warehouse(dir / "warehouse.jsonl", "event_id") {}
  /// Writes the sample users and products that are not there yet.
  void seed();
  user_profile profile(const std::string& user_id);
  product item(const std::string& product_id);
  /// False if the event was already there.
  bool append(const enriched_click& row);

  examples::jsonl_table profiles;
  examples::jsonl_table catalog;
  examples::jsonl_table warehouse;
};

}  // namespace enrichment
