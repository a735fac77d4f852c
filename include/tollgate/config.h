#pragma once
// The configuration contract. YAML is parsed once into these immutable structs
// (see config_loader.h); components hold std::shared_ptr<const Config>.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tollgate {

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;
  int threads = 0;  // 0: number of cores
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_json_depth = 64;  // deepest nesting accepted in a request body
  // Open client connections at most; 0: sized from the file-descriptor limit.
  std::size_t max_connections = 0;
  std::optional<TlsConfig> tls;
  int header_timeout_ms = 30'000;  // time to receive a request's headers and body
  int idle_timeout_ms = 60'000;    // keep-alive idle time between requests
  int write_timeout_ms = 30'000;   // one write to a client
  int drain_timeout_ms = 30'000;   // graceful shutdown deadline for in-flight requests
  int keepalive_interval_ms = 15'000;  // SSE comment while an upstream is silent
};

enum class ProviderType { openai, openai_compatible, mock, anthropic, gemini, vertex, bedrock, azure, cohere };

// The `type:` spelling of a provider type.
const char* to_string(ProviderType t);

// What to do with a request parameter the target model does not accept
// (data/model_capabilities.json): drop it and say so in x-tollgate-notes, or
// answer 400 naming it.
enum class ParamPolicy { drop, reject };

struct MockOptions {
  int chunks = 8;           // streamed content chunks
  int chunk_delay_ms = 0;   // delay between chunks
  int embedding_dimensions = 8;
};

struct ProviderConfig {
  std::string name;
  ProviderType type = ProviderType::openai;
  std::string base_url;  // scheme://host[:port][/path], no trailing slash
  std::string api_key;   // may be empty (local servers)
  std::map<std::string, std::string> headers;  // extra upstream headers
  // Name of a profile in data/provider_profiles.json (openai_compatible only).
  // Empty: inferred from base_url's host, else "generic".
  std::string profile;
  MockOptions mock;
  ParamPolicy params = ParamPolicy::drop;

  // anthropic: the anthropic-version header (default 2023-06-01).
  // azure: the api-version query parameter (default 2024-10-21).
  std::string api_version;
  // azure: sent as `Authorization: Bearer` (Entra ID) instead of `api-key`.
  std::string bearer_token;
  // bedrock: region and credentials; empty fields are taken from the standard
  // AWS_REGION / AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
  // and AWS_SESSION_TOKEN environment variables at load time.
  std::string region;
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string aws_session_token;
  // vertex: GCP project, location (default us-central1), a service-account
  // JSON key file, and the OAuth token endpoint (default Google's; tests
  // point it at a fake).
  std::string project;
  std::string location;
  std::string credentials_file;
  std::string token_url;
};

struct DeploymentConfig {
  std::string provider;  // ProviderConfig::name
  std::string model;     // upstream model id
  double weight = 1.0;
  // Names the deployment in /health, metrics and logs; its circuit and
  // statistics survive reloads under it. Default "provider/model".
  std::string id;
  std::map<std::string, std::string> tags;  // e.g. region: eu
  std::optional<int64_t> rpm;  // usage_based headroom; skipped when used up
  std::optional<int64_t> tpm;
  // Included in active health checks (router.health_checks); false for
  // deployments a one-token chat request cannot test (embedding models).
  bool health_check = true;
};

enum class RoutingStrategy { weighted, least_busy, lowest_latency, lowest_cost, usage_based };
const char* to_string(RoutingStrategy s);

struct PriceConfig {
  double input_per_million = 0;
  double output_per_million = 0;
  std::optional<double> cached_input_per_million;
};

struct ModelConfig {
  std::string name;  // what clients send as "model"
  std::vector<DeploymentConfig> deployments;
  std::vector<std::string> fallbacks;  // general: after this group's retries fail
  // Tried when the upstream says the prompt is too long, or up front when
  // the estimated prompt exceeds context_window.
  std::vector<std::string> context_window_fallbacks;
  std::vector<std::string> content_policy_fallbacks;  // when the upstream refuses the content
  std::optional<PriceConfig> price;  // overrides the bundled price table
  std::optional<RoutingStrategy> strategy;  // overrides router.strategy
  std::optional<int64_t> context_window;    // prompt tokens; default: the price table's
};

// A deployment's circuit opens after `failures` consecutive failed attempts,
// or when at least `failure_rate` of the attempts in the last `window_ms`
// failed (once there were `min_requests`); it stays open `cooldown_ms`, then
// one probe request decides.
struct CircuitBreakerConfig {
  int failures = 5;  // 0: off
  double failure_rate = 0;  // 0: off
  int window_ms = 60'000;
  int min_requests = 10;
  int cooldown_ms = 30'000;
};

