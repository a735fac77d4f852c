#pragma once
// Gemini's `thoughtSignature` (wire formats §3.7) is state an OpenAI client
// cannot carry: the gateway keeps it, keyed by the tool-call id it handed
// out, and re-attaches it when the client replays that call. Gemini 3 models
// reject a replayed functionCall without its signature.
//
// Thread-safe: one store is shared by every worker's adapter, because the
// follow-up request may land on another worker. Bounded by entry count and
// age; a miss (evicted, another gateway instance, a restart) simply sends the
// call without a signature.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tollgate::gemini {

class ThoughtSignatureStore {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit ThoughtSignatureStore(std::size_t max_entries = 10000,
                                 std::chrono::seconds ttl = std::chrono::hours(6), Clock clock = {});

  // The process-wide store the adapters use.
  static ThoughtSignatureStore& shared();

  // Remembers `signature` for tool call `id`, produced by `model`.
  void put(const std::string& id, const std::string& model, const std::string& signature);
  // The signature for `id` if it was produced by `model`: a signature replayed
  // to another model fails ("Invalid/Corrupted thought signature"), so a
  // conversation re-routed elsewhere gets none.
  std::optional<std::string> find(const std::string& id, const std::string& model) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string model;
    std::string signature;
    std::chrono::steady_clock::time_point stored;
  };
  void evict_locked(std::chrono::steady_clock::time_point now);
  std::chrono::steady_clock::time_point now() const;

  std::size_t max_entries_;
  std::chrono::seconds ttl_;
  Clock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;  // insertion order, for eviction
};

}  // namespace tollgate::gemini
