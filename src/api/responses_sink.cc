#include "api/responses_sink.h"

#include "accounting/token_estimate.h"
#include <spdlog/spdlog.h>

#include "api/responses_history.h"
#include "api/responses_response.h"
#include "api/responses_routes.h"
#include "storage/response_archive.h"
#include "tollgate/json_document.h"

namespace tollgate {

namespace asio = boost::asio;

ResponsesSink::ResponsesSink(ResponseSink& inner, const RequestContext& ctx, ResponseArchive* archive,
                             const Config* config)
    : inner_(inner), ctx_(ctx), archive_(archive), config_(config) {}

asio::awaitable<void> ResponsesSink::store_turn(std::string_view response_json) {
  if (!archive_ || !config_ || !ctx_.responses || !ctx_.responses->store) co_return;
  std::string failure;
  try {
    auto tree = parse_json_tree(response_json);
    if (!tree) co_return;
    // A terminal event carries the Response in "response"; a whole answer is one.
    const nlohmann::json& response = tree->contains("response") ? (*tree)["response"] : *tree;
    auto record = stored_response(response, owner_of(ctx_, *config_), ctx_.responses->input_items);
    if (!record) co_return;
    const bool stored = co_await archive_->put(std::move(*record));
    if (!stored) spdlog::info("[{}] response {} is larger than responses.max_response_bytes; not stored", ctx_.request_id,
                              ctx_.responses->id);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    spdlog::warn("[{}] response {} could not be stored: {}", ctx_.request_id, ctx_.responses->id, failure);
  }
}

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
  if (ctx_.responses && reply.status == 200) co_await store_turn(reply.body);
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
    if (pending_[i].type == "response.completed" || pending_[i].type == "response.incomplete") {
      co_await store_turn(pending_[i].data);
    }
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
