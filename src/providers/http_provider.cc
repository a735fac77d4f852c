#include "providers/http_provider.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "accounting/token_estimate.h"
#include "providers/native_messages.h"
#include "providers/param_policy.h"
#include "providers/stream_normalizer.h"

namespace tollgate {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxErrorBody = 1 << 20;
constexpr std::size_t kMaxResponseBody = 256u << 20;

AttemptOutcome fail(FailureClass cls, ApiError e, std::optional<int> retry_after_ms = {}) {
  AttemptOutcome o;
  o.failure = cls;
  o.error = std::move(e);
  o.retry_after_ms = retry_after_ms;
  return o;
}

HeaderList upstream_id_header(const UpstreamExchange& ex) {
  HeaderList h;
  for (const char* name : {"x-request-id", "request-id", "x-amzn-requestid"}) {
    if (auto id = ex.header(name); !id.empty() && id.size() < 200) {
      h.emplace_back("x-upstream-request-id", id);
      break;
    }
  }
  return h;
}

// The adapter's request, after the parameter policy. The policy changes a
// copy of the body (the document is shared; only the top-level changes are
// copied) swapped into ctx.body while the adapter reads it: ctx.body stays
// the client's request for later attempts (another deployment or a fallback
// model may accept what this model does not).
Result<NativeRequest> build_with_policy(const ProviderAdapter& adapter, RequestContext& ctx,
                                        const DeploymentConfig& deployment, ParamPolicy policy) {
  if (!param_policy_applies(ctx.body.view(), deployment.model)) return adapter.build_request(ctx, deployment, ctx.notes);
  RequestBody policed = ctx.body;
  if (auto rejected = apply_param_policy(policed, deployment.model, policy, ctx.notes)) return *rejected;
  struct Restore {
    RequestBody& a;
    RequestBody& b;
    ~Restore() { std::swap(a, b); }
  };
  std::swap(ctx.body, policed);
  Restore restore{ctx.body, policed};
  return adapter.build_request(ctx, deployment, ctx.notes);
}

}  // namespace

int64_t prompt_estimate(const RequestContext& ctx) { return estimate_prompt_tokens(ctx.body.view()); }

// One streamed response: upstream bytes -> decoder -> OpenAI chunks ->
// normalizer -> client, flushing each event. Lives in the caller's frame so
// its state (usage so far) survives a cancellation by client disconnect.
class HttpProvider::StreamRun {
 public:
  StreamRun(RequestContext& ctx, const ProviderProfile& profile, ResponseSink& sink, UpstreamExchange& ex,
            StreamDecoder& decoder, std::chrono::milliseconds keepalive)
      : sink_(sink),
        ex_(ex),
        decoder_(decoder),
        keepalive_(keepalive),
        norm_(ctx.endpoint == Endpoint::completions ? StreamNormalizer::Kind::completion
                                                    : StreamNormalizer::Kind::chat,
              ctx.client_wants_usage, profile) {
    norm_.set_prompt_estimate(prompt_estimate(ctx));
  }

  Usage usage() const { return norm_.usage(); }

  asio::awaitable<AttemptOutcome> pump() {
    std::string buf;
    std::vector<json> chunks;
    auto ex = co_await asio::this_coro::executor;
    while (!decoder_.complete()) {
      buf.clear();
      Result<bool, AttemptOutcome> more = false;
      if (sink_.committed()) {
        asio::steady_timer tick(ex, keepalive_);
        auto r = co_await (ex_.read_some(buf) || tick.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) {
          // The upstream is silent (a reasoning model thinking): keep the
          // client and any proxy in between from timing out.
          const bool alive = co_await sink_.send_comment("keep-alive");
          if (!alive) co_return client_gone();
          continue;
        }
        more = std::get<0>(std::move(r));
      } else {
        more = co_await ex_.read_some(buf);
      }
      if (!more) co_return more.error();
      chunks.clear();
      std::optional<ApiError> error = decoder_.feed(buf, chunks);
      if (!error && !*more) error = decoder_.finish(chunks);
      for (auto& chunk : chunks) {
        auto payloads = norm_.on_chunk(std::move(chunk));
        for (auto& payload : payloads) {
          const bool sent = co_await send(payload);
          if (!sent) co_return client_gone();
        }
      }
      if (error) co_return fail(FailureClass::server, *error);
      if (!*more) break;
    }
    if (!decoder_.complete() && !norm_.all_finished()) {
      co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream closed the stream before it was complete",
                                                                 "upstream_stream_truncated"));
    }
    auto payloads = norm_.finish();
    for (auto& payload : payloads) {
      const bool sent = co_await send(payload);
      if (!sent) co_return client_gone();
    }
    // The terminal event usually arrives with the body's last chunk; reading
    // it keeps the upstream connection for the next request.
    co_await ex_.discard_rest(64 * 1024);
    co_return AttemptOutcome{};
  }

 private:
  // Temporaries stay out of co_await operands: GCC 12 miscompiles some.
  asio::awaitable<bool> send(const std::string& payload) {
    if (!sink_.committed()) {
      HeaderList headers = upstream_id_header(ex_);
      const bool started = co_await sink_.start_stream(std::move(headers));
      if (!started) co_return false;
    }
    const bool sent = co_await sink_.send_event(payload);
    co_return sent;
  }

  AttemptOutcome client_gone() {
    ex_.abort();
    return fail(FailureClass::cancelled, ApiError::bad_request("client closed the connection", {}, "client_disconnected"));
  }

  ResponseSink& sink_;
  UpstreamExchange& ex_;
  StreamDecoder& decoder_;
  std::chrono::milliseconds keepalive_;
  StreamNormalizer norm_;
};

