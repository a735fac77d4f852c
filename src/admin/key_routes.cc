// /key/* routes of the admin API.

#include "admin/admin_api.h"
#include "admin/records_json.h"

namespace tollgate {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// A key may be named by the key itself, its token hash or its key_id.
std::optional<KeyRecord> resolve_key(Store& s, const std::string& ref) {
  if (ref.starts_with("sk-")) return s.find_key_by_hash(sha256_hex(ref));
  if (is_hex64(ref)) return s.find_key_by_hash(ref);
  return s.find_key(ref);
}

std::optional<ApiError> key_ref(const json& body, const char* field, std::string& out) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return ApiError::bad_request("Missing '" + std::string(field) + "': the key, its token or its key_id.", field,
                                 "missing_required_parameter");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

ApiError key_not_found() { return ApiError::not_found("No such key.", "key_not_found", "key"); }

// A team or user newly named by a key must exist (one named before may have
// been deleted since: the key keeps it), and the user must be one the caller
// may assign.
std::optional<ApiError> check_owners(Store& s, const CallerBounds& b, const KeyRecord* before, const KeyRecord& k) {
  if (!k.team_id.empty() && !(before && before->team_id == k.team_id) && !s.find_team(k.team_id)) {
    return ApiError::bad_request("Unknown team_id '" + k.team_id + "'. Create it with /team/new first.", "team_id",
                                 "team_not_found");
  }
  if (k.user_id.empty() || (before && before->user_id == k.user_id)) return std::nullopt;
  const auto user = s.find_user(k.user_id);
  if (!user) {
    return ApiError::bad_request("Unknown user_id '" + k.user_id + "'. Create it with /user/new first.", "user_id",
                                 "user_not_found");
  }
  return check_user_assignment(b, k.user_id, &*user);
}

// The key as it would be written fits the caller's rights. `before` is the
// stored key for updates, null for a new one.
std::optional<ApiError> check_key_grant(const CallerBounds& b, const KeyRecord* before, const KeyRecord& k) {
  if (b.master) return std::nullopt;
  if (auto e = check_team_membership(b, k.team_id)) return e;
  if (auto e = check_subset(entitlements_of(k), b.rights)) return e;
  if (before) return check_blocked_change(b, before->blocked, k.blocked);
  return std::nullopt;
}

}  // namespace

asio::awaitable<AdminReply> AdminApi::key_generate(Call& c) {
  const TimePoint now = now_();
  KeyRecord k;
  k.key_id = random_hex(16);
  k.created_by = c.bounds.master ? "master" : c.bounds.key_id;
  k.created_at = k.updated_at = now;
  std::string secret;
  if (auto it = c.body.find("key"); it != c.body.end() && !it->is_null()) {
    // A caller-chosen key (LiteLLM allows it): it must look like one and be long enough to be a secret.
    if (!it->is_string() || !it->get_ref<const std::string&>().starts_with("sk-") ||
        it->get_ref<const std::string&>().size() < 20 || it->get_ref<const std::string&>().size() > 256) {
      co_return error_reply(ApiError::bad_request("Invalid 'key': a custom key must start with \"sk-\" and have 20 to 256 characters.", "key"));
    }
    secret = it->get<std::string>();
  } else {
    secret = new_virtual_key();
  }
  if (auto e = apply_key_fields(c.body, k, now)) co_return error_reply(*e);
  if (auto e = check_key_grant(c.bounds, nullptr, k)) co_return error_reply(*e);
  k.token_hash = sha256_hex(secret);
  k.key_name = key_display_name(secret);

  std::optional<ApiError> error;
  bool inserted = false;
  const AuditEvent ev = audit(c, "key.generate", "key", k.key_id, nullptr, key_json(k));
  std::function<void(Store&)> job = [&](Store& s) {
    error = check_owners(s, c.bounds, nullptr, k);
    if (!error) inserted = s.insert_key(k, ev);
  };
  co_await db(job);
  if (error) co_return error_reply(*error);
  if (!inserted) {
    co_return error_reply(ApiError::bad_request("A key with this value or key_alias already exists.", "key_alias", "conflict"));
  }
  co_await refresh();
  json out = key_json(k);
  out["key"] = secret;  // shown once; only its hash is stored
  co_return json_reply(out);
}

asio::awaitable<AdminReply> AdminApi::key_update(Call& c) {
  std::string ref;
  if (auto e = key_ref(c.body, "key", ref)) co_return error_reply(*e);
  std::optional<KeyRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = resolve_key(s, ref); };
  co_await db(load);
  if (!found) co_return error_reply(key_not_found());
  if (auto e = check_key_access(c.bounds, *found, true)) co_return error_reply(*e);
  KeyRecord k = *found;
  const TimePoint now = now_();
  if (auto e = apply_key_fields(c.body, k, now)) co_return error_reply(*e);
  if (auto e = check_key_grant(c.bounds, &*found, k)) co_return error_reply(*e);
  k.updated_at = now;
  std::optional<ApiError> error;
  bool updated = false;
  const AuditEvent ev = audit(c, "key.update", "key", k.key_id, key_json(*found), key_json(k));
  std::function<void(Store&)> job = [&](Store& s) {
    error = check_owners(s, c.bounds, &*found, k);
    if (!error) updated = s.update_key(k, ev);
  };
  co_await db(job);
  if (error) co_return error_reply(*error);
  if (!updated) co_return error_reply(ApiError::bad_request("The key changed or its key_alias is taken; nothing was updated.", "key_alias", "conflict"));
  co_await refresh();
  co_return json_reply(key_json(k));
}

asio::awaitable<AdminReply> AdminApi::key_delete(Call& c) {
  std::vector<std::string> refs, aliases;
  auto read_list = [&](const char* field, std::vector<std::string>& out) -> std::optional<ApiError> {
    auto it = c.body.find(field);
    if (it == c.body.end() || it->is_null()) return std::nullopt;
    if (!it->is_array()) return ApiError::bad_request("Invalid '" + std::string(field) + "': expected an array of strings.", field);
    for (const auto& v : *it) {
      if (!v.is_string()) return ApiError::bad_request("Invalid '" + std::string(field) + "': expected an array of strings.", field);
      out.push_back(v.get<std::string>());
    }
    return std::nullopt;
  };
  if (auto e = read_list("keys", refs)) co_return error_reply(*e);
  if (auto e = read_list("key_aliases", aliases)) co_return error_reply(*e);
  if (refs.empty() && aliases.empty()) {
    co_return error_reply(ApiError::bad_request("Name the keys to delete in 'keys' (or 'key_aliases').", "keys", "missing_required_parameter"));
  }
  // Resolve and authorise every key first: all or nothing.
  std::vector<KeyRecord> targets;
  std::optional<std::string> missing;
  std::function<void(Store&)> load = [&](Store& s) {
    for (const auto& r : refs) {
      auto k = resolve_key(s, r);
      if (!k) {
        missing = r.starts_with("sk-") ? key_display_name(r) : r;
        return;
      }
      targets.push_back(*k);
    }
    if (!aliases.empty()) {
      auto all = s.list_keys("", "", 100000, 0);
      for (const auto& a : aliases) {
        auto it = std::find_if(all.begin(), all.end(), [&](const KeyRecord& k) { return k.key_alias == a; });
        if (it == all.end()) {
          missing = a;
          return;
        }
        targets.push_back(*it);
      }
    }
  };
  co_await db(load);
  if (missing) co_return error_reply(ApiError::not_found("No such key: " + *missing + ". Nothing was deleted.", "key_not_found", "keys"));
  for (const auto& k : targets) {
    if (auto e = check_key_access(c.bounds, k, true)) co_return error_reply(*e);
  }
  json deleted = json::array();
  std::vector<AuditEvent> events;
  for (const auto& k : targets) events.push_back(audit(c, "key.delete", "key", k.key_id, key_json(k), nullptr));
  std::function<void(Store&)> job = [&](Store& s) {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (s.delete_key(targets[i].key_id, events[i])) deleted.push_back(targets[i].token_hash);
    }
  };
  co_await db(job);
  co_await refresh();
  co_return json_reply({{"deleted_keys", deleted}});
}

asio::awaitable<AdminReply> AdminApi::key_info(Call& c) {
  std::string ref = c.query.count("key") ? c.query.at("key") : "";
  std::optional<KeyRecord> found;
  std::function<void(Store&)> load = [&](Store& s) {
    if (!ref.empty()) {
      found = resolve_key(s, ref);
    } else if (!c.bounds.key_id.empty()) {
      found = s.find_key(c.bounds.key_id);  // no key named: the caller's own
    }
  };
  co_await db(load);
  if (!found) co_return error_reply(key_not_found());
  // Anyone may read their own key; other keys need the admin rights on them.
  const bool own = found->key_id == c.bounds.key_id;
  if (!own) {
    if (!may_call(c.caller, "/key/update")) {
      co_return error_reply(ApiError::forbidden("You may only read your own key.", "not_allowed"));
    }
    if (auto e = check_key_access(c.bounds, *found, false)) co_return error_reply(*e);
  }
  co_return json_reply({{"key", ref.empty() ? found->token_hash : (ref.starts_with("sk-") ? found->token_hash : ref)},
                        {"info", key_json(*found)}});
}

asio::awaitable<AdminReply> AdminApi::key_list(Call& c) {
  int page = 1, size = 50;
  try {
    if (c.query.count("page")) page = std::max(1, std::stoi(c.query.at("page")));
    if (c.query.count("size")) size = std::clamp(std::stoi(c.query.at("size")), 1, 1000);
  } catch (const std::exception&) {
    co_return error_reply(ApiError::bad_request("Invalid 'page' or 'size': expected integers.", "page"));
  }
  std::string team = c.query.count("team_id") ? c.query.at("team_id") : "";
  const std::string user = c.query.count("user_id") ? c.query.at("user_id") : "";
  if (!c.bounds.master && !c.bounds.team_id.empty()) team = c.bounds.team_id;  // team admins see their team
  std::vector<KeyRecord> keys;
  std::function<void(Store&)> load = [&](Store& s) { keys = s.list_keys(team, user, 100000, 0); };
  co_await db(load);
  if (!c.bounds.master && c.bounds.team_id.empty()) {
    std::erase_if(keys, [&](const KeyRecord& k) { return k.created_by != c.bounds.key_id; });
  }
  const bool full = c.query.count("return_full_object") && c.query.at("return_full_object") == "true";
  json out = json::array();
  const std::size_t first = static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(size);
  for (std::size_t i = first; i < keys.size() && i < first + static_cast<std::size_t>(size); ++i) {
    out.push_back(full ? key_json(keys[i]) : json(keys[i].token_hash));
  }
  const int total = static_cast<int>(keys.size());
  co_return json_reply({{"keys", out},
                        {"total_count", total},
                        {"current_page", page},
                        {"total_pages", (total + size - 1) / size}});
}

asio::awaitable<AdminReply> AdminApi::key_regenerate(Call& c) {
  std::string ref = c.path_arg;
  if (ref.empty()) {
    if (auto e = key_ref(c.body, "key", ref)) co_return error_reply(*e);
  }
  std::optional<KeyRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = resolve_key(s, ref); };
  co_await db(load);
  if (!found) co_return error_reply(key_not_found());
  if (auto e = check_key_access(c.bounds, *found, true)) co_return error_reply(*e);
  KeyRecord k = *found;
  const TimePoint now = now_();
  json fields = c.body.is_object() ? c.body : json::object();
  fields.erase("new_master_key");
  if (auto e = apply_key_fields(fields, k, now)) co_return error_reply(*e);
  if (auto e = check_key_grant(c.bounds, &*found, k)) co_return error_reply(*e);
  const std::string secret = new_virtual_key();
  k.token_hash = sha256_hex(secret);
  k.key_name = key_display_name(secret);
  k.updated_at = now;
  bool updated = false;
  std::optional<ApiError> error;
  const AuditEvent ev = audit(c, "key.regenerate", "key", k.key_id, key_json(*found), key_json(k));
  std::function<void(Store&)> job = [&](Store& s) {
    error = check_owners(s, c.bounds, &*found, k);
    if (!error) updated = s.update_key(k, ev);
  };
  co_await db(job);
  if (error) co_return error_reply(*error);
  if (!updated) co_return error_reply(key_not_found());
  co_await refresh();
  json out = key_json(k);
  out["key"] = secret;
  co_return json_reply(out);
}

asio::awaitable<AdminReply> AdminApi::key_block(Call& c) { return key_set_blocked(c, true); }
asio::awaitable<AdminReply> AdminApi::key_unblock(Call& c) { return key_set_blocked(c, false); }

asio::awaitable<AdminReply> AdminApi::key_set_blocked(Call& c, bool blocked) {
  std::string ref;
  if (auto e = key_ref(c.body, "key", ref)) co_return error_reply(*e);
  std::optional<KeyRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = resolve_key(s, ref); };
  co_await db(load);
  if (!found) co_return error_reply(key_not_found());
  if (auto e = check_key_access(c.bounds, *found, true)) co_return error_reply(*e);
  KeyRecord k = *found;
  k.blocked = blocked;
  k.updated_at = now_();
  bool updated = false;
  const AuditEvent ev = audit(c, blocked ? "key.block" : "key.unblock", "key", k.key_id, key_json(*found), key_json(k));
  std::function<void(Store&)> job = [&](Store& s) { updated = s.update_key(k, ev); };
  co_await db(job);
  if (!updated) co_return error_reply(key_not_found());
  co_await refresh();
  co_return json_reply(key_json(k));
}

}  // namespace tollgate
