#include "server/dispatcher.h"

#include <nlohmann/json.hpp>

#include "accounting/spend_row.h"
#include "accounting/token_estimate.h"
#include "admin/admin_api.h"
#include "api/anthropic_sink.h"
#include "api/responses_sink.h"
#include "api/responses_routes.h"
#include "middleware/request_overrides.h"
#include "observability/request_tracing.h"
#include "server/local_routes.h"
#include "server/ops_routes.h"
#include "server/request_id.h"
#include "server/worker.h"

namespace tollgate {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// The request line and headers the gateway reads, into the context.
void read_headers(RequestContext& ctx, const HttpRequest& http) {
  ctx.method = std::string(http.method_string());
  ctx.authorization = std::string(http[http::field::authorization]);
  ctx.x_api_key = std::string(http["x-api-key"]);
  ctx.traceparent = std::string(http["traceparent"]);
  for (const char* name : kControlHeaders) {
    if (auto v = http[name]; !v.empty()) ctx.control_headers[name] = std::string(v);
  }
  ctx.tags = parse_tags(http["x-tollgate-tags"].empty() ? http["x-litellm-tags"] : http["x-tollgate-tags"]);
}

}  // namespace

asio::awaitable<void> Dispatcher::serve(RequestLifecycle& request, HttpRequest& http, ResponseSink& client) const {
  RequestContext& ctx = request.ctx();
  const Generation& gen = request.generation();
  SharedState& state = request.state();
  read_headers(ctx, http);
  start_trace(ctx, gen.config->tracing.sample_ratio);

  const Route route = resolve_route(http.method(), http.target());
  ctx.path = route.path;
  ctx.endpoint = route.endpoint;
  if (route.local) {
    request.not_in_flight();
    auto reply = route.path == "/metrics"  ? metrics_reply(ctx, state, *gen.config)
                 : route.path == "/health" ? health_reply(ctx, state, *gen.config)
                                           : local_reply(route, state, *gen.config);
    ctx.status = reply.status;
    co_await client.send_response(reply.status, std::move(reply.body), std::move(reply.headers));
    co_return;
  }
  // The Anthropic-compatible routes answer in Anthropic's shape, errors
  // included: everything they send goes through the translating sink.
  const bool anthropic = route.endpoint == Endpoint::messages || route.endpoint == Endpoint::count_tokens;
  if (anthropic) {
    // Forwarded to an Anthropic upstream that takes the request natively.
    ctx.anthropic_version = std::string(http["anthropic-version"]);
    ctx.anthropic_beta = std::string(http["anthropic-beta"]);
  }
  AnthropicSink anthropic_sink(client, ctx);
  // The Responses API answers with Response objects and its named events.
  const bool responses = route.endpoint == Endpoint::responses;
  ResponsesSink responses_sink(client, ctx, state.responses.get(), gen.config.get());
  ResponseSink& out = anthropic   ? static_cast<ResponseSink&>(anthropic_sink)
                      : responses ? static_cast<ResponseSink&>(responses_sink)
                                  : client;
  if (route.error) {
    co_await request.reject(out, *route.error);
    co_return;
  }
  // The chain parses it (BodyParser, after authentication).
  ctx.body_bytes = std::move(http.body());
  if (route.endpoint == Endpoint::model) ctx.requested_model = route.model_id;

  if (auto decision = co_await gen.chain->run(ctx)) {
    ctx.reject_reason = decision->message;
    co_await request.reject(out, *decision);
    co_return;
  }
  // (If-chains, not a switch: GCC 12 mishandles co_await in switch cases.)
  if (route.endpoint == Endpoint::admin) {
    co_await serve_admin(request, http, out);
    co_return;
  }
  if (route.endpoint == Endpoint::models || route.endpoint == Endpoint::model) {
    auto reply = models_reply(route, ctx, *gen.config);
    ctx.status = reply.status;
    co_await out.send_response(reply.status, std::move(reply.body), std::move(reply.headers));
    co_return;
  }
  if (route.endpoint == Endpoint::response_object || route.endpoint == Endpoint::response_input_items ||
      route.endpoint == Endpoint::response_input_tokens) {
    auto op = serve_stored_responses(state.responses.get(), ctx, *gen.config, http.method(), http.target());
    StoredResponsesReply reply = co_await std::move(op);
    ctx.status = reply.status;
    ctx.error_type = reply.error_type;
    ctx.reject_reason = reply.error_message;
    HeaderList headers;  // named: GCC 12 destroys temporaries in co_await operands twice
    co_await out.send_response(reply.status, std::move(reply.body), std::move(headers));
    co_return;
  }
  if (route.endpoint == Endpoint::count_tokens) {
    // The exact count from a deployment that speaks the Messages API, else
    // an estimate over the translated request, answered here.
    auto router = worker_.router_for(request.generation());
    const bool counted = co_await router->count_tokens(ctx, out);
    if (counted) co_return;
    ctx.status = 200;
    std::string body = nlohmann::json{{"input_tokens", estimate_request_input_tokens(ctx.body.view())}}.dump();
    HeaderList h;
    h.emplace_back("request-id", ctx.request_id);
    // Already in Anthropic's shape: past the translating sink.
    co_await client.send_response(200, std::move(body), std::move(h));
    co_return;
  }
  // The Anthropic sink needs the final usage chunk for message_delta; it
  // never forwards it as an OpenAI chunk.
  if (anthropic || responses) ctx.client_wants_usage = true;
  co_await serve_llm(request, out);
}

asio::awaitable<void> Dispatcher::serve_admin(RequestLifecycle& request, const HttpRequest& http,
                                              ResponseSink& out) const {
  RequestContext& ctx = request.ctx();
  const auto& admin = request.state().admin;
  if (!admin) {
    // Built outside the co_await operand (GCC 12 destroys some temporaries there twice).
    const auto error = ApiError::unavailable("The admin API needs a database: set `database:` in the config.");
    co_await request.reject(out, error);
    co_return;
  }
  // The admin API takes a tree: its bodies are small control-plane requests,
  // parsed by the same limited parser; GET has none.
  const nlohmann::json body = http.method() == http::verb::get ? nlohmann::json() : ctx.body.to_json();
  auto op = admin->handle(ctx, http.method(), http.target(), body);
  AdminReply reply = co_await std::move(op);
  ctx.status = reply.status;
  ctx.error_type = reply.error_code;
  ctx.reject_reason = reply.error_message;
  HeaderList h;
  h.emplace_back("content-type", reply.content_type);
  co_await out.send_response(reply.status, std::move(reply.body), std::move(h));
}

asio::awaitable<void> Dispatcher::serve_llm(RequestLifecycle& request, ResponseSink& out) const {
  RequestContext& ctx = request.ctx();
  ctx.reached_router = true;  // from here on the request owes exactly one spend row
  // This worker's router for the request's generation, kept alive by the
  // request even if a reload replaces it meanwhile.
  auto router = worker_.router_for(request.generation());
  co_await router->route(ctx, out);
}

}  // namespace tollgate
