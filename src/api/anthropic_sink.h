#pragma once
// A ResponseSink wrapper for the Anthropic-compatible inbound API: the
// router and providers write the OpenAI shape as for /v1/chat/completions;
// this sink rewrites it into Anthropic's before it reaches the session
// (anthropic_response.h for whole responses and errors, anthropic_stream.h
// for streams). It adds a `request-id` header, as Anthropic's API does.
// When a provider relays an Anthropic upstream natively (ctx.response_native,
// providers/native_messages.h), a 200 body and named events pass unchanged;
// errors, and an error that ends a stream, are still translated.
// Owned by the session's dispatch; called from the connection's thread only.

#include <optional>
#include <vector>

#include "api/anthropic_stream.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

class AnthropicSink final : public ResponseSink {
 public:
  // `inner` (the session) and `ctx` outlive the sink. ctx.body must already
  // hold the translated OpenAI request when a stream starts (it sizes the
  // input-token estimate of message_start); ctx.usage is read when a whole
  // response is sent.
  AnthropicSink(ResponseSink& inner, const RequestContext& ctx);

  boost::asio::awaitable<bool> send_response(int status, std::string body, HeaderList headers) override;
  boost::asio::awaitable<bool> start_stream(HeaderList headers) override;
  // OpenAI payloads in (an error payload too, once a native stream started);
  // Anthropic named events out. Named events pass unchanged.
  boost::asio::awaitable<bool> send_event(std::string_view payload) override;
  boost::asio::awaitable<bool> send_named_event(std::string_view name, std::string_view payload) override;
  boost::asio::awaitable<bool> send_comment(std::string_view text) override;
  boost::asio::awaitable<void> end_stream() override;
  boost::asio::awaitable<void> wait_client_gone() override;
  bool committed() const override { return inner_.committed(); }
  bool client_gone() const override { return inner_.client_gone(); }

 private:
  AnthropicStreamTranslator& translator();

  ResponseSink& inner_;
  const RequestContext& ctx_;
  std::optional<AnthropicStreamTranslator> stream_;
  std::vector<NamedEvent> pending_;  // a member, not a temporary, across co_await
};

}  // namespace tollgate
