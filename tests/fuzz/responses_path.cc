// The stored-response routes' parsers of client bytes: parse_responses_path
// over the path of a request target and parse_input_items_query over its
// query (api/responses_routes.h). Checks: the path parser accepts exactly the
// three route shapes and its id round-trips to the same path; a query is a
// bounded ItemQuery (limit 1..100, `after` empty or a valid item id) or a
// 400 naming limit, order or after, whose message never carries the
// client's bytes; the error bodies are JSON.
#include <cstdint>
#include <string>

#include "api/responses_routes.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);

  using Kind = tollgate::ResponsesPath::Kind;
  const auto route = tollgate::parse_responses_path(path);
  switch (route.kind) {
    case Kind::none:
      FUZZ_CHECK(route.id.empty(), path);
      break;
    case Kind::input_tokens:
      FUZZ_CHECK(path == "/v1/responses/input_tokens", path);
      break;
    case Kind::object:
      FUZZ_CHECK("/v1/responses/" + route.id == path, path);
      FUZZ_CHECK(route.id.find('/') == std::string::npos, path);
      break;
    case Kind::input_items:
      FUZZ_CHECK("/v1/responses/" + route.id + "/input_items" == path, path);
      FUZZ_CHECK(route.id.find('/') == std::string::npos, path);
      break;
  }
  if (route.kind == Kind::object || route.kind == Kind::input_items) {
    const auto e = tollgate::response_not_found(route.id);
    FUZZ_CHECK(e.status == 404, path);
    FUZZ_CHECK(nlohmann::json::accept(e.body()), e.body());
    // An invalid id is never echoed: the message is the fixed one.
    if (!tollgate::valid_response_id(route.id)) {
      FUZZ_CHECK(e.message == "Response not found: no response has that id.", e.message);
    } else {
      FUZZ_CHECK(e.message == "Response with id '" + route.id + "' not found.", e.message);
    }
  }

  const auto parsed = tollgate::parse_input_items_query(query);
  if (parsed) {
    FUZZ_CHECK(parsed->limit >= 1 && parsed->limit <= 100, query);
    FUZZ_CHECK(parsed->after.empty() || tollgate::valid_item_id(parsed->after), query);
  } else {
    const auto& e = parsed.error();
    FUZZ_CHECK(e.status == 400 && e.type == "invalid_request_error", query);
    FUZZ_CHECK(e.param == "limit" || e.param == "order" || e.param == "after", e.param);
    FUZZ_CHECK(nlohmann::json::accept(e.body()), e.body());
    static const std::string kMessages[] = {
        "Invalid 'limit': expected an integer between 1 and 100.",
        "Invalid 'order': expected 'asc' or 'desc'.",
        "Invalid 'after': expected an item id (letters, digits, '_' or '-').",
    };
    FUZZ_CHECK(std::find(std::begin(kMessages), std::end(kMessages), e.message) != std::end(kMessages), e.message);
  }
  return 0;
}
