#include "storage/directory.h"

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

std::string sha256_hex(std::string_view s) { return sha256_hex_of(sha256(s)); }

}  // namespace tollgate
