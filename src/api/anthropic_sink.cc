#include "api/anthropic_sink.h"

#include "accounting/token_estimate.h"
#include "api/anthropic_messages_request.h"
#include "api/anthropic_response.h"

namespace tollgate {

namespace asio = boost::asio;

AnthropicSink::AnthropicSink(ResponseSink& inner, const RequestContext& ctx) : inner_(inner), ctx_(ctx) {}

AnthropicStreamTranslator& AnthropicSink::translator() {
  if (!stream_) stream_.emplace(estimate_request_input_tokens(ctx_.body.view()), ctx_.request_id);
  return *stream_;
}

asio::awaitable<bool> AnthropicSink::send_response(int status, std::string body, HeaderList headers) {
  if (ctx_.response_native && status == 200) {
    // Native pass-through: already the upstream's Anthropic answer.
    headers.emplace_back("request-id", ctx_.request_id);
    const bool sent = co_await inner_.send_response(200, std::move(body), std::move(headers));
    co_return sent;
  }
  AnthropicReply reply = anthropic_reply(status, body, ctx_.usage, ctx_.request_id);
  headers.emplace_back("request-id", ctx_.request_id);
  const bool sent = co_await inner_.send_response(reply.status, std::move(reply.body), std::move(headers));
  co_return sent;
}

asio::awaitable<bool> AnthropicSink::start_stream(HeaderList headers) {
  if (!ctx_.response_native) translator();
  headers.emplace_back("request-id", ctx_.request_id);
  const bool started = co_await inner_.start_stream(std::move(headers));
  co_return started;
}

asio::awaitable<bool> AnthropicSink::send_event(std::string_view payload) {
  pending_ = translator().on_payload(payload);
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const bool sent = co_await inner_.send_named_event(pending_[i].name, pending_[i].data);
    if (!sent) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> AnthropicSink::send_named_event(std::string_view name, std::string_view payload) {
  const bool sent = co_await inner_.send_named_event(name, payload);
  co_return sent;
}

asio::awaitable<bool> AnthropicSink::send_comment(std::string_view text) {
  const bool sent = co_await inner_.send_comment(text);
  co_return sent;
}

asio::awaitable<void> AnthropicSink::end_stream() { co_await inner_.end_stream(); }

asio::awaitable<void> AnthropicSink::wait_client_gone() { co_await inner_.wait_client_gone(); }

}  // namespace tollgate