asio::awaitable<AttemptOutcome> HttpProvider::call(RequestContext& ctx, const DeploymentConfig& deployment,
                                                   const AttemptLimits& limits, ResponseSink& sink) {
  // An Anthropic client's request on an upstream that speaks the Messages
  // API goes through natively (native_messages.h); the parameter policy is
  // for translated requests.
  const bool passthrough = ctx.anthropic_body && adapter_->accepts_native_messages();
  auto built = passthrough ? adapter_->build_native_messages(ctx, deployment)
                      : build_with_policy(*adapter_, ctx, deployment, params_);
  if (!built) co_return fail(FailureClass::client, built.error());
  NativeRequest native = std::move(built.value());
  native.request.headers.emplace_back("x-request-id", ctx.request_id);
  // The attempt's own span in the caller's trace (set by the router).
  if (!ctx.upstream_traceparent.empty()) native.request.headers.emplace_back("traceparent", ctx.upstream_traceparent);
  auto auth_error = co_await adapter_->authorize(native, pool_);
  if (auth_error) co_return fail(FailureClass::server, *auth_error);

  auto started = co_await UpstreamExchange::start(pool_, native.url, std::move(native.request), limits);
  if (!started) co_return started.error();
  auto& ex = *started.value();

  if (ex.status() < 200 || ex.status() >= 300) {
    auto body = co_await ex.read_all(kMaxErrorBody);
    const auto retry_after = ex.retry_after_seconds();
    const std::string text = body ? body.value() : std::string();
    const ProviderAdapter::HeaderLookup header = [&ex](std::string_view name) { return ex.header(name); };
    auto mapped = adapter_->map_error_response(ex.status(), header, text, retry_after);
    spdlog::info("[{}] upstream {} answered HTTP {}", ctx.request_id, deployment.provider, ex.status());
    // The header, else what the adapter read from the body (Gemini RetryInfo).
    std::optional<int> retry_ms;
    if (retry_after) {
      retry_ms = *retry_after * 1000;
    } else if (mapped.error.retry_after_seconds) {
      retry_ms = *mapped.error.retry_after_seconds * 1000;
    }
    co_return fail(mapped.failure, mapped.error, retry_ms);
  }

  if (passthrough) {
    auto relayed = co_await relay_native_messages(ctx, ex, sink);
    if (!ctx.anthropic_count_tokens && ctx.usage.source == UsageSource::none) {
      ctx.usage.prompt_tokens = prompt_estimate(ctx);
      ctx.usage.source = UsageSource::estimated;
    }
    co_return relayed;
  }

  if (!ctx.stream) {
    auto body = co_await ex.read_all(kMaxResponseBody);
    if (!body) co_return body.error();
    // Leading blank lines (DeepSeek while queued) are valid JSON whitespace.
    auto parsed = JsonDocument::parse(std::move(body.value()), JsonLimits{kUpstreamJsonDepth});
    if (!parsed) {
      co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream returned a body that is not acceptable JSON (" +
                                                                     parsed.error().describe() + ")",
                                                                 "upstream_protocol_error"));
    }
    Usage usage;
    auto translated = adapter_->translate_response_body(ctx, *parsed.value(), usage);
    if (!translated) co_return fail(FailureClass::server, translated.error());
    if (usage.source == UsageSource::none) {
      usage.prompt_tokens = prompt_estimate(ctx);
      usage.source = UsageSource::estimated;
    }
    ctx.usage = usage;
    std::string out = std::move(translated.value());
    HeaderList headers = upstream_id_header(ex);
    co_await sink.send_response(200, std::move(out), std::move(headers));
    co_return AttemptOutcome{};
  }

  auto decoder = adapter_->stream_decoder(ctx, ex.header("content-type"));
  if (!decoder) co_return fail(FailureClass::server, decoder.error());
  StreamRun run(ctx, adapter_->stream_profile(), sink, ex, *decoder.value(), limits.keepalive_interval);
  auto result = co_await (run.pump() || sink.wait_client_gone());
  ctx.usage = run.usage();
  if (result.index() == 1) {
    ex.abort();
    ctx.client_disconnected = true;
    co_return fail(FailureClass::cancelled, ApiError::bad_request("client closed the connection", {}, "client_disconnected"));
  }
  co_return std::get<0>(std::move(result));
}

}  // namespace tollgate
