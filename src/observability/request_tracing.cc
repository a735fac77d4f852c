#include "observability/request_tracing.h"

#include <random>

#include "observability/trace_context.h"

namespace tollgate {

namespace {

bool sample(double ratio) {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng) < ratio;
}

// gen_ai.operation.name for an endpoint.
const char* operation(Endpoint e) {
  switch (e) {
    case Endpoint::embeddings: return "embeddings";
    case Endpoint::completions: return "text_completion";
    default: return "chat";
  }
}

}  // namespace

void start_trace(RequestContext& ctx, double sample_ratio) {
  if (auto parent = parse_traceparent(ctx.traceparent)) {
    ctx.trace_id = parent->trace_id;
    ctx.parent_span_id = parent->span_id;
    ctx.trace_sampled = parent->sampled;
  } else {
    ctx.trace_id = new_trace_id();
    ctx.trace_sampled = sample(sample_ratio);
  }
  ctx.span_id = new_span_id();
}

std::vector<SpanData> request_spans(const RequestContext& ctx) {
  std::vector<SpanData> spans;
  if (!ctx.trace_sampled || ctx.trace_id.empty()) return spans;
  const auto end_steady = ctx.end.value_or(RequestContext::Clock::now());
  const auto duration = std::chrono::duration_cast<SystemClock::duration>(end_steady - ctx.start);
  const char* op = operation(ctx.endpoint);

  SpanData server;
  server.trace_id = ctx.trace_id;
  server.span_id = ctx.span_id;
  server.parent_span_id = ctx.parent_span_id;
  server.kind = SpanData::Kind::server;
  server.name = ctx.requested_model.empty() ? ctx.method + " " + ctx.path : std::string(op) + " " + ctx.requested_model;
  server.start = ctx.wall_start;
  server.end = ctx.wall_start + duration;
  auto& a = server.attributes;
  a.emplace_back("http.request.method", ctx.method);
  a.emplace_back("url.path", ctx.path);
  a.emplace_back("http.response.status_code", static_cast<int64_t>(ctx.status));
  a.emplace_back("tollgate.request_id", ctx.request_id);
  if (!ctx.requested_model.empty()) {
    a.emplace_back("gen_ai.operation.name", std::string(op));
    a.emplace_back("gen_ai.request.model", ctx.requested_model);
  }
  if (!ctx.provider_type.empty()) a.emplace_back("gen_ai.provider.name", ctx.provider_type);
  if (!ctx.deployment_model.empty()) a.emplace_back("gen_ai.response.model", ctx.deployment_model);
  if (const JsonView v = ctx.body["max_tokens"]; v.is_number_integer()) {
    a.emplace_back("gen_ai.request.max_tokens", v.as_int64());
  }
  if (const JsonView v = ctx.body["temperature"]; v.is_number()) {
    a.emplace_back("gen_ai.request.temperature", v.as_double());
  }
  if (ctx.usage.total_tokens() > 0) {
    a.emplace_back("gen_ai.usage.input_tokens", ctx.usage.prompt_tokens);
    a.emplace_back("gen_ai.usage.output_tokens", ctx.usage.completion_tokens);
  }
  if (ctx.cost_usd) a.emplace_back("tollgate.cost_usd", *ctx.cost_usd);
  if (!ctx.model_group.empty()) a.emplace_back("tollgate.model_group", ctx.model_group);
  if (ctx.principal && !ctx.principal->key_name.empty()) a.emplace_back("tollgate.key_alias", ctx.principal->key_name);
  a.emplace_back("tollgate.attempts", static_cast<int64_t>(ctx.attempts));
  if (ctx.status >= 400 || ctx.client_disconnected) {
    server.status = SpanData::Status::error;
    server.status_message = ctx.error_type;
    a.emplace_back("error.type", ctx.error_type.empty() ? std::to_string(ctx.status) : ctx.error_type);
  }
  spans.push_back(std::move(server));

  for (const auto& at : ctx.attempt_log) {
    if (at.span_id.empty()) continue;
    SpanData s;
    s.trace_id = ctx.trace_id;
    s.span_id = at.span_id;
    s.parent_span_id = ctx.span_id;
    s.kind = SpanData::Kind::client;
    s.name = std::string(op) + " " + at.model;
    s.start = at.wall_start;
    s.end = at.wall_end;
    s.attributes.emplace_back("gen_ai.operation.name", std::string(op));
    s.attributes.emplace_back("gen_ai.provider.name", at.provider_type);
    s.attributes.emplace_back("gen_ai.request.model", at.model);
    s.attributes.emplace_back("tollgate.deployment", at.deployment_id);
    s.attributes.emplace_back("tollgate.model_group", at.model_group);
    s.attributes.emplace_back("http.response.status_code", static_cast<int64_t>(at.status));
    if (!at.error.empty()) {
      s.status = SpanData::Status::error;
      s.status_message = at.error;
      s.attributes.emplace_back("error.type", at.error);
    }
    spans.push_back(std::move(s));
  }
  return spans;
}

}  // namespace tollgate
