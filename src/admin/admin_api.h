#pragma once
// The admin API: keys, teams, users, end users (customers) and spend, with
// LiteLLM's routes and field names (docs/admin-api.md). Authorised by the
// master key or a virtual key whose allowed_routes admit the route; the
// privilege rules are in admin/grants.h. Every change writes an audit event
// in the same transaction and refreshes the Directory before it answers, so
// the next request already sees it.
//
// All database work runs on the DbPool; handlers suspend, never block.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "admin/grants.h"
#include "storage/db_pool.h"
#include "storage/directory.h"
#include "tollgate/error.h"
#include "tollgate/request_context.h"

namespace tollgate {

struct AdminReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string error_code;     // errors: for the rejection row
  std::string error_message;
};

using QueryParams = std::map<std::string, std::string>;
// Splits and percent-decodes the query of a request target ("+" is a space).
QueryParams parse_query(std::string_view target);

class AdminApi {
 public:
  using Now = std::function<TimePoint()>;
  AdminApi(std::shared_ptr<DbPool> db, std::shared_ptr<DirectoryHolder> directory, Now now);

  // `ctx.principal` is set (auth ran). `body` is an object for POST routes
  // (an empty body reads as {}), null for GET.
  boost::asio::awaitable<AdminReply> handle(const RequestContext& ctx, boost::beast::http::verb method,
                                            std::string_view target, const nlohmann::json& body);

  // Reloads the Directory from the store (also used by the poller).
  boost::asio::awaitable<void> refresh();

  // The path of an admin request as logs, spans and ledger rows record it:
  // the route itself, "/key/{key}/regenerate" for that form, and
  // "<collection>/{unknown}" for any other path (a 404), so that nothing the
  // client put in the path (a pasted key) is recorded.
  static std::string recorded_path(std::string_view path);

 private:
  struct Call {
    const Principal& caller;
    CallerBounds bounds;
    const nlohmann::json& body;
    QueryParams query;
    std::string path_arg;  // {key} in /key/{key}/regenerate
  };
  using Handler = boost::asio::awaitable<AdminReply> (AdminApi::*)(Call&);
  struct Entry {
    const char* path;
    boost::beast::http::verb method;
    Handler handler;
  };
  static const Entry* find_route(std::string_view path);  // null: not an admin route

  boost::asio::awaitable<void> db(std::function<void(Store&)> job);
  AuditEvent audit(const Call& c, std::string action, std::string type, std::string id, nlohmann::json before,
                   nlohmann::json after) const;

  // key_routes.cc
  boost::asio::awaitable<AdminReply> key_generate(Call& c);
  boost::asio::awaitable<AdminReply> key_update(Call& c);
  boost::asio::awaitable<AdminReply> key_delete(Call& c);
  boost::asio::awaitable<AdminReply> key_info(Call& c);
  boost::asio::awaitable<AdminReply> key_list(Call& c);
  boost::asio::awaitable<AdminReply> key_regenerate(Call& c);
  boost::asio::awaitable<AdminReply> key_block(Call& c);
  boost::asio::awaitable<AdminReply> key_unblock(Call& c);
  boost::asio::awaitable<AdminReply> key_set_blocked(Call& c, bool blocked);
  // team_routes.cc
  boost::asio::awaitable<AdminReply> team_new(Call& c);
  boost::asio::awaitable<AdminReply> team_update(Call& c);
  boost::asio::awaitable<AdminReply> team_delete(Call& c);
  boost::asio::awaitable<AdminReply> team_info(Call& c);
  boost::asio::awaitable<AdminReply> team_list(Call& c);
  // user_routes.cc
  boost::asio::awaitable<AdminReply> user_new(Call& c);
  boost::asio::awaitable<AdminReply> user_update(Call& c);
  boost::asio::awaitable<AdminReply> user_delete(Call& c);
  boost::asio::awaitable<AdminReply> user_info(Call& c);
  boost::asio::awaitable<AdminReply> user_list(Call& c);
  boost::asio::awaitable<AdminReply> customer_upsert(Call& c);
  boost::asio::awaitable<AdminReply> customer_info(Call& c);
  // spend_routes.cc
  boost::asio::awaitable<AdminReply> spend_logs(Call& c);
  boost::asio::awaitable<AdminReply> spend_report(Call& c);

  std::shared_ptr<DbPool> db_;
  std::shared_ptr<DirectoryHolder> directory_;
  Now now_;
};

// Helpers shared by the route files.
AdminReply json_reply(const nlohmann::json& j, int status = 200);
AdminReply error_reply(const ApiError& e);
std::string random_hex(std::size_t bytes);
// "sk-" + 43 url-safe base64 characters (256 random bits).
std::string new_virtual_key();
// Display form: "sk-...Wx9a".
std::string key_display_name(const std::string& key);

}  // namespace tollgate
