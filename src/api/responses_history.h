#pragma once
// Stored responses on the POST /v1/responses path: what connects the
// request and stream translators (responses_request.h, responses_sink.h) to
// the ResponseArchive.
//
//  - Before translation, fetch_response_history() reads what the request
//    names from the archive, asynchronously (the archive runs the database
//    on its pool): the conversation behind `previous_response_id` and every
//    `item_reference` in `input`, for the caller's owner only. The result is
//    a ResponseItemResolver that the synchronous translator then asks.
//  - After the answer, stored_response() builds the record of one turn
//    (the client's input items with ids, the Response's output items, the
//    Response itself), which the sink puts in the archive before the client
//    sees the response, so that a follow-up naming it always finds it.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include "api/responses_request.h"
#include "tollgate/error.h"
#include "tollgate/json_view.h"
#include "tollgate/response_store.h"

namespace tollgate {

class ResponseArchive;

// More item_reference inputs than this in one request are refused (400):
// each is a lookup.
inline constexpr std::size_t kMaxItemReferences = 256;

// The stored items `body` (a Responses request) refers to, for `owner`.
// Null when it refers to none (or there is no archive: the translator then
// refuses previous_response_id and item_reference with a 400). A 503 when
// the database is unavailable; a 400 for too many references.
boost::asio::awaitable<Result<std::unique_ptr<ResponseItemResolver>>> fetch_response_history(
    ResponseArchive* archive, std::string owner, JsonView body);

// The client's `input` (a string or an array of items) as the array of
// items to store, each with an id; "[]" when it has none.
std::string input_items_to_store(JsonView body);

// The record of one turn: `response` is the Response object sent to the
// client (its id, model, output and previous_response_id are read from it).
// nullopt when it is not a Response with an id.
std::optional<StoredResponse> stored_response(const nlohmann::json& response, std::string owner,
                                              std::string input_items);

}  // namespace tollgate
