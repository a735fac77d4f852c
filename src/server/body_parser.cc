#include "server/body_parser.h"

#include <chrono>

#include "api/anthropic_messages_request.h"
#include "api/responses_history.h"
#include "api/responses_request.h"
#include "api/responses_routes.h"
#include "storage/response_archive.h"
#include "api/responses_response.h"

namespace tollgate {
namespace {

enum class BodyUse { none, required, optional };

BodyUse body_use(const RequestContext& ctx) {
  if (ctx.method != "POST") return BodyUse::none;
  switch (ctx.endpoint) {
    case Endpoint::chat_completions:
    case Endpoint::completions:
    case Endpoint::embeddings:
    case Endpoint::messages:
    case Endpoint::count_tokens:
    case Endpoint::responses:
    case Endpoint::response_input_tokens:
      return BodyUse::required;
    case Endpoint::admin:
      return BodyUse::optional;
    default:
      return BodyUse::none;
  }
}

}  // namespace

Decision BodyParser::parse(RequestContext& ctx, const ResponseItemResolver* history) const {
  if (auto refused = parse_json(ctx)) return refused;
  return translate(ctx, history);
}

Decision BodyParser::parse_json(RequestContext& ctx) const {
  const BodyUse use = body_use(ctx);
  if (use == BodyUse::none || (use == BodyUse::optional && ctx.body_bytes.empty())) {
    ctx.body_bytes.clear();
    return std::nullopt;
  }
  if (ctx.body_bytes.empty()) {
    return ApiError::bad_request("The request body is empty; expected a JSON object.", {}, "invalid_json");
  }
  auto parsed = JsonDocument::parse(std::move(ctx.body_bytes), limits_);
  ctx.body_bytes.clear();
  if (!parsed) {
    return ApiError::bad_request("We could not parse the JSON body of your request: " + parsed.error().describe() +
                                     ". Send a valid JSON object.",
                                 {}, "invalid_json");
  }
  ctx.body = RequestBody(std::move(parsed.value()));
  return std::nullopt;
}

Decision BodyParser::translate(RequestContext& ctx, const ResponseItemResolver* history) const {
  if (ctx.endpoint == Endpoint::messages || ctx.endpoint == Endpoint::count_tokens) {
    const auto call = ctx.endpoint == Endpoint::count_tokens ? MessagesCall::count_tokens : MessagesCall::create;
    // Kept for an upstream that takes it natively (a shared document, no copy).
    ctx.anthropic_body = ctx.body;
    ctx.anthropic_count_tokens = call == MessagesCall::count_tokens;
    auto translated = translate_messages_request(ctx.body.view(), call);
    if (!translated) return translated.error();
    ctx.body = RequestBody(std::move(translated->body));
    ctx.translation_notes = std::move(translated->notes);
    ctx.endpoint = Endpoint::chat_completions;
  } else if (ctx.endpoint == Endpoint::responses) {
    auto translated = translate_responses_request(ctx.body.view(), history);
    if (!translated) return translated.error();
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    ResponsesCall call{new_response_id(), std::chrono::duration_cast<std::chrono::seconds>(now).count(),
                       translated->store, std::move(translated->echo), {}};
    if (archive_ && !ctx.body.view()["store"].is_boolean()) {
      // No `store` in the request: the operator's default (responses.store_default).
      call.store = archive_->store_default();
      call.echo["store"] = call.store;
    }
    // The client's own input items, kept for storing the turn.
    if (call.store && archive_) call.input_items = input_items_to_store(ctx.body.view());
    ctx.body = RequestBody(std::move(translated->body));
    for (auto& note : translated->notes) ctx.notes.push_back(std::move(note));
    ctx.responses = std::move(call);
    ctx.endpoint = Endpoint::chat_completions;
  }
  return std::nullopt;
}

boost::asio::awaitable<Decision> BodyParser::on_request(RequestContext& ctx) {
  if (auto refused = parse_json(ctx)) co_return refused;
  if (ctx.endpoint != Endpoint::responses || !archive_ || !config_) co_return translate(ctx, nullptr);
  // What the request names in stored responses, read before the
  // (synchronous) translation asks for it.
  auto fetch = fetch_response_history(archive_.get(), owner_of(ctx, *config_), ctx.body.view());
  auto history = co_await std::move(fetch);
  if (!history) co_return history.error();
  co_return translate(ctx, history->get());
}

}  // namespace tollgate
