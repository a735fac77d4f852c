#include "providers/openai/openai_provider.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "providers/openai/openai_adapter.h"
#include "providers/sse_parser.h"
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

int64_t prompt_estimate(const RequestContext& ctx) {
  if (ctx.endpoint == Endpoint::chat_completions && ctx.body.contains("messages")) {
    return estimate_chat_prompt_tokens(ctx.body["messages"]);
  }
  if (auto p = ctx.body.find("prompt"); p != ctx.body.end() && p->is_string()) {
    return estimate_tokens(p->get_ref<const std::string&>());
  }
  return 0;
}

HeaderList upstream_id_header(const UpstreamExchange& ex) {
  HeaderList h;
  if (auto id = ex.header("x-request-id"); !id.empty() && id.size() < 200) h.emplace_back("x-upstream-request-id", id);
  return h;
}

}  // namespace

OpenAiProvider::OpenAiProvider(const ProviderConfig& config, UpstreamPool& pool)
    : config_(config), pool_(pool), url_(*UpstreamUrl::parse(config.base_url)) {
  const auto& profiles = ProviderProfiles::bundled();
  profile_ = config.profile.empty() ? nullptr : profiles.find(config.profile);
  if (!profile_) {
    profile_ = config.type == ProviderType::openai ? profiles.find("openai") : nullptr;
  }
  if (!profile_) {
    bool default_port = (url_.tls && url_.port == "443") || (!url_.tls && url_.port == "80");
    profile_ = &profiles.for_host(default_port ? url_.host : url_.host + ":" + url_.port);
  }
}

std::string OpenAiProvider::kind() const {
  if (config_.type == ProviderType::openai) return "openai";
  return profile_->name == "generic" ? "openai_compatible" : profile_->name;
}

UpstreamRequest OpenAiProvider::build_request(const RequestContext& ctx, std::string path, std::string body) const {
  UpstreamRequest req;
  req.target = url_.base_path + path;
  req.body = std::move(body);
  req.headers.emplace_back("content-type", "application/json");
  req.headers.emplace_back("accept", ctx.stream ? "text/event-stream" : "application/json");
  // The client's own Authorization never goes upstream: only the provider's key.
  if (!config_.api_key.empty()) req.headers.emplace_back("authorization", "Bearer " + config_.api_key);
  req.headers.emplace_back("x-request-id", ctx.request_id);
  if (!ctx.traceparent.empty()) req.headers.emplace_back("traceparent", ctx.traceparent);
  for (const auto& [k, v] : config_.headers) req.headers.emplace_back(k, v);
  return req;
}

// One streamed response: upstream bytes -> SSE events -> normalised chunks ->
// client, flushing each event. Lives in the caller's frame so that its state
// (usage so far) survives a cancellation by client disconnect.
class OpenAiProvider::StreamRun {
 public:
  StreamRun(RequestContext& ctx, const ProviderProfile& profile, ResponseSink& sink, UpstreamExchange& ex,
            std::chrono::milliseconds keepalive)
      : ctx_(ctx),
        sink_(sink),
        ex_(ex),
        keepalive_(keepalive),
        norm_(ctx.endpoint == Endpoint::completions ? StreamNormalizer::Kind::completion
                                                    : StreamNormalizer::Kind::chat,
              ctx.client_wants_usage, profile) {
    norm_.set_prompt_estimate(prompt_estimate(ctx));
  }

  Usage usage() const { return norm_.usage(); }

