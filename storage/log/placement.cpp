#include "placement.hpp"

#include <perdure/storage/store.hpp>

#include <algorithm>
#include <functional>
#include <iterator>
#include <utility>

namespace perdure::storage {
namespace {

class ring {
 public:
  ring(const std::vector<std::string>& members, const std::set<std::string>& live, const std::set<std::string>& draining)
      : members_(members), live_(live), draining_(draining) {}

  bool live(const std::string& id) const {
    return live_.contains(id) && std::ranges::binary_search(members_, id);
  }

  /// Live and not draining: may get a partition or a follower slot.
  bool eligible(const std::string& id) const { return live(id) && !draining_.contains(id); }

  /// The first eligible member at or after index `start`, wrapping around; else the first live one
  /// (only draining members are left); nullptr when none is live.
  const std::string* first_live_from(size_t start) const {
    for (auto accept : {&ring::eligible, &ring::live})
      for (size_t i = 0; i < members_.size(); ++i) {
        const auto& m = members_[(start + i) % members_.size()];
        if ((this->*accept)(m)) return &m;
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
      if (result.size() < count && id != owner && eligible(id) && std::ranges::find(result, id) == result.end())
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
  const std::set<std::string>& draining_;
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
                                                    const std::set<std::string>& live, size_t followers,
                                                    const std::set<std::string>& draining) {
  require_sorted_members(members);
  const ring r(members, live, draining);
  const std::string* any = members.empty() ? nullptr : r.first_live_from(0);
  if (!any) return std::nullopt;

  if (!current) {
    const std::string owner = *r.first_live_from(partition % members.size());
    return partition_assignment{owner, r.followers_of(owner, {}, followers), 1};
  }

  if (r.live(current->owner)) {
    const std::string& target = current->moving_to;
    const bool moving = !target.empty() && target != current->owner && r.eligible(target);
    std::vector<std::string> kept;
    std::ranges::copy_if(current->followers, std::back_inserter(kept), [&](const auto& f) { return f != target; });
    partition_assignment planned{current->owner, r.followers_of(current->owner, kept, followers), current->epoch};
    planned.pinned = current->pinned && (target.empty() || moving);  // a dropped move placed nothing
    if (moving) {
      planned.followers.push_back(target);
      planned.moving_to = target;
    }
    if (planned == *current) return std::nullopt;
    return planned;
  }

  // A live follower has the partition's state already; any other member must replay the log.
  const auto warm = std::ranges::find_if(current->followers, [&](const std::string& f) { return r.live(f); });
  const std::string owner =
      warm != current->followers.end() ? *warm : *r.first_live_from(r.index_after(current->owner));
  return partition_assignment{owner, r.followers_of(owner, current->followers, followers), current->epoch + 1};
}

namespace {

// Partitions owned by each eligible member (those owning none included).
std::map<std::string, size_t> load_of(const move_inputs& in, const ring& r) {
  std::map<std::string, size_t> load;
  for (const auto& m : in.members)
    if (r.eligible(m)) load[m] = 0;
  for (const auto& a : in.table)
    if (auto it = load.find(a.owner); it != load.end()) ++it->second;
  return load;
}

// The least loaded eligible member for `a`: a follower of it first on ties (it holds a copy).
std::string least_loaded(const std::map<std::string, size_t>& load, const partition_assignment& a) {
  const auto rank = [&](const auto& entry) {
    const bool warm = std::ranges::find(a.followers, entry.first) != a.followers.end();
    return std::pair{entry.second, !warm};
  };
  return std::ranges::min_element(load, {}, rank)->first;
}

// A partition the balancer may move to `idlest` (owning `idlest_load`): one not pinned, of the most
// loaded member that owns more than idlest_load + 1 and has one, a follower of `idlest` first.
std::optional<uint32_t> partition_to_balance(const std::vector<partition_assignment>& table,
                                             const std::map<std::string, size_t>& load, const std::string& idlest,
                                             size_t idlest_load) {
  std::vector<std::pair<std::string, size_t>> sources;  // the most loaded first, then by id
  for (const auto& [member, owned] : load)
    if (owned > idlest_load + 1) sources.emplace_back(member, owned);
  std::ranges::stable_sort(sources, std::greater<>{}, &std::pair<std::string, size_t>::second);
  for (const auto& source : sources) {
    std::optional<uint32_t> pick;
    for (uint32_t p = 0; p < table.size(); ++p) {
      const auto& a = table[p];
      if (a.owner != source.first || a.pinned) continue;
      if (!pick) pick = p;
      if (std::ranges::find(a.followers, idlest) != a.followers.end()) return p;
    }
    if (pick) return pick;
  }
  return std::nullopt;
}

partition_assignment start_move(const partition_assignment& a, const std::string& target) {
  partition_assignment moving = a;
  if (std::ranges::find(moving.followers, target) == moving.followers.end()) moving.followers.push_back(target);
  moving.moving_to = target;
  return moving;
}

}  // namespace

std::map<uint32_t, partition_assignment> plan_moves(const move_inputs& in) {
  require_sorted_members(in.members);
  const ring r(in.members, in.live, in.draining);
  std::map<uint32_t, partition_assignment> writes;
  if (std::ranges::any_of(in.table, [&](const auto& a) { return !r.live(a.owner); })) return writes;

  bool under_way = false;
  for (uint32_t p = 0; p < in.table.size(); ++p) {
    const auto& a = in.table[p];
    if (a.moving_to.empty()) continue;
    under_way = true;
    const auto lag = in.target_lag.find(p);
    if (lag == in.target_lag.end() || lag->second > in.caught_up || !r.eligible(a.moving_to)) continue;
    std::vector<std::string> warm{a.owner};
    std::ranges::copy_if(a.followers, std::back_inserter(warm), [&](const auto& f) { return f != a.moving_to; });
    writes[p] = partition_assignment{a.moving_to, r.followers_of(a.moving_to, warm, in.followers), a.epoch + 1, {},
                                     a.pinned};
  }
  if (under_way) return writes;

  const auto load = load_of(in, r);
  if (load.empty()) return writes;
  for (uint32_t p = 0; p < in.table.size(); ++p)
    if (in.draining.contains(in.table[p].owner)) {
      writes[p] = start_move(in.table[p], least_loaded(load, in.table[p]));
      writes[p].pinned = false;  // the drain overrides where the operator had placed it
      return writes;
    }

  const auto idlest = std::ranges::min_element(load, [](const auto& x, const auto& y) { return x.second < y.second; });
  if (const auto pick = partition_to_balance(in.table, load, idlest->first, idlest->second))
    writes[*pick] = start_move(in.table[*pick], idlest->first);
  return writes;
}

}  // namespace perdure::storage
