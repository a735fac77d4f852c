#include "api/responses_routes.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "api/responses_input_tokens.h"
#include "storage/response_archive.h"

namespace tollgate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

std::string owner_of(const RequestContext& ctx, const Config& config) {
  if (!ctx.principal) return "anonymous";
  const Principal& p = *ctx.principal;
  if (p.is_master) return "master";
  if (p.key) return p.key->team_id.empty() ? "key:" + p.key->key_id : "team:" + p.key->team_id;
  if (config.open_access()) return "anonymous";
  return "static:" + p.key_name;
}

ResponsesPath parse_responses_path(std::string_view path) {
  constexpr std::string_view kPrefix = "/v1/responses/";
  ResponsesPath out;
  if (!path.starts_with(kPrefix)) return out;
  std::string_view rest = path.substr(kPrefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    out.kind = rest == "input_tokens" ? ResponsesPath::Kind::input_tokens : ResponsesPath::Kind::object;
    out.id = std::string(rest);
    if (out.kind == ResponsesPath::Kind::input_tokens) out.id.clear();
    return out;
  }
  if (rest.substr(slash + 1) == "input_items") {
    out.kind = ResponsesPath::Kind::input_items;
    out.id = std::string(rest.substr(0, slash));
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: %XX and '+'; a malformed escape is kept as is.
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

ApiError bad_query(std::string message, std::string param) {
  return ApiError::bad_request(std::move(message), std::move(param), "invalid_value");
}

StoredResponsesReply reply_error(const ApiError& e) { return {e.status, e.body(), e.type, e.message}; }

StoredResponsesReply reply_json(const json& j) { return {200, j.dump(-1, ' ', false, json::error_handler_t::replace), {}, {}}; }

// Builds {"object":"list",...} from a page of stored item texts without
// parsing them: they are JSON the store produced.
std::string list_body(const ItemPage& page) {
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < page.data.size(); ++i) {
    if (i) out += ',';
    out += page.data[i];
  }
  out += R"(],"first_id":)";
  out += page.first_id.empty() ? "null" : json(page.first_id).dump();
  out += R"(,"last_id":)";
  out += page.last_id.empty() ? "null" : json(page.last_id).dump();
  out += R"(,"has_more":)";
  out += page.has_more ? "true" : "false";
  out += '}';
  return out;
}

}  // namespace

Result<ItemQuery> parse_input_items_query(std::string_view query) {
  ItemQuery q;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string key = form_decode(pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    if (key == "limit") {
      int n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > 100) {
        return bad_query("Invalid 'limit': expected an integer between 1 and 100.", "limit");
      }
      q.limit = n;
    } else if (key == "order") {
      if (value == "asc") {
        q.order = ItemOrder::asc;
      } else if (value == "desc") {
        q.order = ItemOrder::desc;
      } else {
        return bad_query("Invalid 'order': expected 'asc' or 'desc'.", "order");
      }
    } else if (key == "after") {
      if (!value.empty() && !valid_item_id(value)) {
        return bad_query("Invalid 'after': expected an item id (letters, digits, '_' or '-').", "after");
      }
      q.after = value;
    }
  }
  return q;
}

ApiError response_not_found(std::string_view id) {
  if (!valid_response_id(id)) return ApiError::not_found("Response not found: no response has that id.", "");
  return ApiError::not_found("Response with id '" + std::string(id) + "' not found.", "");
}

ApiError previous_response_not_found(std::string_view id) {
  std::string message = valid_response_id(id) ? "Previous response with id '" + std::string(id) + "' not found."
                                               : std::string("Previous response not found: no response has that id.");
  return ApiError::bad_request(std::move(message), "previous_response_id", "previous_response_not_found");
}

asio::awaitable<StoredResponsesReply> serve_stored_responses(ResponseArchive* archive, const RequestContext& ctx,
                                                       const Config& config, http::verb method,
                                                       std::string_view target) {
  const auto q = target.find('?');
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  std::string_view path = target.substr(0, q);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::string full = path.starts_with("/v1/") ? std::string(path) : "/v1" + std::string(path);
  const ResponsesPath route = parse_responses_path(full);

  if (route.kind == ResponsesPath::Kind::input_tokens) {
    json out = {{"object", "response.input_tokens"}, {"input_tokens", estimate_responses_input_tokens(ctx.body.view())}};
    co_return reply_json(out);
  }
  if (!archive) co_return reply_error(ApiError::unavailable("Stored responses are not available on this gateway."));
  if (!valid_response_id(route.id)) co_return reply_error(response_not_found(route.id));
  const std::string owner = owner_of(ctx, config);
  // The archive's calls are made outside the co_await operands: GCC 12
  // destroys some temporaries there twice.
  try {
    if (route.kind == ResponsesPath::Kind::input_items) {
      auto parsed = parse_input_items_query(query);
      if (!parsed) co_return reply_error(parsed.error());
      auto list = archive->input_items(route.id, owner, *parsed);
      auto page = co_await std::move(list);
      if (!page) co_return reply_error(response_not_found(route.id));
      co_return StoredResponsesReply{200, list_body(*page), {}, {}};
    }
    if (method == http::verb::delete_) {
      auto removal = archive->remove(route.id, owner);
      const bool removed = co_await std::move(removal);
      if (!removed) co_return reply_error(response_not_found(route.id));
      co_return reply_json({{"id", route.id}, {"object", "response.deleted"}, {"deleted", true}});
    }
    auto lookup = archive->get(route.id, owner);
    auto stored = co_await std::move(lookup);
    if (!stored) co_return reply_error(response_not_found(route.id));
    co_return StoredResponsesReply{200, std::move(stored->response_json), {}, {}};
  } catch (const StoreError&) {
    // Never the database's words: they may name tables, hosts or users.
    co_return reply_error(ApiError::unavailable("Stored responses are unavailable right now (database error); retry later."));
  }
}

}  // namespace tollgate
