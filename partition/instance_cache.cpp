#include "instance_cache.hpp"

namespace perdure::partition {

cached_instance& instance_cache::touch(const std::string& instance_id) {
  auto [it, inserted] = entries_.try_emplace(instance_id);
  auto& entry = it->second;
  if (inserted) {
    entry.slot.instance_id = instance_id;
    entry.lru_position = lru_.insert(lru_.begin(), &entry);
  } else {
    lru_.splice(lru_.begin(), lru_, entry.lru_position);  // no allocation: this runs for every message
  }
  return entry;
}

cached_instance* instance_cache::find(const std::string& instance_id) {
  auto it = entries_.find(instance_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void instance_cache::enqueue(cached_instance& entry, message msg) {
  entry.inbox.push_back(std::move(msg));
  mark_dirty(entry);
}

void instance_cache::revive(cached_instance& entry) {
  entry.revive = true;
  mark_dirty(entry);
}

void instance_cache::mark_dirty(cached_instance& entry) {
  if (!entry.dirty) {
    entry.dirty = true;
    dirty_.push_back(&entry);
  }
}

std::vector<cached_instance*> instance_cache::take_dirty() {
  std::vector<cached_instance*> taken;
  taken.swap(dirty_);
  for (auto* entry : taken) entry->dirty = false;
  return taken;
}

void instance_cache::forget(const std::string& instance_id) {
  auto it = entries_.find(instance_id);
  if (it == entries_.end()) return;
  auto& entry = it->second;
  if (entry.dirty || entry.busy()) {
    entry.slot.record_loaded = false;
    entry.slot.record.reset();
    entry.slot.executor.reset();
    return;
  }
  lru_.erase(entry.lru_position);
  entries_.erase(it);
}

void instance_cache::evict_idle(size_t touched) {
  size_t budget = 256 + 2 * touched;
  while (entries_.size() > max_cached_ && budget-- > 0) {
    auto* victim = lru_.back();
    if (victim->busy() || victim->dirty) {
      lru_.splice(lru_.begin(), lru_, victim->lru_position);
      continue;
    }
    lru_.pop_back();
    entries_.erase(entries_.find(victim->slot.instance_id));
  }
}

void instance_cache::clear() {
  entries_.clear();
  lru_.clear();
  dirty_.clear();
}

}  // namespace perdure::partition
