#pragma once
// Everything known about one client request as it moves through the gateway.
// Owned by the session; middleware and the router read and fill it. Touched by
// one thread at a time (the connection's).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/usage.h"

namespace tollgate {

// messages and count_tokens are the Anthropic-compatible routes; the session
// serves them as chat_completions once their body is translated.
enum class Endpoint { chat_completions, completions, embeddings, models, model, health, messages, count_tokens, unknown };
const char* to_string(Endpoint e);

// Who is calling, as established by auth middleware.
struct Principal {
  std::string key_name;  // display name; never the key itself
  std::string key_prefix;  // short public prefix for logs
  std::vector<std::string> allowed_models;  // empty: all
  bool is_master = false;
};

struct RequestContext {
  using Clock = std::chrono::steady_clock;

  std::string request_id;
  Endpoint endpoint = Endpoint::unknown;
  std::string method;
  std::string path;  // normalised: "/v1/..."
  std::string client_ip;

  // Selected request headers (lower-case names). Authorization values are kept
  // here only for auth and are never logged or forwarded.
  std::string authorization;
  std::string x_api_key;
  std::string traceparent;

  nlohmann::json body;         // parsed JSON body (POST routes)
  std::string requested_model; // body.model
  bool stream = false;
  bool client_wants_usage = false;  // stream_options.include_usage from the client
  std::optional<Principal> principal;

  // Outcome, filled as the request proceeds.
  std::string model_group;
  std::string deployment_model;
  std::string provider_name;
  std::string provider_type;
  int attempts = 0;
  int status = 0;
  std::string error_type;
  Usage usage;
  std::optional<double> cost_usd;
  std::vector<std::string> notes;  // e.g. dropped parameters, for a response header

  Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> first_byte;  // first byte sent to the client
  std::optional<Clock::time_point> end;
  bool client_disconnected = false;
};

}  // namespace tollgate
