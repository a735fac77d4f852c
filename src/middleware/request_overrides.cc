#include "middleware/request_overrides.h"

#include <charconv>

#include "middleware/policy.h"

namespace tollgate {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(sep, start), text.size());
    out.push_back(trim(std::string_view(text).substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

const std::string* header(const RequestContext& ctx, const char* name) {
  auto it = ctx.control_headers.find(name);
  return it == ctx.control_headers.end() || it->second.empty() ? nullptr : &it->second;
}

}  // namespace

std::optional<std::map<std::string, std::string>> parse_route_tags(const std::string& text) {
  std::map<std::string, std::string> tags;
  for (const auto& item : split(text, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    const std::string k = trim(std::string_view(item).substr(0, eq));
    const std::string v = trim(std::string_view(item).substr(eq + 1));
    if (k.empty() || v.empty()) return std::nullopt;
    tags[k] = v;
  }
  return tags;
}

boost::asio::awaitable<Decision> RequestOverrides::on_request(RequestContext& ctx) {
  if (const auto* t = header(ctx, "x-tollgate-timeout-ms")) {
    int ms = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), ms);
    if (ec != std::errc() || end != t->data() + t->size() || ms < 1) {
      co_return ApiError::bad_request("x-tollgate-timeout-ms must be a positive whole number of milliseconds.",
                                      "x-tollgate-timeout-ms", "invalid_header");
    }
    ctx.timeout_override_ms = std::min(ms, config_->router.total_ms);
  }
  if (const auto* f = header(ctx, "x-tollgate-fallbacks")) {
    std::vector<std::string> models;
    if (trim(*f) != "none") {
      for (auto& name : split(*f, ',')) {
        if (name.empty()) {
          co_return ApiError::bad_request("x-tollgate-fallbacks must be a comma-separated list of models, or none.",
                                          "x-tollgate-fallbacks", "invalid_header");
        }
        if (!config_->find_model(name)) {
          co_return ApiError::bad_request("x-tollgate-fallbacks names an unknown model `" + name + "`.",
                                          "x-tollgate-fallbacks", "model_not_found");
        }
        if (ctx.principal && !Policy::allowed(*ctx.principal, name)) {
          co_return ApiError::forbidden("Your key may not use model `" + name + "` named in x-tollgate-fallbacks.");
        }
        models.push_back(std::move(name));
      }
    }
    ctx.fallback_override = std::move(models);
  }
  if (const auto* tags = header(ctx, "x-tollgate-route-tags")) {
    auto parsed = parse_route_tags(*tags);
    if (!parsed) {
      co_return ApiError::bad_request("x-tollgate-route-tags must look like region=eu,tier=gold.",
                                      "x-tollgate-route-tags", "invalid_header");
    }
    ctx.route_tags = std::move(*parsed);
  }
  co_return std::nullopt;
}

}  // namespace tollgate
