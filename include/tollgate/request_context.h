#pragma once
// Everything known about one client request as it moves through the gateway.
// Owned by the session; middleware and the router read and fill it. Touched by
// one thread at a time (the connection's).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/request_body.h"
#include "tollgate/store.h"
#include "tollgate/usage.h"

namespace tollgate {

// messages and count_tokens are the Anthropic-compatible routes, responses
// the OpenAI Responses API; the session serves them as chat_completions once
// their body is translated. response_object (GET/DELETE /v1/responses/{id}),
// response_input_items and response_input_tokens are the stored-response
// routes (api/responses_routes.h).
enum class Endpoint { chat_completions, completions, embeddings, models, model, health, messages, count_tokens, responses,
                      admin, response_object, response_input_items, response_input_tokens, unknown };
const char* to_string(Endpoint e);

// Who is calling, as established by auth middleware: the master key, a
// static key from the YAML, or a virtual key from the store (then `key`, and
// `team`/`user` when it belongs to one, are the cached records).
struct Principal {
  std::string key_name;  // display name (static key name, key alias, "master"); never the key itself
  std::string key_prefix;  // short public prefix for logs
  std::vector<std::string> allowed_models;  // static keys; empty: all
  bool is_master = false;
  std::shared_ptr<const KeyRecord> key;
  std::shared_ptr<const TeamRecord> team;
  std::shared_ptr<const UserRecord> user;
  // Only deployments carrying these tags (static key `route_tags`, virtual
  // key metadata.route_tags).
  std::map<std::string, std::string> route_tags;

  // The actor recorded in audit events: key_id, static key name or "master".
  std::string actor() const { return is_master ? "master" : key ? key->key_id : key_name; }
};

// One upstream attempt, for traces and logs.
struct AttemptRecord {
  std::string deployment_id;
  std::string provider;       // provider name from the config
  std::string provider_type;  // "openai", "anthropic", ...
  std::string model;          // upstream model id
  std::string model_group;
  std::string span_id;        // the attempt's span (sent upstream in traceparent)
  TimePoint wall_start{};
  TimePoint wall_end{};
  int status = 0;             // 200, or the error status the attempt produced
  std::string error;          // error type/code; empty on success
  std::string failure;        // FailureClass name
};

// A POST /v1/responses request, as BodyParser translated it: what the
// Response objects repeat, and the seam for stored responses.
struct ResponsesCall {
  std::string id;           // the Response id (new_response_id(), made once per request)
  int64_t created_at = 0;   // Unix seconds
  bool store = true;        // the client's `store` (the API's default: true)
  nlohmann::json echo;      // the request parameters a Response repeats (instructions, tools, ...)
  std::string input_items;  // when stored: the client's input items with ids (a JSON array)
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

  // W3C trace context: the caller's trace (or a new one), this request's
  // span, and the traceparent of the current upstream attempt.
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  bool trace_sampled = false;
  std::string upstream_traceparent;
  std::vector<AttemptRecord> attempt_log;

  // Per-request overrides: the x-tollgate-timeout-ms, x-tollgate-fallbacks
  // and x-tollgate-route-tags headers as sent (by lower-case name), and what
  // the RequestOverrides middleware made of them within the key's rights.
  std::map<std::string, std::string> control_headers;
  std::optional<int> timeout_override_ms;
  std::optional<std::vector<std::string>> fallback_override;
  std::map<std::string, std::string> route_tags;

  std::string body_bytes;      // the body as received, until BodyParser parses it into `body`
  RequestBody body;            // the JSON body (POST routes), parsed once
  std::string requested_model; // body.model, as the client sent it
  std::string route_model;     // the model group to route to: requested_model after the key's aliases
  bool stream = false;
  bool client_wants_usage = false;  // stream_options.include_usage from the client
  std::optional<ResponsesCall> responses;  // POST /v1/responses only
  // POST /v1/messages and /v1/messages/count_tokens: the client's Anthropic
  // request as it was sent (`body` holds its translation to the chat shape)
  // and its anthropic-version and anthropic-beta headers, so that a
  // deployment whose provider speaks the Messages API takes it natively.
  std::optional<RequestBody> anthropic_body;
  bool anthropic_count_tokens = false;
  // Notes of its translation ("ignored context_management"), added to
  // `notes` by the router for attempts that send the translated request.
  std::vector<std::string> translation_notes;
  std::string anthropic_version;
  std::string anthropic_beta;
  // Set by a provider that relays the upstream's answer already in the
  // client's API shape (native pass-through): the API's sink forwards it
  // unchanged instead of translating it from the chat shape.
  bool response_native = false;
  std::optional<Principal> principal;

  // Outcome, filled as the request proceeds.
  std::string model_group;
  std::string deployment_model;
  std::string deployment_id;
  std::string provider_name;
  std::string provider_type;
  int attempts = 0;
  int status = 0;
  std::string error_type;
  Usage usage;
  std::optional<double> cost_usd;
  std::vector<std::string> notes;  // e.g. dropped parameters, for a response header
  std::string api_base;            // base URL of the provider that answered last
  std::chrono::microseconds upstream_time{0};  // summed over attempts, for gateway overhead
  // Headers the middleware wants on the response (x-ratelimit-*), sent on
  // successes and errors alike.
  std::vector<std::pair<std::string, std::string>> response_headers;

  // Accounting, filled by the middleware that admitted the request and read
  // when it completes (budgets settle, token windows are corrected).
  std::string end_user;  // body.user
  std::vector<std::string> tags;  // body.metadata.tags and x-tollgate-tags
  std::uint64_t budget_reservation = 0;  // 0: none
  double reserved_usd = 0;
  bool rate_admitted = false;     // token windows are corrected on completion
  int64_t estimated_tokens = 0;
  std::uint64_t parallel_permit = 0;  // 0: none; released on completion
  bool reached_router = false;  // a spend row is owed (else a rejection row)

  Clock::time_point start = Clock::now();
  TimePoint wall_start = SystemClock::now();  // for the ledger's start_time
  std::string reject_reason;  // why the chain turned the request away (no secrets)
  std::optional<Clock::time_point> first_byte;  // first byte sent to the client
  std::optional<Clock::time_point> end;
  bool client_disconnected = false;
};

}  // namespace tollgate
