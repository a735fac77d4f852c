#pragma once
// A ResponseSink wrapper for the Responses API (POST /v1/responses): the
// router and providers write the OpenAI chat shape as for
// /v1/chat/completions; this sink rewrites it into Responses objects and
// events before it reaches the session (responses_response.h for whole
// responses, responses_stream.h for streams). Errors before a stream starts
// stay the gateway's OpenAI-shaped errors. A stream ends with exactly one
// terminal event: when the upstream breaks off without one, end_stream sends
// response.failed. A completed (or incomplete) Response of a request with
// `store` goes into the archive before the client sees it, so that a
// follow-up naming it finds it (responses_history.h). Owned by the
// session's dispatch; one thread.

#include <optional>
#include <vector>

#include "api/responses_stream.h"
#include "tollgate/config.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

class ResponseArchive;

class ResponsesSink final : public ResponseSink {
 public:
  // `inner` (the session) and `ctx` outlive the sink. ctx.responses must be
  // filled (BodyParser does it) before anything is sent.
  // `archive` (may be null: nothing is stored) and `config` outlive the sink.
  ResponsesSink(ResponseSink& inner, const RequestContext& ctx, ResponseArchive* archive = nullptr,
                const Config* config = nullptr);

  boost::asio::awaitable<bool> send_response(int status, std::string body, HeaderList headers) override;
  boost::asio::awaitable<bool> start_stream(HeaderList headers) override;
  // OpenAI chat payloads in; Responses named events out.
  boost::asio::awaitable<bool> send_event(std::string_view payload) override;
  boost::asio::awaitable<bool> send_named_event(std::string_view name, std::string_view payload) override;
  boost::asio::awaitable<bool> send_comment(std::string_view text) override;
  boost::asio::awaitable<void> end_stream() override;
  boost::asio::awaitable<void> wait_client_gone() override;
  bool committed() const override { return inner_.committed(); }
  bool client_gone() const override { return inner_.client_gone(); }

 private:
  ResponseEnvelope envelope() const;
  ResponsesStreamTranslator& translator();
  boost::asio::awaitable<bool> send_pending();
  // Puts the turn whose Response text this is into the archive, when the
  // request asked for it; a failure is logged, the answer still goes out.
  boost::asio::awaitable<void> store_turn(std::string_view response_json);

  ResponseSink& inner_;
  const RequestContext& ctx_;
  ResponseArchive* archive_;
  const Config* config_;
  std::optional<ResponsesStreamTranslator> stream_;
  std::vector<ResponsesEvent> pending_;  // a member, not a temporary, across co_await
};

}  // namespace tollgate