  asio::awaitable<AttemptOutcome> pump() {
    std::string buf;
    std::vector<SseEvent> events;
    bool upstream_done = false;
    auto ex = co_await asio::this_coro::executor;
    while (!upstream_done) {
      buf.clear();
      Result<bool, AttemptOutcome> more = false;
      if (sink_.committed()) {
        asio::steady_timer tick(ex, keepalive_);
        auto r = co_await (ex_.read_some(buf) || tick.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) {
          // The upstream is silent (a reasoning model thinking): keep the
          // client and any proxy in between from timing out.
          if (!co_await sink_.send_comment("keep-alive")) co_return client_gone();
          continue;
        }
        more = std::get<0>(std::move(r));
      } else {
        more = co_await ex_.read_some(buf);
      }
      if (!more) co_return more.error();
      events.clear();
      if (!parser_.feed(buf, events)) {
        co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream sent an oversized stream event", "upstream_protocol_error"));
      }
      if (!*more) parser_.finish(events);
      for (auto& ev : events) {
        if (ev.data == "[DONE]") {
          upstream_done = true;
          break;
        }
        json chunk = json::parse(ev.data, nullptr, false);
        if (chunk.is_discarded() || !chunk.is_object()) {
          co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream sent malformed JSON in its stream", "upstream_protocol_error"));
        }
        if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
          auto mapped = openai::map_upstream_error(502, ev.data, std::nullopt);
          mapped.error.code = "upstream_stream_error";
          co_return fail(FailureClass::server, mapped.error);
        }
        // Named, not a range-for temporary: GCC 12 ends such temporaries'
        // lifetime at the first suspension inside the loop.
        auto payloads = norm_.on_chunk(std::move(chunk));
        for (auto& payload : payloads) {
          if (!co_await send(payload)) co_return client_gone();
        }
      }
      if (!*more) break;
    }
    if (!upstream_done && !norm_.all_finished()) {
      co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream closed the stream before it was complete", "upstream_stream_truncated"));
    }
    // Named, not a range-for temporary: GCC 12 ends such temporaries'
    // lifetime at the first suspension inside the loop.
    auto payloads = norm_.finish();
    for (auto& payload : payloads) {
      if (!co_await send(payload)) co_return client_gone();
    }
    co_return AttemptOutcome{};
  }

 private:
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

  RequestContext& ctx_;
  ResponseSink& sink_;
  UpstreamExchange& ex_;
  std::chrono::milliseconds keepalive_;
  SseParser parser_;
  StreamNormalizer norm_;
};

asio::awaitable<AttemptOutcome> OpenAiProvider::call(RequestContext& ctx, const DeploymentConfig& deployment,
                                                     const AttemptLimits& limits, ResponseSink& sink) {
  auto prepared = openai::prepare_request(ctx.endpoint, ctx.body, deployment, *profile_, ctx.notes);
  if (!prepared) co_return fail(FailureClass::client, prepared.error());

  auto started = co_await UpstreamExchange::start(pool_, url_, build_request(ctx, prepared->path, std::move(prepared->body)), limits);
  if (!started) co_return started.error();
  auto& ex = *started.value();

  if (ex.status() < 200 || ex.status() >= 300) {
    auto body = co_await ex.read_all(kMaxErrorBody);
    auto retry_after = ex.retry_after_seconds();
    auto mapped = openai::map_upstream_error(ex.status(), body ? std::string_view(body.value()) : std::string_view(), retry_after);
    spdlog::info("[{}] upstream {} answered HTTP {}", ctx.request_id, config_.name, ex.status());
    std::optional<int> retry_ms;
    if (retry_after) retry_ms = *retry_after * 1000;
    co_return fail(mapped.failure, mapped.error, retry_ms);
  }

  if (!ctx.stream) {
    auto body = co_await ex.read_all(kMaxResponseBody);
    if (!body) co_return body.error();
    // DeepSeek sends blank lines before the JSON while a request is queued.
    json parsed = json::parse(body.value(), nullptr, false);
    if (parsed.is_discarded()) {
      co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream returned a body that is not JSON", "upstream_protocol_error"));
    }
    Usage usage;
    auto normalized = openai::normalize_response(ctx.endpoint, std::move(parsed), *profile_, usage);
    if (!normalized) co_return fail(FailureClass::server, normalized.error());
    if (usage.source == UsageSource::none) {
      usage.prompt_tokens = prompt_estimate(ctx);
      usage.source = UsageSource::estimated;
    }
    ctx.usage = usage;
    co_await sink.send_response(200, normalized->dump(-1, ' ', false, json::error_handler_t::replace), upstream_id_header(ex));
    co_return AttemptOutcome{};
  }

  auto content_type = ex.header("content-type");
  if (content_type.find("text/event-stream") == std::string::npos) {
    co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error"));
  }
  StreamRun run(ctx, *profile_, sink, ex, limits.keepalive_interval);
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
