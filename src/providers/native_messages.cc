#include "providers/native_messages.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <nlohmann/json.hpp>

#include "providers/anthropic/anthropic_errors.h"

namespace tollgate {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxResponseBody = 256u << 20;

AttemptOutcome fail(FailureClass cls, ApiError e) {
  AttemptOutcome o;
  o.failure = cls;
  o.error = std::move(e);
  return o;
}

ApiError malformed() {
  return ApiError::bad_gateway("the upstream sent malformed JSON in its stream", "upstream_protocol_error");
}

HeaderList upstream_id_header(const UpstreamExchange& ex) {
  HeaderList h;
  if (auto id = ex.header("request-id"); !id.empty() && id.size() < 200) h.emplace_back("x-upstream-request-id", id);
  return h;
}

}  // namespace

std::optional<ApiError> NativeMessagesMeter::on_event(const SseEvent& event) {
  if (event.event == "error") return anthropic::map_stream_error(event.data);
  if (event.event == "message_stop") {
    complete_ = true;
    return std::nullopt;
  }
  if (event.event != "message_start" && event.event != "message_delta") return std::nullopt;
  const json data = json::parse(event.data, nullptr, false);
  if (!data.is_object()) return malformed();
  const json* usage = nullptr;
  if (event.event == "message_start") {
    if (auto m = data.find("message"); m != data.end() && m->is_object()) {
      if (auto u = m->find("usage"); u != m->end()) usage = &*u;
    }
  } else if (auto u = data.find("usage"); u != data.end()) {
    usage = &*u;
  }
  // Running totals: message_delta's replace message_start's where present.
  if (usage && usage->is_object()) usage_.update(*usage);
  return std::nullopt;
}

Usage NativeMessagesMeter::usage() const {
  if (!usage_.seen) return Usage{};
  return usage_.normalized();
}

Usage native_messages_usage(const json& message) {
  if (!message.is_object()) return Usage{};
  auto u = message.find("usage");
  if (u == message.end() || !u->is_object()) return Usage{};
  anthropic::AnthropicUsage usage;
  usage.update(*u);
  return usage.seen ? usage.normalized() : Usage{};
}

namespace {

asio::awaitable<AttemptOutcome> relay_body(RequestContext& ctx, UpstreamExchange& ex, ResponseSink& sink) {
  auto body = co_await ex.read_all(kMaxResponseBody);
  if (!body) co_return body.error();
  const json parsed = json::parse(body.value(), nullptr, false);
  if (!parsed.is_object()) {
    co_return fail(FailureClass::server,
                   ApiError::bad_gateway("the upstream returned a body that is not a JSON object", "upstream_protocol_error"));
  }
  if (!ctx.anthropic_count_tokens) ctx.usage = native_messages_usage(parsed);
  ctx.response_native = true;
  HeaderList headers = upstream_id_header(ex);
  std::string out = std::move(body.value());
  co_await sink.send_response(200, std::move(out), std::move(headers));
  co_return AttemptOutcome{};
}

// One stream, relayed event by event; lives in the caller's frame so that
// the usage read so far survives a cancellation by client disconnect.
class StreamRelay {
 public:
  StreamRelay(RequestContext& ctx, UpstreamExchange& ex, ResponseSink& sink) : ctx_(ctx), ex_(ex), sink_(sink) {}

  Usage usage() const { return meter_.usage(); }

  asio::awaitable<AttemptOutcome> pump() {
    std::string buf;
    while (!meter_.complete()) {
      buf.clear();
      auto more = co_await ex_.read_some(buf);
      if (!more) co_return more.error();
      events_.clear();
      bool within = parser_.feed(buf, events_);
      if (!*more) parser_.finish(events_);
      for (const auto& event : events_) {
        if (auto error = meter_.on_event(event)) co_return fail(FailureClass::server, *error);
        const bool sent = co_await send(event);
        if (!sent) co_return client_gone();
        if (meter_.complete()) break;
      }
      if (!within) {
        co_return fail(FailureClass::server,
                       ApiError::bad_gateway("the upstream sent an oversized stream event", "upstream_protocol_error"));
      }
      if (!*more) break;
    }
    if (!meter_.complete()) {
      co_return fail(FailureClass::server, ApiError::bad_gateway("the upstream closed the stream before it was complete",
                                                                 "upstream_stream_truncated"));
    }
    co_await ex_.discard_rest(64 * 1024);
    co_return AttemptOutcome{};
  }

 private:
  // Temporaries stay out of co_await operands: GCC 12 miscompiles some.
  asio::awaitable<bool> send(const SseEvent& event) {
    if (!sink_.committed()) {
      ctx_.response_native = true;
      HeaderList headers = upstream_id_header(ex_);
      const bool started = co_await sink_.start_stream(std::move(headers));
      if (!started) co_return false;
    }
    const bool sent = co_await sink_.send_named_event(event.event, event.data);
    co_return sent;
  }

  AttemptOutcome client_gone() {
    ex_.abort();
    return fail(FailureClass::cancelled, ApiError::bad_request("client closed the connection", {}, "client_disconnected"));
  }

  RequestContext& ctx_;
  UpstreamExchange& ex_;
  ResponseSink& sink_;
  SseParser parser_;
  NativeMessagesMeter meter_;
  std::vector<SseEvent> events_;
};

}  // namespace

asio::awaitable<AttemptOutcome> relay_native_messages(RequestContext& ctx, UpstreamExchange& ex, ResponseSink& sink) {
  const bool stream = ctx.stream && !ctx.anthropic_count_tokens;
  if (!stream) co_return co_await relay_body(ctx, ex, sink);
  if (ex.header("content-type").find("text/event-stream") == std::string::npos) {
    co_return fail(FailureClass::server,
                   ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error"));
  }
  StreamRelay relay(ctx, ex, sink);
  auto result = co_await (relay.pump() || sink.wait_client_gone());
  ctx.usage = relay.usage();
  if (result.index() == 1) {
    ex.abort();
    ctx.client_disconnected = true;
    co_return fail(FailureClass::cancelled, ApiError::bad_request("client closed the connection", {}, "client_disconnected"));
  }
  co_return std::get<0>(std::move(result));
}

}  // namespace tollgate
