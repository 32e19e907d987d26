// A brute-force model of the instances in a hub, and the query checks run against it.
#pragma once

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

namespace perdure::storage::test {

class model {
 public:
  model(hub_store& hub, size_t count, unsigned seed) : rng_(seed) {
    static const char* prefixes[] = {"order-", "order-1", "ship-", "pay-", "p", "Z", "\xc3\xa9t\xc3\xa9-"};
    std::vector<commit_batch> batches(hub.partition_count());
    for (uint32_t p = 0; p < hub.partition_count(); ++p) batches[p].partition = p;
    for (size_t i = 0; i < count; ++i) {
      std::string id = prefixes[rng_() % std::size(prefixes)] + std::to_string(rng_() % 1'000'000) + "-" + std::to_string(i);
      auto rec = make_record(id, names_[rng_() % names_.size()], random_status(), at_ms(rng_() % 2000));
      records_[id] = rec;
      auto& b = batches[hub.partition_of(id)];
      b.episodes.push_back(start_batch(hub, rec, {every_event_kind()[0]}).episodes[0]);
      if (b.episodes.size() == 500) {
        hub.commit(b);
        b.episodes.clear();
      }
    }
    for (auto& b : batches) hub.commit(b);
  }

  /// Re-commits `count` random instances with a new status, and sometimes a new name.
  void change_statuses(hub_store& hub, size_t count) {
    std::vector<std::string> ids;
    for (auto& [id, r] : records_) ids.push_back(id);
    for (size_t i = 0; i < count; ++i) {
      auto& rec = records_[ids[rng_() % ids.size()]];
      rec.status = random_status();
      if (rng_() % 4 == 0) rec.name = names_[rng_() % names_.size()];
      commit_batch b;
      b.partition = hub.partition_of(rec.instance_id);
      b.episodes.push_back(update_episode(rec));
      b.episodes[0].appended = {every_event_kind()[8]};
      hub.commit(b);
    }
  }

  void erase(const std::string& id) { records_.erase(id); }
  const std::map<std::string, instance_record>& records() const { return records_; }

  std::vector<instance_record> expected(const instance_query& q) const {
    std::vector<instance_record> out;
    for (auto& [id, r] : records_) {
      if (!q.statuses.empty() && std::ranges::count(q.statuses, r.status) == 0) continue;
      if (!q.name.empty() && r.name != q.name) continue;
      if (q.created_from && r.created_at < *q.created_from) continue;
      if (q.created_to && r.created_at >= *q.created_to) continue;
      if (!id.starts_with(q.instance_id_prefix)) continue;
      out.push_back(r);
    }
    std::ranges::sort(out, [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.instance_id < b.instance_id;
    });
    return out;
  }

 private:
  runtime_status random_status() { return all_runtime_statuses[rng_() % all_runtime_statuses.size()]; }

  std::mt19937 rng_;
  std::vector<std::string> names_{"Fulfill", "Refund", "Ship", "Fulfillment"};
  std::map<std::string, instance_record> records_;
};

inline std::vector<instance_record> all_pages(const hub_store& hub, instance_query q) {
  std::vector<instance_record> out;
  q.continuation_token.clear();
  for (size_t pages = 0;; ++pages) {
    REQUIRE(pages <= 20'000);
    auto page = hub.list(q);
    REQUIRE(page.records.size() <= q.page_size);
    out.insert(out.end(), page.records.begin(), page.records.end());
    if (page.continuation_token.empty()) return out;
    REQUIRE(page.records.size() == q.page_size);  // only the last page may be short
    q.continuation_token = page.continuation_token;
  }
}

/// Every combination of filters, each at several page sizes, against the model.
inline void check_all_queries(const hub_store& hub, const model& m, unsigned seed) {
  using S = runtime_status;
  std::vector<std::vector<S>> status_sets = {{}, {S::running}, {S::completed, S::failed, S::terminated},
                                             {S::pending, S::suspended, S::continued_as_new}};
  std::vector<std::string> names = {"", "Fulfill", "Nobody"};
  std::vector<std::pair<std::optional<time_point>, std::optional<time_point>>> ranges = {
      {std::nullopt, std::nullopt}, {at_ms(500), at_ms(700)}, {at_ms(1990), std::nullopt},
      {std::nullopt, at_ms(3)}, {at_ms(800), at_ms(800)}};
  std::vector<std::string> prefixes = {"", "order-", "order-1", "\xc3\xa9", "nothing"};
  std::mt19937 rng(seed);
  size_t checked = 0;
  for (auto& statuses : status_sets)
    for (auto& name : names)
      for (auto& [from, to] : ranges)
        for (auto& prefix : prefixes) {
          instance_query q = with_statuses(statuses);
          q.name = name;
          q.created_from = from;
          q.created_to = to;
          q.instance_id_prefix = prefix;
          auto expected = m.expected(q);
          std::vector<size_t> sizes = {100'000, 1 + rng() % 2000};
          if (expected.size() <= 600) sizes.push_back(1 + rng() % 20);
          if (expected.size() <= 40) sizes.push_back(1);
          for (size_t size : sizes) {
            q.page_size = size;
            CAPTURE(statuses.size());
            CAPTURE(name);
            CAPTURE(prefix);
            CAPTURE(size);
            auto got = all_pages(hub, q);
            REQUIRE(got.size() == expected.size());
            CHECK(got == expected);
            ++checked;
          }
        }
  MESSAGE(checked << " query/page-size combinations checked");
}

}  // namespace perdure::storage::test
