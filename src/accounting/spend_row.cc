#include "accounting/spend_row.h"

#include <algorithm>

namespace tollgate {

namespace {
int64_t ms_between(RequestContext::Clock::time_point a, RequestContext::Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}
}  // namespace

std::vector<std::string> parse_tags(std::string_view header) {
  std::vector<std::string> tags;
  while (!header.empty() && tags.size() < 16) {
    auto comma = header.find(',');
    std::string_view t = header.substr(0, comma);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    const bool printable = std::all_of(t.begin(), t.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
    if (!t.empty() && t.size() <= 64 && printable) tags.emplace_back(t);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return tags;
}

std::optional<SpendRow> make_spend_row(const RequestContext& ctx) {
  if (ctx.endpoint == Endpoint::health) return std::nullopt;
  if (!ctx.reached_router && ctx.status < 400) return std::nullopt;
  SpendRow r;
  r.kind = ctx.reached_router ? RowKind::spend : RowKind::rejection;
  r.request_id = ctx.request_id;
  const auto end = ctx.end.value_or(RequestContext::Clock::now());
  const int64_t latency = std::max<int64_t>(0, ms_between(ctx.start, end));
  r.start_time = ctx.wall_start;
  r.end_time = ctx.wall_start + std::chrono::milliseconds(latency);
  if (const auto& p = ctx.principal) {
    r.key_alias = p->is_master ? "master" : p->key ? p->key->key_alias : p->key_name;
    r.key_name = p->key ? p->key->key_name : p->key_prefix;
    if (p->key) {
      r.key_id = p->key->key_id;
      r.team_id = p->key->team_id;
      r.user_id = p->key->user_id;
      r.metadata = p->key->metadata;
    }
  }
  r.end_user = ctx.end_user;
  r.route = ctx.path;
  r.requested_model = ctx.requested_model;
  r.model_group = ctx.model_group;
  r.deployment = ctx.deployment_model;
  r.provider = ctx.provider_name;
  r.api_base = ctx.api_base;
  r.stream = ctx.stream;
  r.status = ctx.status;
  r.error_type = ctx.status >= 400 || ctx.status == 0 ? ctx.error_type : "";
  r.reason = ctx.reached_router ? "" : ctx.reject_reason;
  r.prompt_tokens = ctx.usage.prompt_tokens;
  r.completion_tokens = ctx.usage.completion_tokens;
  r.cached_tokens = ctx.usage.cached_tokens;
  r.reasoning_tokens = ctx.usage.reasoning_tokens;
  r.cost_usd = format_usd(ctx.cost_usd.value_or(0.0));
  r.latency_ms = latency;
  if (ctx.first_byte) r.ttft_ms = std::max<int64_t>(0, ms_between(ctx.start, *ctx.first_byte));
  r.overhead_ms = std::max<int64_t>(
      0, latency - std::chrono::duration_cast<std::chrono::milliseconds>(ctx.upstream_time).count());
  r.tags = ctx.tags;
  return r;
}

}  // namespace tollgate
