#include "api/responses_sink.h"

#include "accounting/token_estimate.h"
#include "api/responses_response.h"

namespace tollgate {

namespace asio = boost::asio;

ResponsesSink::ResponsesSink(ResponseSink& inner, const RequestContext& ctx) : inner_(inner), ctx_(ctx) {}

ResponseEnvelope ResponsesSink::envelope() const {
  const ResponsesCall& call = ctx_.responses ? *ctx_.responses : ResponsesCall{};
  ResponseEnvelope env;
  env.id = call.id.empty() ? new_response_id() : call.id;
  env.created_at = call.created_at;
  env.echo = call.echo;
  return env;
}

ResponsesStreamTranslator& ResponsesSink::translator() {
  if (!stream_) stream_.emplace(envelope(), estimate_request_input_tokens(ctx_.body.view()));
  return *stream_;
}

asio::awaitable<bool> ResponsesSink::send_response(int status, std::string body, HeaderList headers) {
  // Errors before the route parsed the request (no ctx.responses) pass as they are.
  ResponsesReply reply = ctx_.responses ? responses_reply(status, body, ctx_.usage, envelope())
                                        : ResponsesReply{status, std::move(body)};
  const bool sent = co_await inner_.send_response(reply.status, std::move(reply.body), std::move(headers));
  co_return sent;
}

asio::awaitable<bool> ResponsesSink::start_stream(HeaderList headers) {
  translator();
  const bool started = co_await inner_.start_stream(std::move(headers));
  co_return started;
}

asio::awaitable<bool> ResponsesSink::send_pending() {
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const bool sent = co_await inner_.send_named_event(pending_[i].type, pending_[i].data);
    if (!sent) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> ResponsesSink::send_event(std::string_view payload) {
  pending_ = translator().on_payload(payload);
  const bool sent = co_await send_pending();
  co_return sent;
}

asio::awaitable<bool> ResponsesSink::send_named_event(std::string_view name, std::string_view payload) {
  const bool sent = co_await inner_.send_named_event(name, payload);
  co_return sent;
}

asio::awaitable<bool> ResponsesSink::send_comment(std::string_view text) {
  const bool sent = co_await inner_.send_comment(text);
  co_return sent;
}

asio::awaitable<void> ResponsesSink::end_stream() {
  if (stream_ && !inner_.client_gone()) {
    pending_ = stream_->on_end();
    co_await send_pending();
  }
  co_await inner_.end_stream();
}

asio::awaitable<void> ResponsesSink::wait_client_gone() { co_await inner_.wait_client_gone(); }

}  // namespace tollgate
