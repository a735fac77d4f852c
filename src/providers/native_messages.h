#pragma once
// Native pass-through of the Anthropic Messages API: an Anthropic client's
// request (POST /v1/messages, /v1/messages/count_tokens) on a deployment
// whose upstream speaks that API goes to it as it is (the adapter's
// build_native_messages splices only the model), and the answer comes back
// to the client unchanged: the whole body, or each stream event with its
// name and data. Nothing is lost in a round trip through the chat shape:
// thinking blocks and their signatures, server tools, cache and context
// management fields all reach the client as the upstream sent them.
//
// What the gateway still needs is read on the way: usage for the spend row
// and limits (input, output, cache reads and writes, from the body's `usage`
// or from message_start and message_delta), the end of the stream
// (message_stop), and upstream `error` events, which end the attempt so that
// the router can fall back while nothing has reached the client, or end the
// stream with one error event once something has.

#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "providers/anthropic/anthropic_response.h"
#include "providers/sse_parser.h"
#include "providers/upstream_client.h"
#include "tollgate/error.h"
#include "tollgate/provider.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"
#include "tollgate/usage.h"

namespace tollgate {

// Reads what the gateway needs from the events of a native Messages stream
// without changing them. Pure; one per stream.
class NativeMessagesMeter {
 public:
  // One upstream event. An `error` event (or malformed JSON in a
  // message_start, message_delta or error event) is returned as the error
  // that ends the attempt; the event is then not for the client.
  std::optional<ApiError> on_event(const SseEvent& event);
  bool complete() const { return complete_; }
  Usage usage() const;

 private:
  anthropic::AnthropicUsage usage_;
  bool complete_ = false;
};

// The usage of a whole Messages response body (a `message`); source none
// when it has none. A count_tokens answer has no usage.
Usage native_messages_usage(const nlohmann::json& message);

// Relays the successful (2xx) upstream answer of a native Messages request
// to `sink`, sets ctx.response_native and ctx.usage. The sink is the
// Anthropic API's (AnthropicSink), which forwards native answers unchanged.
// Anthropic sends `ping` events while it works, so no keep-alive is added.
boost::asio::awaitable<AttemptOutcome> relay_native_messages(RequestContext& ctx, UpstreamExchange& ex,
                                                             ResponseSink& sink);

}  // namespace tollgate
