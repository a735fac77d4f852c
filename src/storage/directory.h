#pragma once
// An immutable in-memory copy of the store's keys, teams, users and end users,
// so that authenticating a request costs no database call. A new Directory
// replaces the old one after every admin write and whenever another gateway
// changed the store (Store::change_version, polled).

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tollgate/store.h"

namespace tollgate {

class Directory {
 public:
  static std::shared_ptr<const Directory> build(Store::Snapshot snapshot);
  static std::shared_ptr<const Directory> empty();

  // `token_hash`: lowercase hex SHA-256 of the presented key.
  std::shared_ptr<const KeyRecord> key_by_hash(const std::string& token_hash) const;
  std::shared_ptr<const KeyRecord> key_by_id(const std::string& key_id) const;
  std::shared_ptr<const TeamRecord> team(const std::string& team_id) const;
  std::shared_ptr<const UserRecord> user(const std::string& user_id) const;
  std::shared_ptr<const EndUserRecord> end_user(const std::string& end_user_id) const;
  // The keys above `key_id`'s in the minting chain, nearest first: the key
  // that created it (created_by), the key that created that one, and so on,
  // stopping at the master key, a key no longer stored, or after 16 keys.
  std::vector<std::shared_ptr<const KeyRecord>> ancestors(const std::string& key_id) const;
  // A key draws on the budgets of its ancestors' keys, teams and users
  // (budget_scopes). The store books a spend row only on the row's own key,
  // team and user, so this is the stored spend of the keys that draw on the
  // budget scope `scope_id` ("key:<id>", "team:<id>" or "user:<id>") without
  // being booked on it: a budget seeded from the store adds it.
  double drawn_spend(const std::string& scope_id) const;
  int64_t version() const { return version_; }
  std::size_t key_count() const { return keys_.size(); }

 private:
  int64_t version_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const KeyRecord>> keys_;  // by token_hash
  std::unordered_map<std::string, std::shared_ptr<const KeyRecord>> keys_by_id_;
  std::unordered_map<std::string, std::shared_ptr<const TeamRecord>> teams_;
  std::unordered_map<std::string, std::shared_ptr<const UserRecord>> users_;
  std::unordered_map<std::string, std::shared_ptr<const EndUserRecord>> end_users_;
  std::unordered_map<std::string, double> drawn_spend_;  // by budget scope id
};

// The current Directory, shared by every worker. Thread-safe.
class DirectoryHolder {
 public:
  DirectoryHolder() : current_(Directory::empty()) {}
  std::shared_ptr<const Directory> get() const { return std::atomic_load(&current_); }
  void set(std::shared_ptr<const Directory> d) {
    std::atomic_store(&current_, std::move(d));
    loaded_.store(true);
  }
  // False until the store was read once (the database may be down at start).
  bool loaded() const { return loaded_.load(); }

 private:
  std::shared_ptr<const Directory> current_;
  std::atomic<bool> loaded_{false};
};

// Lowercase hex SHA-256, the form keys are stored and looked up in.
std::string sha256_hex(std::string_view s);

}  // namespace tollgate
