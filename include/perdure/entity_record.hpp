// Entities as the store keeps and clients read them: ids, records and listings (entity.hpp has
// the programming model).
#pragma once

#include <perdure/history.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace perdure {

struct entity_id {
  // A constructor, not an aggregate: g++ 12 destroys a braced temporary aggregate built inside a
  // co_await expression twice (docs/programming-model.md), and `co_await ctx.call_entity(
  // entity_id{"Cart", user}, ...)` is how entities are called.
  entity_id() = default;
  entity_id(std::string entity_name, std::string entity_key) : name(std::move(entity_name)), key(std::move(entity_key)) {}

  std::string name;  // the registered entity's name (no '@')
  std::string key;   // which one

  /// "@name@key": where the entity lives (its partition is that id's) and how histories name it.
  std::string instance_id() const { return "@" + name + "@" + key; }
  /// The entity an instance-id form names; nullopt if `id` is not one.
  static std::optional<entity_id> from_instance_id(std::string_view id);
  friend bool operator==(const entity_id&, const entity_id&) = default;
};

/// True for ids in an entity's instance-id form: orchestration instance ids never start with '@'.
inline bool is_entity_instance_id(std::string_view id) noexcept { return !id.empty() && id.front() == '@'; }

namespace detail {
/// The operation client::delete_entity sends: it deletes the entity's state, in arrival order with
/// its other operations. Operation names starting with '$' are reserved for Perdure.
inline constexpr std::string_view delete_entity_operation = "$delete";
}  // namespace detail

/// An entity as clients read it.
struct entity_record {
  entity_id id;
  std::string state;  // JSON text
  time_point created_at{};
  time_point last_modified_at{};
  friend bool operator==(const entity_record&, const entity_record&) = default;
};

/// Filters of an entity listing; every set filter must match.
struct entity_query {
  std::string name;        // exact entity name; empty = every entity
  std::string key_prefix;  // only with a name
  size_t page_size = 100;
  std::string continuation_token;  // from the previous page; empty = first page
};

/// One page of entities ordered by (name, key). An empty token means the last page.
struct entity_page {
  std::vector<entity_record> records;
  std::string continuation_token;
};

}  // namespace perdure
