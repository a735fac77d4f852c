#include "storage/directory.h"

#include <algorithm>
#include <unordered_set>

#include "common/sha256.h"

namespace tollgate {

std::shared_ptr<const Directory> Directory::build(Store::Snapshot snapshot) {
  auto d = std::make_shared<Directory>();
  d->version_ = snapshot.version;
  for (auto& k : snapshot.keys) {
    auto rec = std::make_shared<const KeyRecord>(std::move(k));
    d->keys_.emplace(rec->token_hash, rec);
    d->keys_by_id_.emplace(rec->key_id, rec);
  }
  for (auto& t : snapshot.teams) {
    auto id = t.team_id;
    d->teams_.emplace(std::move(id), std::make_shared<const TeamRecord>(std::move(t)));
  }
  for (auto& u : snapshot.users) {
    auto id = u.user_id;
    d->users_.emplace(std::move(id), std::make_shared<const UserRecord>(std::move(u)));
  }
  for (auto& e : snapshot.end_users) {
    auto id = e.end_user_id;
    d->end_users_.emplace(std::move(id), std::make_shared<const EndUserRecord>(std::move(e)));
  }
  for (const auto& [id, key] : d->keys_by_id_) {
    if (key->spend <= 0 || key->created_by.empty() || key->created_by == "master") continue;
    std::unordered_set<std::string> booked{"key:" + key->key_id, "team:" + key->team_id, "user:" + key->user_id};
    for (const auto& a : d->ancestors(key->key_id)) {
      for (std::string scope : {"key:" + a->key_id, "team:" + a->team_id, "user:" + a->user_id}) {
        if (scope.back() != ':' && booked.insert(scope).second) d->drawn_spend_[scope] += key->spend;
      }
    }
  }
  return d;
}

std::shared_ptr<const Directory> Directory::empty() { return std::make_shared<const Directory>(); }

namespace {
template <class Map>
auto find_in(const Map& m, const std::string& id) -> typename Map::mapped_type {
  auto it = m.find(id);
  return it == m.end() ? nullptr : it->second;
}
}  // namespace

std::shared_ptr<const KeyRecord> Directory::key_by_hash(const std::string& h) const { return find_in(keys_, h); }
std::shared_ptr<const KeyRecord> Directory::key_by_id(const std::string& id) const { return find_in(keys_by_id_, id); }
std::shared_ptr<const TeamRecord> Directory::team(const std::string& id) const { return find_in(teams_, id); }
std::shared_ptr<const UserRecord> Directory::user(const std::string& id) const { return find_in(users_, id); }
std::shared_ptr<const EndUserRecord> Directory::end_user(const std::string& id) const {
  return find_in(end_users_, id);
}

std::vector<std::shared_ptr<const KeyRecord>> Directory::ancestors(const std::string& key_id) const {
  std::vector<std::shared_ptr<const KeyRecord>> out;
  auto k = key_by_id(key_id);
  while (k && out.size() < 16) {
    k = k->created_by == "master" ? nullptr : key_by_id(k->created_by);
    // created_by is fixed at insertion, so a cycle needs a forged store; stop at one anyway.
    if (!k || k->key_id == key_id ||
        std::any_of(out.begin(), out.end(), [&](const auto& seen) { return seen->key_id == k->key_id; })) {
      break;
    }
    out.push_back(k);
  }
  return out;
}

double Directory::drawn_spend(const std::string& scope_id) const {
  auto it = drawn_spend_.find(scope_id);
  return it == drawn_spend_.end() ? 0 : it->second;
}

std::string sha256_hex(std::string_view s) { return sha256_hex_of(sha256(s)); }

}  // namespace tollgate
