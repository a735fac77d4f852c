#pragma once
// Span export to an OpenTelemetry collector over OTLP/HTTP with the JSON
// encoding (POST <endpoint>, Content-Type: application/json).
//
//   OtlpExporter exporter({.endpoint = "http://otel-collector:4318/v1/traces"});
//   exporter.submit(std::move(span));   // request path: never blocks
//   ...
//   exporter.stop();                    // shutdown: sends what is queued, joins
//
// A background thread sends the queue in batches every `interval`, or as soon
// as a full batch is waiting. Each batch is one POST on a new connection,
// bounded by `timeout` (connect, TLS handshake, write and read together;
// host name resolution is bounded only by the system resolver). A batch that
// fails (connection error, timeout, non-2xx) is not retried: its spans count
// as failed, and a warning goes to the "otlp" logger at most once a minute,
// with the number of failures since the last one. Telemetry must never hold
// up or break request handling, so nothing here throws after construction.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tollgate {

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct SpanData {
  enum class Kind { internal, server, client };
  enum class Status { unset, ok, error };

  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // empty for a root span
  std::string name;
  Kind kind = Kind::internal;
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point end;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  Status status = Status::unset;
  std::string status_message;
};

// One ExportTraceServiceRequest in the OTLP JSON encoding: one resource
// (service.name), one scope ("tollgate"), the spans in order. Ids are hex
// strings, kind and status code are integers, times and int64 attribute
// values are decimal strings, non-finite doubles are "NaN"/"Infinity"/
// "-Infinity"; invalid UTF-8 in strings is replaced, never rejected.
std::string encode_otlp_json(const std::string& service_name, const std::vector<SpanData>& spans);

// Checks an endpoint URL: "http://" or "https://", a host, an optional port
// (1-65535), an optional path (default "/v1/traces"). Returns the problem, or
// nullopt when the URL is usable. An empty string is an error here: callers
// treat an empty tracing.otlp_endpoint as "export off" before asking.
std::optional<std::string> validate_otlp_endpoint(std::string_view url);

class OtlpExporter {
 public:
  struct Options {
    std::string endpoint;                        // http(s)://host[:port][/path]
    std::map<std::string, std::string> headers{};  // sent with every POST (e.g. an API key); never logged
    std::string service_name = "tollgate";
    std::size_t max_queue = 2048;  // spans waiting; more are dropped
    std::size_t max_batch = 256;   // spans per POST
    std::chrono::milliseconds interval{2000};
    std::chrono::milliseconds timeout{5000};  // per POST; also bounds stop()
  };

  // Starts the export thread. Throws std::invalid_argument for an endpoint
  // validate_otlp_endpoint() rejects or a zero max_batch/max_queue. HTTPS
  // verifies the collector's certificate against the system trust store.
  explicit OtlpExporter(Options options);
  // Calls stop().
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues a span. Never blocks on the network: when the queue is full, or
  // after stop(), the span is dropped and counted. Thread-safe.
  void submit(SpanData span);

  // Blocks until every span queued before the call has been attempted (sent,
  // failed or dropped at stop). Returns at once after stop(). Thread-safe.
  void flush();

  // Lets a batch already in flight finish (it has its own `timeout`), then
  // sends what is queued for at most `timeout` more (spans still queued then
  // are dropped), and joins the thread. Idempotent; thread-safe.
  void stop();

  // Span counts. exported: accepted by the collector (2xx). failed: in a
  // batch that was attempted and failed. dropped: never attempted (queue
  // full, submitted after stop, or left when stop() ran out of time).
  std::uint64_t exported() const;
  std::uint64_t dropped() const;
  std::uint64_t failed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate
