#include "admin/admin_api.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

namespace tollgate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

QueryParams parse_query(std::string_view target) {
  QueryParams out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  auto decode = [](std::string_view s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        r += ' ';
      } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        r += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        r += s[i];
      }
    }
    return r;
  };
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty()) out[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

AdminReply json_reply(const json& j, int status) { return {status, j.dump(), "application/json", {}, {}}; }
AdminReply error_reply(const ApiError& e) {
  return {e.status, e.body(), "application/json", e.code.empty() ? e.type : e.code, e.message};
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string new_virtual_key() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "sk-";
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : buf) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += b64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += b64[(acc << (6 - bits)) & 63];
  return out;
}

std::string key_display_name(const std::string& key) {
  return key.size() >= 12 ? "sk-..." + key.substr(key.size() - 4) : "sk-...";
}

AdminApi::AdminApi(std::shared_ptr<DbPool> db, std::shared_ptr<DirectoryHolder> directory, Now now)
    : db_(std::move(db)), directory_(std::move(directory)), now_(std::move(now)) {}

asio::awaitable<void> AdminApi::db(std::function<void(Store&)> job) { co_await db_->run(std::move(job)); }

asio::awaitable<void> AdminApi::refresh() {
  Store::Snapshot snap;
  std::function<void(Store&)> job = [&snap](Store& s) { snap = s.snapshot(); };
  co_await db_->run(job);
  directory_->set(Directory::build(std::move(snap)));
}

AuditEvent AdminApi::audit(const Call& c, std::string action, std::string type, std::string id, json before,
                           json after) const {
  AuditEvent e;
  e.event_id = random_hex(16);
  e.at = now_();
  e.actor = c.bounds.actor;
  e.action = std::move(action);
  e.object_type = std::move(type);
  e.object_id = std::move(id);
  e.before = std::move(before);
  e.after = std::move(after);
  return e;
}

const AdminApi::Entry* AdminApi::find_route(std::string_view path) {
  static const Entry kRoutes[] = {
      {"/key/generate", http::verb::post, &AdminApi::key_generate},
      {"/key/update", http::verb::post, &AdminApi::key_update},
      {"/key/delete", http::verb::post, &AdminApi::key_delete},
      {"/key/info", http::verb::get, &AdminApi::key_info},
      {"/key/list", http::verb::get, &AdminApi::key_list},
      {"/key/regenerate", http::verb::post, &AdminApi::key_regenerate},
      {"/key/block", http::verb::post, &AdminApi::key_block},
      {"/key/unblock", http::verb::post, &AdminApi::key_unblock},
      {"/team/new", http::verb::post, &AdminApi::team_new},
      {"/team/update", http::verb::post, &AdminApi::team_update},
      {"/team/delete", http::verb::post, &AdminApi::team_delete},
      {"/team/info", http::verb::get, &AdminApi::team_info},
      {"/team/list", http::verb::get, &AdminApi::team_list},
      {"/user/new", http::verb::post, &AdminApi::user_new},
      {"/user/update", http::verb::post, &AdminApi::user_update},
      {"/user/delete", http::verb::post, &AdminApi::user_delete},
      {"/user/info", http::verb::get, &AdminApi::user_info},
      {"/user/list", http::verb::get, &AdminApi::user_list},
      {"/customer/new", http::verb::post, &AdminApi::customer_upsert},
      {"/customer/update", http::verb::post, &AdminApi::customer_upsert},
      {"/customer/info", http::verb::get, &AdminApi::customer_info},
      {"/spend/logs", http::verb::get, &AdminApi::spend_logs},
      {"/spend/report", http::verb::get, &AdminApi::spend_report},
  };
  for (const auto& e : kRoutes) {
    if (path == e.path) return &e;
  }
  return nullptr;
}

std::string AdminApi::recorded_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (find_route(path)) return std::string(path);
  if (path.starts_with("/key/") && path.ends_with("/regenerate")) return "/key/{key}/regenerate";
  // Anything else is a 404: record its collection only, never what follows
  // (a client may paste a key there).
  const auto second = path.find('/', 1);
  return std::string(path.substr(0, second == std::string_view::npos ? path.size() : second)) + "/{unknown}";
}

asio::awaitable<AdminReply> AdminApi::handle(const RequestContext& ctx, http::verb method, std::string_view target,
                                             const json& body) {
  std::string path(target.substr(0, target.find('?')));
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string path_arg;
  // LiteLLM also takes /key/{key}/regenerate.
  if (path.starts_with("/key/") && path.ends_with("/regenerate") && path != "/key/regenerate") {
    path_arg = path.substr(5, path.size() - 5 - 11);
    path = "/key/regenerate";
  }
  const Entry* found = find_route(path);
  if (!found) {
    co_return error_reply(
        ApiError::not_found("Unknown admin route: " + recorded_path(path) + ". See docs/admin-api.md.", "unknown_url"));
  }
  if (method != found->method) {
    co_return error_reply(ApiError{405, "invalid_request_error", "method_not_allowed",
                                   "Method " + std::string(http::to_string(method)) + " is not allowed on " + path +
                                       "; use " + std::string(http::to_string(found->method)) + ".",
                                   {}, {}});
  }
  if (ctx.principal && !ctx.principal->is_master && !ctx.principal->key && ctx.principal->key_name == "anonymous") {
    co_return error_reply(ApiError::forbidden(
        "The admin API needs the master key, and none is configured: set master_key in the config (config/example.yaml "
        "reads it from TOLLGATE_MASTER_KEY).",
        "not_allowed"));
  }
  if (!ctx.principal || !may_call(*ctx.principal, path)) {
    co_return error_reply(ApiError::forbidden("This key may not call " + path +
                                                  ": use the master key or a key whose allowed_routes include it.",
                                              "not_allowed"));
  }
  Call call{*ctx.principal, bounds_of(*ctx.principal), body, parse_query(target), path_arg};
  std::optional<AdminReply> reply;
  std::optional<std::string> failure;
  try {
    // A named awaitable: GCC 12 mishandles call temporaries in co_await operands.
    auto op = (this->*(found->handler))(call);
    reply = co_await std::move(op);
  } catch (const StoreError& e) {
    failure = e.what();
    if (e.kind() == StoreError::Kind::conflict) {
      reply = error_reply(ApiError::bad_request("Conflict: " + std::string(e.what()), {}, "conflict"));
    } else if (e.kind() == StoreError::Kind::invalid) {
      reply = error_reply(ApiError::bad_request(e.what(), {}, "invalid_value"));
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!reply) {
    spdlog::error("[{}] admin {} failed: {}", ctx.request_id, path, failure.value_or("unknown error"));
    co_return error_reply(ApiError::unavailable("The database is unavailable; the change was not made. Retry later.", 5));
  }
  co_return *reply;
}

}  // namespace tollgate
