#include "placement.hpp"

#include <perdure/storage/store.hpp>

#include <algorithm>
#include <functional>

namespace perdure::storage {
namespace {

class ring {
 public:
  ring(const std::vector<std::string>& members, const std::set<std::string>& live) : members_(members), live_(live) {}

  bool live(const std::string& id) const {
    return live_.contains(id) && std::ranges::binary_search(members_, id);
  }

  /// The first live member at or after index `start`, wrapping around; nullptr when none is live.
  const std::string* first_live_from(size_t start) const {
    for (size_t i = 0; i < members_.size(); ++i) {
      const auto& m = members_[(start + i) % members_.size()];
      if (live(m)) return &m;
    }
    return nullptr;
  }

  /// Where "after `id`" starts: also defined for an id no longer configured, so that a removed
  /// owner's successor is still its neighbour in the ring.
  size_t index_after(const std::string& id) const {
    return static_cast<size_t>(std::ranges::upper_bound(members_, id) - members_.begin()) % members_.size();
  }

  std::vector<std::string> followers_of(const std::string& owner, const std::vector<std::string>& current,
                                        size_t count) const {
    std::vector<std::string> result;
    auto add = [&](const std::string& id) {
      if (result.size() < count && id != owner && live(id) && std::ranges::find(result, id) == result.end())
        result.push_back(id);
    };
    for (const auto& f : current) add(f);  // kept first: they hold a copy already
    const size_t start = index_after(owner);
    for (size_t i = 0; i < members_.size(); ++i) add(members_[(start + i) % members_.size()]);
    return result;
  }

 private:
  const std::vector<std::string>& members_;
  const std::set<std::string>& live_;
};

void require_sorted_members(const std::vector<std::string>& members) {
  if (std::ranges::adjacent_find(members, std::greater_equal<>{}) != members.end())
    throw store_error(errc::invalid_argument,
                      "the cluster's members must be given sorted and each once (every coordinator must "
                      "see the same ring)");
}

}  // namespace

std::optional<partition_assignment> plan_assignment(uint32_t partition, const std::optional<partition_assignment>& current,
                                                    const std::vector<std::string>& members,
                                                    const std::set<std::string>& live, size_t followers) {
  require_sorted_members(members);
  const ring r(members, live);
  const std::string* any = members.empty() ? nullptr : r.first_live_from(0);
  if (!any) return std::nullopt;

  if (!current) {
    const std::string owner = *r.first_live_from(partition % members.size());
    return partition_assignment{owner, r.followers_of(owner, {}, followers), 1};
  }

  if (r.live(current->owner)) {
    partition_assignment planned{current->owner, r.followers_of(current->owner, current->followers, followers),
                                 current->epoch};
    if (planned == *current) return std::nullopt;
    return planned;
  }

  // A live follower has the partition's state already; any other member must replay the log.
  const auto warm = std::ranges::find_if(current->followers, [&](const std::string& f) { return r.live(f); });
  const std::string owner =
      warm != current->followers.end() ? *warm : *r.first_live_from(r.index_after(current->owner));
  return partition_assignment{owner, r.followers_of(owner, current->followers, followers), current->epoch + 1};
}

}  // namespace perdure::storage
