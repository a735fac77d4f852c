#include "server/body_parser.h"

#include "api/anthropic_messages_request.h"

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
      return BodyUse::required;
    case Endpoint::admin:
      return BodyUse::optional;
    default:
      return BodyUse::none;
  }
}

}  // namespace

Decision BodyParser::parse(RequestContext& ctx) const {
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
  }
  return std::nullopt;
}

boost::asio::awaitable<Decision> BodyParser::on_request(RequestContext& ctx) { co_return parse(ctx); }

}  // namespace tollgate