struct HealthCheckConfig {
  int interval_ms = 0;  // 0: no active health checks
  int timeout_ms = 5'000;
};

// Retries per error class within one model group; unset: router.retries.
struct RetryPolicy {
  std::optional<int> connect;
  std::optional<int> timeout;
  std::optional<int> rate_limited;
  std::optional<int> server;
};

struct RouterConfig {
  RoutingStrategy strategy = RoutingStrategy::weighted;
  RetryPolicy retry_policy;
  CircuitBreakerConfig circuit_breaker;
  HealthCheckConfig health_checks;
  int retries = 2;  // extra attempts per deployment group before fallbacks
  int backoff_initial_ms = 200;
  int backoff_max_ms = 5'000;
  int retry_after_max_ms = 30'000;  // upstream retry-after is honoured up to this
  int connect_ms = 5'000;
  int first_byte_ms = 60'000;
  int total_ms = 600'000;
};

struct KeyConfig {
  std::string name;
  std::string key;
  std::vector<std::string> models;  // empty: every model
  std::map<std::string, std::string> route_tags;  // only deployments with these tags
};

struct MetricsConfig {
  bool enabled = true;       // GET /metrics
  std::string bearer_token;  // when set, /metrics needs it
};

// OpenTelemetry export of a span per request (OTLP/HTTP, JSON).
struct TracingConfig {
  std::string otlp_endpoint;  // empty: no export (traceparent is still propagated)
  std::string service_name = "tollgate";
  std::map<std::string, std::string> headers;
  double sample_ratio = 1.0;  // for requests that arrive without a traceparent
};

struct ReloadConfig {
  int watch_interval_ms = 2'000;  // poll the config file for changes; 0: SIGHUP only
};

// The spend ledger's local spool (docs/finance.md). Relative paths are
// resolved against the config file's directory.
struct LedgerConfig {
  std::string spool_dir;  // default: "tollgate-spool" beside the config file
  uint64_t max_spool_bytes = 1ull << 30;  // above it new requests get 503
  int batch_rows = 500;
  int commit_interval_ms = 5;  // group commit window
  int ship_interval_ms = 100;  // a short batch waits this long for more rows
  int retry_max_ms = 5'000;    // shipper backoff cap while the database is down
};

struct BudgetConfig {
  // Reserved, and sent upstream as the output limit, when a request under a
  // budget sets no max_tokens and the price table does not know the model's
  // maximum output.
  int64_t default_max_output_tokens = 4096;
  // How long a reservation may outlive its request before it expires;
  // 0: router.timeouts.total_ms + 60 s.
  int reservation_ttl_ms = 0;
  // Default budget for every end user (the request's `user` field) without
  // one of their own.
  std::optional<double> end_user_max_budget;
  std::string end_user_budget_duration;
  // End users with a budget whose state is kept in memory at once (least
  // recently used forgotten first; restart-only).
  int64_t end_user_max_tracked = 10000;
};

// Stored responses of the Responses API (docs/api.md, "Stored responses").
// Kept in the database when one is configured, else in memory (bounded,
// lost on restart).
struct ResponsesConfig {
  bool store_default = true;  // what a request without `store` gets
  int retention_days = 30;    // 0: kept until deleted
  // A response (input, output and Response object) larger than this is
  // answered but not stored.
  uint64_t max_response_bytes = 8ull << 20;
  // Without a database: the most the kept responses may take in memory
  // (least recently used go first).
  uint64_t memory_max_bytes = 256ull << 20;
};

struct LoggingConfig {
  std::string level = "info";
  bool json = false;  // access log as one JSON object per line
};

struct Config {
  ServerConfig server;
  std::string master_key;
  std::vector<ProviderConfig> providers;
  std::vector<ModelConfig> models;
  RouterConfig router;
  std::vector<KeyConfig> keys;
  LoggingConfig logging;
  std::string price_file;  // optional JSON price table replacing the bundled one
  // "postgresql://..." or "sqlite:///path" (relative sqlite paths resolved
  // against the config file's directory). Empty: no virtual keys, no admin
  // API, no ledger (the access log is the only record).
  std::string database;
  int database_pool = 4;          // connections / database threads
  int key_refresh_ms = 1'000;     // how often other instances' key changes are picked up
  LedgerConfig ledger;
  BudgetConfig budgets;
  ResponsesConfig responses;
  MetricsConfig metrics;
  TracingConfig tracing;
  ReloadConfig reload;

  const ProviderConfig* find_provider(const std::string& name) const;
  const ModelConfig* find_model(const std::string& name) const;
  // True when anyone may call without a key (no keys and no master key).
  bool open_access() const { return keys.empty() && master_key.empty(); }
};

}  // namespace tollgate
