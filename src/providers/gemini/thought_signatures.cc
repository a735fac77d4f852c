#include "providers/gemini/thought_signatures.h"

namespace tollgate::gemini {

ThoughtSignatureStore::ThoughtSignatureStore(std::size_t max_entries, std::chrono::seconds ttl, Clock clock)
    : max_entries_(max_entries == 0 ? 1 : max_entries), ttl_(ttl), clock_(std::move(clock)) {}

ThoughtSignatureStore& ThoughtSignatureStore::shared() {
  static ThoughtSignatureStore store;
  return store;
}

std::chrono::steady_clock::time_point ThoughtSignatureStore::now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void ThoughtSignatureStore::evict_locked(std::chrono::steady_clock::time_point now) {
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    const bool stale = it == entries_.end() || now - it->second.stored >= ttl_;
    if (!stale && entries_.size() <= max_entries_) break;
    if (it != entries_.end()) entries_.erase(it);
    order_.pop_front();
  }
}

void ThoughtSignatureStore::put(const std::string& id, const std::string& model, const std::string& signature) {
  if (id.empty() || signature.empty()) return;
  const auto t = now();
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.insert_or_assign(id, Entry{model, signature, t});
  if (inserted) order_.push_back(id);
  evict_locked(t);
}

std::optional<std::string> ThoughtSignatureStore::find(const std::string& id, const std::string& model) const {
  const auto t = now();
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.model != model || t - it->second.stored >= ttl_) return std::nullopt;
  return it->second.signature;
}

std::size_t ThoughtSignatureStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace tollgate::gemini
