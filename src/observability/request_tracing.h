#pragma once
// W3C trace context for one request, and its spans for OTLP export: a server
// span for the request and a client span per upstream attempt, with the
// OpenTelemetry GenAI semantic-convention attributes (gen_ai.*).

#include <vector>

#include "observability/otlp_exporter.h"
#include "tollgate/config.h"
#include "tollgate/request_context.h"

namespace tollgate {

// Continues the caller's trace when ctx.traceparent is valid (its sampled
// flag decides), else starts one (sampled with `sample_ratio`). Sets
// ctx.trace_id, span_id, parent_span_id and trace_sampled.
void start_trace(RequestContext& ctx, double sample_ratio);

// The request's spans: the server span first, then one client span per
// upstream attempt (ctx.attempt_log). Empty when the trace is not sampled.
std::vector<SpanData> request_spans(const RequestContext& ctx);

}  // namespace tollgate
