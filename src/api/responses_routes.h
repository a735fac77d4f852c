#pragma once
// The stored-response routes of the Responses API, answered by the gateway
// itself from the ResponseArchive (after the key middleware, like every API
// route):
//   GET    /v1/responses/{id}               the stored Response object
//   DELETE /v1/responses/{id}               {"id","object":"response.deleted","deleted":true}
//   GET    /v1/responses/{id}/input_items   a list page (?limit=&order=&after=)
//   POST   /v1/responses/input_tokens       {"object":"response.input_tokens","input_tokens":N}
// A response of another owner (owner_of) is answered exactly like a missing
// one: 404.

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/response_store.h"

namespace tollgate {

class ResponseArchive;

// The access scope a caller's stored responses belong to (response_store.h):
// "team:<team_id>", "key:<key_id>", "static:<name>", "master", or
// "anonymous" (no principal, or the open-access one when no keys are configured).
std::string owner_of(const RequestContext& ctx, const Config& config);

// Which stored-response route a path ("/v1/responses/...", without query)
// names; `id` is the raw path segment (not yet validated).
struct ResponsesPath {
  enum class Kind { none, object, input_items, input_tokens } kind = Kind::none;
  std::string id;
};
ResponsesPath parse_responses_path(std::string_view path);

// The query of GET .../input_items: limit (1..100, default 20), order
// (asc|desc, default desc), after (an item id); include[] and unknown
// parameters are ignored. A 400 naming the parameter otherwise. Never
// echoes the client's bytes.
Result<ItemQuery> parse_input_items_query(std::string_view query);

// 404 in OpenAI's words: "Response with id '<id>' not found." (a hostile id
// is not echoed).
ApiError response_not_found(std::string_view id);
// 400 previous_response_not_found (param previous_response_id), for POST
// /v1/responses with a previous_response_id that get() does not find.
ApiError previous_response_not_found(std::string_view id);

struct StoredResponsesReply {
  int status = 200;
  std::string body;
  std::string error_type;  // OpenAI error type, "" on success
  std::string error_message;
};

// Answers one stored-response request. archive null: 503 (not built).
// Database failures become 503.
boost::asio::awaitable<StoredResponsesReply> serve_stored_responses(ResponseArchive* archive, const RequestContext& ctx,
                                                              const Config& config, boost::beast::http::verb method,
                                                              std::string_view target);

}  // namespace tollgate
