// The enrichment example's records: an "add to cart" click, the reference data it is enriched
// with, and the row the warehouse receives.
#pragma once

#include <perdure/codec.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace enrichment {

struct click {
  std::string event_id;  // unique per event: the instance id and the warehouse key
  std::string user_id;
  std::string product_id;
};
PERDURE_DEFINE_TYPE(click, event_id, user_id, product_id)

struct user_profile {
  std::string user_id;
  std::string loyalty_tier;
  std::string location;
};
PERDURE_DEFINE_TYPE(user_profile, user_id, loyalty_tier, location)

struct product {
  std::string product_id;
  std::string category;
  int price_cents = 0;
};
PERDURE_DEFINE_TYPE(product, product_id, category, price_cents)

struct enriched_click {
  std::string event_id;
  std::string user_id;
  std::string product_id;
  std::string loyalty_tier;
  std::string location;
  std::string category;
  int price_cents = 0;
};
PERDURE_DEFINE_TYPE(enriched_click, event_id, user_id, product_id, loyalty_tier, location,
                    category, price_cents)

/// `count` clicks over the seeded users and products, the same for the same seed.
std::vector<click> generate_clicks(size_t count, unsigned seed);
void write_clicks(const std::filesystem::path& file, const std::vector<click>& clicks);
/// One JSON click a line; throws on a line that is not one.
std::vector<click> read_clicks(const std::filesystem::path& file);

}  // namespace enrichment
