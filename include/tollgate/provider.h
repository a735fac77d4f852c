#pragma once
// A provider executes one attempt of a request against one deployment. HTTP
// providers translate with pure functions (see src/providers/*/..._adapter.h)
// and share the upstream client; the mock provider answers in-process.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

// Why an attempt failed, for the router's retry decision.
enum class FailureClass {
  none,
  connect,      // could not reach the upstream; safe to retry
  timeout,      // connect/first-byte/total deadline
  rate_limited, // upstream 429
  server,       // upstream 5xx or garbage
  client,       // the request itself is bad (4xx from upstream): do not retry
  cancelled,    // the client went away
};

struct AttemptOutcome {
  FailureClass failure = FailureClass::none;
  std::optional<ApiError> error;          // set when failure != none
  std::optional<int> retry_after_ms;      // from upstream retry-after
  bool ok() const { return failure == FailureClass::none; }
  bool retryable() const {
    return failure == FailureClass::connect || failure == FailureClass::timeout ||
           failure == FailureClass::rate_limited || failure == FailureClass::server;
  }
};

struct AttemptLimits {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds first_byte{60000};
  std::chrono::steady_clock::time_point deadline;  // total
  std::chrono::milliseconds keepalive_interval{15000};
};

class Provider {
 public:
  virtual ~Provider() = default;
  // What the price table and logs call this upstream: "openai", "mock", or
  // an OpenAI-compatible profile name such as "groq".
  virtual std::string kind() const = 0;
  // Sends ctx's request to `deployment`. On success the provider has written
  // the complete response to `sink` and filled ctx.usage. On failure before
  // anything was committed to the sink it writes nothing, so the router may
  // retry. On failure after the stream started it returns the error and the
  // router ends the stream with an error event.
  // True when this provider takes an Anthropic Messages request natively
  // (ctx.anthropic_body, passed through with only the model changed).
  virtual bool speaks_anthropic_messages() const { return false; }
  virtual boost::asio::awaitable<AttemptOutcome> call(RequestContext& ctx,
                                                      const DeploymentConfig& deployment,
                                                      const AttemptLimits& limits,
                                                      ResponseSink& sink) = 0;
};

}  // namespace tollgate
