#include "storage/memory_response_store.h"

#include <algorithm>

namespace tollgate::storage {

MemoryResponseStore::MemoryResponseStore(std::size_t max_bytes) : max_bytes_(max_bytes) {}

void MemoryResponseStore::put(const StoredResponse& response) {
  auto split = check_response(response);
  const std::size_t size = response.size_bytes();
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(response.id); it != entries_.end()) erase(it);
  if (size > max_bytes_) return;
  while (bytes_ + size > max_bytes_ && !lru_.empty()) erase(entries_.find(lru_.back()));
  Entry e;
  e.head = response;
  e.head.input_json.clear();
  e.head.output_json.clear();
  e.input = std::move(split.input);
  e.output = std::move(split.output);
  e.bytes = size;
  lru_.push_front(response.id);
  e.lru = lru_.begin();
  for (const auto* items : {&e.input, &e.output}) {
    for (const auto& item : *items) item_index_.emplace(item.id, response.id);
  }
  bytes_ += size;
  entries_.emplace(response.id, std::move(e));
}

void MemoryResponseStore::erase(std::unordered_map<std::string, Entry>::iterator it) {
  auto [first, last] = std::pair{item_index_.end(), item_index_.end()};
  for (const auto* items : {&it->second.input, &it->second.output}) {
    for (const auto& item : *items) {
      std::tie(first, last) = item_index_.equal_range(item.id);
      for (auto i = first; i != last;) i = i->second == it->first ? item_index_.erase(i) : std::next(i);
    }
  }
  lru_.erase(it->second.lru);
  bytes_ -= it->second.bytes;
  entries_.erase(it);
}

MemoryResponseStore::Entry* MemoryResponseStore::find(const std::string& id, const std::string& owner, TimePoint now) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.head.owner != owner || it->second.head.expires_at <= now) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return &it->second;
}

std::optional<StoredResponse> MemoryResponseStore::get(const std::string& id, const std::string& owner, TimePoint now) {
  std::lock_guard lock(mu_);
  const Entry* e = find(id, owner, now);
  if (!e) return std::nullopt;
  StoredResponse r = e->head;
  r.input_json = join_items(e->input);
  r.output_json = join_items(e->output);
  return r;
}

bool MemoryResponseStore::remove(const std::string& id, const std::string& owner, TimePoint now) {
  std::lock_guard lock(mu_);
  if (!find(id, owner, now)) return false;
  erase(entries_.find(id));
  return true;
}

std::optional<ItemPage> MemoryResponseStore::input_items(const std::string& id, const std::string& owner,
                                                         const ItemQuery& query, TimePoint now) {
  std::lock_guard lock(mu_);
  const Entry* e = find(id, owner, now);
  if (!e) return std::nullopt;
  return page_items(e->input, query);
}

std::optional<std::string> MemoryResponseStore::find_item(const std::string& item_id, const std::string& owner,
                                                          TimePoint now) {
  std::lock_guard lock(mu_);
  const Entry* best = nullptr;
  const ItemRecord* found = nullptr;
  auto [first, last] = item_index_.equal_range(item_id);
  for (auto i = first; i != last; ++i) {
    auto it = entries_.find(i->second);
    if (it == entries_.end()) continue;
    const Entry& e = it->second;
    if (e.head.owner != owner || e.head.expires_at <= now) continue;
    if (best && best->head.created_at >= e.head.created_at) continue;
    for (const auto* items : {&e.input, &e.output}) {
      for (const auto& item : *items) {
        if (item.id == item_id) {
          best = &e;
          found = &item;
        }
      }
    }
  }
  if (!found) return std::nullopt;
  std::string out = found->json;
  find(best->head.id, owner, now);  // a use
  return out;
}

std::optional<Conversation> MemoryResponseStore::conversation(const std::string& previous_response_id,
                                                              const std::string& owner, int max_depth, TimePoint now) {
  if (!valid_response_id(previous_response_id)) return std::nullopt;
  std::lock_guard lock(mu_);
  std::vector<const Entry*> chain;
  std::string next = previous_response_id;
  Conversation c;
  while (!next.empty()) {
    if (static_cast<int>(chain.size()) >= std::max(1, max_depth)) {
      c.truncated = true;
      break;
    }
    const Entry* e = find(next, owner, now);
    if (!e) {
      if (chain.empty()) return std::nullopt;
      c.truncated = true;
      break;
    }
    chain.push_back(e);
    next = e->head.previous_response_id;
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    c.turns.push_back((*it)->head.id);
    for (const auto* items : {&(*it)->input, &(*it)->output}) {
      for (const auto& item : *items) c.items.push_back(item.json);
    }
  }
  return c;
}

int64_t MemoryResponseStore::purge_expired(TimePoint now) {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.head.expires_at <= now) {
      erase(it);
      ++n;
    }
    it = next;
  }
  return n;
}

std::size_t MemoryResponseStore::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t MemoryResponseStore::count() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace tollgate::storage
