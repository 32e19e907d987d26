#include "stores.hpp"

#include <array>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

namespace enrichment {

namespace {

std::string numbered(const char* prefix, int n) {
  char id[32];
  std::snprintf(id, sizeof id, "%s%04d", prefix, n);
  return id;
}

}  // namespace

void stores::seed() {
  static constexpr std::array tiers{"bronze", "silver", "gold", "platinum"};
  static constexpr std::array cities{"Berlin", "Lisbon", "Osaka", "Toronto", "Austin", "Nairobi"};
  static constexpr std::array categories{"books", "games", "kitchen", "garden", "audio"};
  for (int u = 1; u <= seeded_users; ++u)
    profiles.insert(user_profile{numbered("u-", u), tiers[u % tiers.size()], cities[u % cities.size()]});
  for (int p = 1; p <= seeded_products; ++p)
    catalog.insert(product{numbered("p-", p), categories[p % categories.size()], 499 + 250 * p});
}

user_profile stores::profile(const std::string& user_id) {
  auto row = profiles.get(user_id);
  // An unknown visitor is still a sale: enrich as a guest rather than drop the event.
  return row ? row->get<user_profile>() : user_profile{user_id, "guest", "unknown"};
}

product stores::item(const std::string& product_id) {
  auto row = catalog.get(product_id);
  if (!row) throw std::invalid_argument("no product '" + product_id + "' in the catalog");
  return row->get<product>();
}

bool stores::append(const enriched_click& row) { return warehouse.insert(row); }

std::vector<click> generate_clicks(size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> user(1, seeded_users);
  std::uniform_int_distribution<int> item(1, seeded_products);
  std::vector<click> clicks;
  clicks.reserve(count);
  for (size_t i = 1; i <= count; ++i)
    clicks.push_back({"click-" + std::to_string(seed) + "-" + std::to_string(i), numbered("u-", user(random)),
                      numbered("p-", item(random))});
  return clicks;
}

void write_clicks(const std::filesystem::path& file, const std::vector<click>& clicks) {
  std::ofstream out(file);
  for (const auto& c : clicks) out << nlohmann::json(c).dump() << "\n";
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::vector<click> read_clicks(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::vector<click> clicks;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) clicks.push_back(nlohmann::json::parse(line).get<click>());
  return clicks;
}

}  // namespace enrichment
