#include "tollgate/config_loader.h"

#include <boost/asio/ip/address.hpp>

#include "tollgate/pricing.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "config/config_sections.h"
#include "config/yaml_reader.h"
#include "tollgate/provider_profile.h"

namespace tollgate {
namespace {

namespace fs = std::filesystem;
using namespace config_detail;

struct ProviderTypeInfo {
  std::string_view name;
  ProviderType type;
  std::string_view default_base_url;  // empty: required, or derived (vertex, bedrock)
};
constexpr std::array<ProviderTypeInfo, 9> kProviderTypes = {{
    {"openai", ProviderType::openai, "https://api.openai.com/v1"},
    {"openai_compatible", ProviderType::openai_compatible, ""},
    {"mock", ProviderType::mock, ""},
    {"anthropic", ProviderType::anthropic, "https://api.anthropic.com"},
    {"gemini", ProviderType::gemini, "https://generativelanguage.googleapis.com"},
    {"vertex", ProviderType::vertex, ""},
    {"bedrock", ProviderType::bedrock, ""},
    {"azure", ProviderType::azure, ""},
    {"cohere", ProviderType::cohere, "https://api.cohere.com"},
}};
constexpr std::string_view kProviderTypeList =
    "openai, openai_compatible, mock, anthropic, gemini, vertex, bedrock, azure, cohere";
constexpr std::array<std::string_view, 7> kLogLevels = {"trace", "debug",    "info", "warn",
                                                        "error", "critical", "off"};
// Headers the gateway owns; letting config set them would break framing or routing.
constexpr std::array<std::string_view, 3> kReservedHeaders = {"host", "content-length",
                                                              "transfer-encoding"};

template <class Range>
std::string join(const Range& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool is_header_token(std::string_view s) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](unsigned char c) {
    return std::isalnum(c) || kSymbols.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool parse_port(std::string_view s, uint16_t& port) {
  unsigned v = 0;
  if (s.empty() || s.size() > 5) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

// A URL's "host", "host:port", "[v6]" or "[v6]:port"; port 1-65535.
bool valid_authority(std::string_view a) {
  std::string_view host = a, port;
  if (a.starts_with('[')) {
    const std::size_t close = a.find(']');
    if (close == std::string_view::npos) return false;
    host = a.substr(1, close - 1);
    const std::string_view after = a.substr(close + 1);
    if (!after.empty() && (!after.starts_with(':') || after.size() == 1)) return false;
    if (!after.empty()) port = after.substr(1);
  } else if (const std::size_t colon = a.rfind(':'); colon != std::string_view::npos) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
    if (port.empty() || host.find(':') != std::string_view::npos) return false;
  }
  uint16_t p = 0;
  return !host.empty() && (port.empty() || (parse_port(port, p) && p != 0));
}

// "HOST:PORT" or "[IPV6]:PORT"; brackets are stripped from the host.
bool parse_listen(std::string_view s, std::string& host, uint16_t& port) {
  std::string_view h, p;
  if (s.starts_with('[')) {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || s.substr(close + 1, 1) != ":") return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
  }
  if (h.empty() || has_space_or_control(h) || !parse_port(p, port)) return false;
  // The listener binds an address; names other than localhost are not resolved.
  boost::system::error_code ec;
  if (h != "localhost" && (boost::asio::ip::make_address(std::string(h), ec), ec)) return false;
  host = std::string(h);
  return true;
}

// The schema: which keys exist, their types, and how they must agree with each other.
class Loader : private YamlReader {
 public:
  explicit Loader(fs::path base_dir) : YamlReader(std::move(base_dir)) {}
  using YamlReader::set_env_references;
  ConfigLoadResult load(const YAML::Node& root);

 private:
  void load_server(const Fields& top, ServerConfig& out);
  void load_providers(const Fields& top, Config& cfg);
  void load_provider(const YAML::Node& node, const std::string& path, ProviderConfig& p);
  void load_headers(const Fields& f, ProviderConfig& p);
  void load_base_url(const Fields& f, bool type_ok, ProviderConfig& p);
  void load_native_fields(const Fields& f, ProviderConfig& p);
  void load_models(const Fields& top, Config& cfg);
  void load_keys(const Fields& top, Config& cfg);
  ConfigLoadResult result(std::shared_ptr<const Config> config);
};

void Loader::load_server(const Fields& top, ServerConfig& out) {
  const Fields f =
      fields(top.node("server"), "server",
             {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_json_depth", "max_connections", "tls",
              "timeouts"});
  if (const YAML::Node* n = f.find("listen"); n != nullptr && n->IsSequence()) {
    // Unquoted, [::1]:4000 is a YAML list.
    error(f.at("listen"), "expected HOST:PORT, got a list (quote IPv6 addresses: \"[::1]:4000\")");
  } else if (n != nullptr) {
    if (auto s = scalar(*n, f.at("listen"), "HOST:PORT")) {
      if (!parse_listen(s->value, out.host, out.port)) {
        error(f.at("listen"), "expected HOST:PORT, got " + s->shown());
      }
    }
  }
  read_int(f, "threads", out.threads, 0, 1024);
  read_int(f, "max_body_bytes", out.max_body_bytes, 1, LLONG_MAX);
  read_int(f, "max_header_bytes", out.max_header_bytes, 1, LLONG_MAX);
  read_int(f, "max_json_depth", out.max_json_depth, 2, 1024);
  read_int(f, "max_connections", out.max_connections, 0, 10'000'000);
  if (const YAML::Node* n = f.find("tls")) {
    const Fields tls = fields(*n, f.at("tls"), {"cert_file", "key_file"});
    TlsConfig t;
    const bool cert = read_file(tls, "cert_file", t.cert_file);
    const bool key = read_file(tls, "key_file", t.key_file);
    if (cert && key) out.tls = std::move(t);
  }
  const Fields t = fields(f.node("timeouts"), f.at("timeouts"),
                          {"header_ms", "idle_ms", "write_ms", "drain_ms", "keepalive_ms"});
  read_int(t, "header_ms", out.header_timeout_ms, 1);
  read_int(t, "idle_ms", out.idle_timeout_ms, 1);
  read_int(t, "write_ms", out.write_timeout_ms, 1);
  read_int(t, "drain_ms", out.drain_timeout_ms, 0);
  read_int(t, "keepalive_ms", out.keepalive_interval_ms, 1);
}

void Loader::load_headers(const Fields& f, ProviderConfig& p) {
  const YAML::Node* n = f.find("headers");
  if (n == nullptr) return;
  const std::string path = f.at("headers");
  if (!n->IsMap()) {
    error(path, "expected a mapping of header names to values, got " + describe(*n));
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : *n) {
    if (!kv.first.IsScalar() || !is_header_token(kv.first.Scalar())) {
      const std::string shown = kv.first.IsScalar() ? quote(kv.first.Scalar()) : describe(kv.first);
      error(path,
            "invalid header name " + shown +
                " (letters, digits and !#$%&'*+-.^_`|~ only; no spaces, colons or line breaks)");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    const std::string at = path + "." + name;
    const std::string lname = lower(name);
    if (lname == "authorization") {
      error(at, "cannot be set in headers; use the provider's api_key for credentials");
      continue;
    }
    if (contains(kReservedHeaders, lname)) {
      error(at, "cannot be set in headers; the gateway sets this header itself");
      continue;
    }
    if (!seen.insert(lname).second) {
      error(at, "duplicate header (names are case-insensitive)");
      continue;
    }
    std::string value;
    if (!kv.second.IsNull()) {
      auto s = scalar(kv.second, at, "a string");
      if (!s) continue;
      value = std::move(s->value);
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      error(at, "value must not contain line breaks or NUL characters");
      continue;
    }
    p.headers[name] = std::move(value);
  }
}

void Loader::load_base_url(const Fields& f, bool type_ok, ProviderConfig& p) {
  const YAML::Node* n = f.find("base_url");
  if (n == nullptr) {
    if (!type_ok) return;
    for (const auto& info : kProviderTypes) {
      if (info.type == p.type && !info.default_base_url.empty()) p.base_url = std::string(info.default_base_url);
    }
    if (p.type == ProviderType::openai_compatible || p.type == ProviderType::azure) {
      error(f.at("base_url"), std::string("required for type ") + to_string(p.type));
    } else if (p.type == ProviderType::vertex) {
      p.base_url = p.location == "global" ? "https://aiplatform.googleapis.com"
                                          : "https://" + p.location + "-aiplatform.googleapis.com";
    } else if (p.type == ProviderType::bedrock && !p.region.empty()) {
      p.base_url = "https://bedrock-runtime." + p.region + ".amazonaws.com";
    }
    return;
  }
  auto s = scalar(*n, f.at("base_url"), "a URL");
  if (!s) return;
  std::string url = s->value;
  const std::size_t scheme = url.starts_with("https://") ? 8 : url.starts_with("http://") ? 7 : 0;
  const std::string_view rest = std::string_view(url).substr(scheme);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  std::string why;
  if (scheme == 0) {
    why = "must start with http:// or https://";
    // Echoed back only when it cannot carry credentials.
    if (url.find('@') == std::string::npos) why += ", got " + s->shown();
  } else if (authority.find('@') != std::string_view::npos) {
    why = "must not contain credentials; use api_key or headers";
  } else if (!valid_authority(authority) || has_space_or_control(url)) {
    why = "expected scheme://host[:port][/path] without spaces, got " + s->shown();
  } else if (url.find_first_of("?#") != std::string::npos) {
    why = "must not contain a query or fragment";
  }
  while (url.ends_with('/')) url.pop_back();
  if (!why.empty()) {
    error(f.at("base_url"), why);
  } else if (type_ok && p.type == ProviderType::mock) {
    warn(f.at("base_url"), "ignored for a provider of type mock");
  } else {
    p.base_url = std::move(url);
  }
}

// Fields that only some native provider types take, with their defaults.
void Loader::load_native_fields(const Fields& f, ProviderConfig& p) {
  auto only_for = [&](const char* key, std::initializer_list<ProviderType> types) {
    if (!f.has(key)) return false;
    for (auto t : types) {
      if (t == p.type) return true;
    }
    error(f.at(key), std::string("not used by type ") + to_string(p.type));
    return false;
  };
  auto env_or = [&](const char* var) {
    const auto v = env_lookup()(var);
    return v ? *v : std::string();
  };
  if (only_for("api_version", {ProviderType::anthropic, ProviderType::azure})) read_required(f, "api_version", p.api_version);
  if (p.api_version.empty() && p.type == ProviderType::anthropic) p.api_version = "2023-06-01";
  if (p.api_version.empty() && p.type == ProviderType::azure) p.api_version = "2024-10-21";
  if (only_for("bearer_token", {ProviderType::azure})) read_string(f, "bearer_token", p.bearer_token);

  const auto bedrock = {ProviderType::bedrock};
  if (only_for("region", bedrock)) read_required(f, "region", p.region);
  if (only_for("aws_access_key_id", bedrock)) read_string(f, "aws_access_key_id", p.aws_access_key_id);
  if (only_for("aws_secret_access_key", bedrock)) read_string(f, "aws_secret_access_key", p.aws_secret_access_key);
  if (only_for("aws_session_token", bedrock)) read_string(f, "aws_session_token", p.aws_session_token);
  if (p.type == ProviderType::bedrock) {
    if (p.region.empty()) p.region = env_or("AWS_REGION");
    if (p.region.empty()) p.region = env_or("AWS_DEFAULT_REGION");
    if (p.region.empty()) error(f.at("region"), "required for type bedrock (or set AWS_REGION)");
    if (p.aws_access_key_id.empty()) p.aws_access_key_id = env_or("AWS_ACCESS_KEY_ID");
    if (p.aws_secret_access_key.empty()) p.aws_secret_access_key = env_or("AWS_SECRET_ACCESS_KEY");
    if (p.aws_session_token.empty()) p.aws_session_token = env_or("AWS_SESSION_TOKEN");
    // A Bedrock API key (api_key, sent as a bearer token) replaces SigV4 credentials.
    if (!f.has("api_key") && (p.aws_access_key_id.empty() || p.aws_secret_access_key.empty())) {
      warn(f.at("aws_access_key_id"), "no AWS credentials in the config or the environment; upstream calls will be rejected");
    }
  }

  const auto vertex = {ProviderType::vertex};
  if (only_for("project", vertex)) read_required(f, "project", p.project);
  if (only_for("location", vertex)) read_required(f, "location", p.location);
  if (only_for("credentials_file", vertex)) read_file(f, "credentials_file", p.credentials_file);
  if (only_for("token_url", vertex)) read_required(f, "token_url", p.token_url);
  if (p.type == ProviderType::vertex) {
    if (p.location.empty()) p.location = "us-central1";
    if (p.token_url.empty()) p.token_url = "https://oauth2.googleapis.com/token";
    if (p.project.empty()) error(f.at("project"), "required for type vertex");
    if (!f.has("credentials_file")) error(f.at("credentials_file"), "required for type vertex (a service-account JSON key file)");
  }
}

void Loader::load_provider(const YAML::Node& node, const std::string& path, ProviderConfig& p) {
  const Fields f = fields(node, path,
                         {"name", "type", "base_url", "api_key", "headers", "profile", "mock", "params",
                          "api_version", "bearer_token", "region", "aws_access_key_id",
                          "aws_secret_access_key", "aws_session_token", "project", "location",
                          "credentials_file", "token_url"});
  read_name(f, "name", p.name);

  bool type_ok = false;
  std::string type;
  if (read_required(f, "type", type)) {
    for (const auto& info : kProviderTypes) {
      if (info.name == type) {
        p.type = info.type;
        type_ok = true;
      }
    }
    if (!type_ok) {
      error(f.at("type"), "unknown provider type " + quote(type) + " (expected " + std::string(kProviderTypeList) + ")");
    }
  }
  if (f.has("params")) {
    std::string policy;
    if (read_required(f, "params", policy)) {
      if (policy == "drop") {
        p.params = ParamPolicy::drop;
      } else if (policy == "reject") {
        p.params = ParamPolicy::reject;
      } else {
        error(f.at("params"), "expected drop or reject, got " + quote(policy));
      }
    }
  }
  if (type_ok) load_native_fields(f, p);

  if (read_string(f, "api_key", p.api_key) && has_control(p.api_key)) {
    error(f.at("api_key"), "must not contain control characters or line breaks");
  }
  load_headers(f, p);

  load_base_url(f, type_ok, p);

  if (type_ok && p.type == ProviderType::openai && p.api_key.empty()) {
    warn(f.at("api_key"), "empty for a provider of type openai; upstream calls will be rejected");
  }

  if (f.has("profile") && read_required(f, "profile", p.profile) && type_ok) {
    if (p.type != ProviderType::openai_compatible) {
      error(f.at("profile"), "only allowed for type openai_compatible");
    } else {
      try {
        const auto names = ProviderProfiles::bundled().names();
        if (std::find(names.begin(), names.end(), p.profile) == names.end()) {
          error(f.at("profile"), "unknown profile " + quote(p.profile) +
                                     suggestion(p.profile, names) + " (expected one of " +
                                     join(names) + ")");
        }
      } catch (const std::exception& e) {
        error(f.at("profile"),
              std::string("bundled provider profiles are unreadable: ") + e.what());
      }
    }
  }

  if (const YAML::Node* n = f.find("mock")) {
    if (type_ok && p.type != ProviderType::mock) {
      error(f.at("mock"), "only allowed for type mock");
    } else {
      const Fields m =
          fields(*n, f.at("mock"), {"chunks", "chunk_delay_ms", "embedding_dimensions"});
      read_int(m, "chunks", p.mock.chunks, 1);
      read_int(m, "chunk_delay_ms", p.mock.chunk_delay_ms, 0);
      read_int(m, "embedding_dimensions", p.mock.embedding_dimensions, 1, 65536);
    }
  }
}

void Loader::load_providers(const Fields& top, Config& cfg) {
  std::map<std::string, std::string> first_path;
  for (const auto& [node, path] : list(top, "providers")) {
    ProviderConfig p;
    load_provider(node, path, p);
    if (p.name.empty()) continue;
    if (auto [it, inserted] = first_path.emplace(p.name, path); !inserted) {
      error(path + ".name",
            "duplicate provider name " + quote(p.name) + " (first defined at " + it->second + ")");
      continue;
    }
    // Kept even when invalid so that references to it do not report a second error.
    cfg.providers.push_back(std::move(p));
  }
}

void Loader::load_models(const Fields& top, Config& cfg) {
  std::vector<std::string> provider_names;
  for (const auto& p : cfg.providers) provider_names.push_back(p.name);
  std::map<std::string, std::string> first_path;
  // Per cfg.models: general, context-window and content-policy fallbacks.
  std::vector<std::array<std::vector<std::pair<std::string, std::string>>, 3>> fallbacks;
  std::map<std::string, std::string> deployment_ids;  // id -> path, across models
  const auto items = list(top, "models");
  if (const YAML::Node* n = top.find("models");
      n == nullptr || (n->IsSequence() && n->size() == 0)) {
    error("models", "at least one model is required");
  }

  for (const auto& [node, path] : items) {
    const Fields f = fields(node, path,
                            {"name", "deployments", "fallbacks", "context_window_fallbacks", "content_policy_fallbacks",
                             "price", "strategy", "context_window"});
    ModelConfig m;
    read_name(f, "name", m.name);

    const auto deployments = list(f, "deployments");
    if (!f.has("deployments")) {
      error(f.at("deployments"), "required (at least one)");
    } else if (deployments.empty() && f.find("deployments")->IsSequence()) {
      error(f.at("deployments"), "must list at least one deployment");
    }
    for (const auto& [dnode, dpath] : deployments) {
      const Fields d = fields(dnode, dpath, {"provider", "model", "weight", "id", "tags", "rpm", "tpm", "health_check"});
      DeploymentConfig dep;
      if (read_required(d, "provider", dep.provider) &&
          cfg.find_provider(dep.provider) == nullptr) {
        error(d.at("provider"),
              "unknown provider " + quote(dep.provider) + suggestion(dep.provider, provider_names));
      }
      read_required(d, "model", dep.model);
      read_double(d, "weight", dep.weight, /*positive=*/true);
      if (d.has("id")) {
        read_name(d, "id", dep.id);
      } else {
        dep.id = dep.provider + "/" + dep.model;
      }
      // The same deployment may serve several groups; an explicit id names one.
      if (d.has("id") && !dep.id.empty()) {
        if (auto [it, inserted] = deployment_ids.emplace(dep.id, dpath); !inserted) {
          error(d.at("id"), "duplicate deployment id " + quote(dep.id) + " (first used at " + it->second + ")");
        }
      }
      read_string_map(d, "tags", dep.tags);
      int64_t limit = 0;
      if (read_int(d, "rpm", limit, 1, INT64_MAX)) dep.rpm = limit;
      if (read_int(d, "tpm", limit, 1, INT64_MAX)) dep.tpm = limit;
      read_bool(d, "health_check", dep.health_check);
      m.deployments.push_back(std::move(dep));
    }

    std::array<std::vector<std::pair<std::string, std::string>>, 3> model_fallbacks = {
        read_string_list(f, "fallbacks"), read_string_list(f, "context_window_fallbacks"),
        read_string_list(f, "content_policy_fallbacks")};
    RoutingStrategy strategy{};
    if (read_strategy(*this, f, "strategy", strategy)) m.strategy = strategy;
    int64_t window = 0;
    if (read_int(f, "context_window", window, 1, INT64_MAX)) m.context_window = window;

    if (const YAML::Node* n = f.find("price")) {
      const Fields pf =
          fields(*n, f.at("price"),
                 {"input_per_million", "output_per_million", "cached_input_per_million"});
      PriceConfig price;
      for (const char* key : {"input_per_million", "output_per_million"}) {
        if (!pf.has(key)) error(pf.at(key), "required when price is set");
      }
      read_double(pf, "input_per_million", price.input_per_million, false);
      read_double(pf, "output_per_million", price.output_per_million, false);
      double cached = 0;
      if (read_double(pf, "cached_input_per_million", cached, false)) {
        price.cached_input_per_million = cached;
      }
      m.price = price;
    }

    if (m.name.empty()) continue;
    if (auto [it, inserted] = first_path.emplace(m.name, path); !inserted) {
      error(path + ".name",
            "duplicate model name " + quote(m.name) + " (first defined at " + it->second + ")");
      continue;
    }
    cfg.models.push_back(std::move(m));
    fallbacks.push_back(std::move(model_fallbacks));
  }

  // Fallbacks may name models defined further down, so they are checked once all are known.
  std::vector<std::string> model_names;
  for (const auto& m : cfg.models) model_names.push_back(m.name);
  for (std::size_t i = 0; i < cfg.models.size(); ++i) {
    ModelConfig& m = cfg.models[i];
    std::vector<std::string>* lists[3] = {&m.fallbacks, &m.context_window_fallbacks, &m.content_policy_fallbacks};
    for (std::size_t kind = 0; kind < 3; ++kind) {
      auto& out = *lists[kind];
      for (const auto& [name, path] : fallbacks[i][kind]) {
        if (name == m.name) {
          error(path, "a model cannot fall back to itself");
        } else if (cfg.find_model(name) == nullptr) {
          error(path, "unknown model " + quote(name) + suggestion(name, model_names));
        } else if (std::find(out.begin(), out.end(), name) != out.end()) {
          error(path, "duplicate fallback " + quote(name));
        } else {
          out.push_back(name);
        }
      }
    }
  }
}

void Loader::load_keys(const Fields& top, Config& cfg) {
  std::vector<std::string> model_names;
  for (const auto& m : cfg.models) model_names.push_back(m.name);
  std::map<std::string, std::string> name_path, key_path;
  for (const auto& [node, path] : list(top, "keys")) {
    const Fields f = fields(node, path, {"name", "key", "models", "route_tags"});
    KeyConfig k;
    if (read_required(f, "name", k.name)) {
      if (has_control(k.name)) {
        error(f.at("name"), "must not contain control characters");
      } else if (auto [it, inserted] = name_path.emplace(k.name, path); !inserted) {
        error(f.at("name"),
              "duplicate key name " + quote(k.name) + " (first defined at " + it->second + ")");
      }
    }
    if (read_required(f, "key", k.key)) {
      check_secret(*this, f.at("key"), k.key);
      if (k.key == cfg.master_key) {
        error(f.at("key"), "same value as master_key");
      } else if (auto [it, inserted] = key_path.emplace(k.key, path); !inserted) {
        error(f.at("key"), "same value as " + it->second + ".key");
      }
    }
    if (const YAML::Node* m = f.find("models"); m && m->IsSequence() && m->size() == 0) {
      // An empty allow-list reads like "nothing", but would mean "everything".
      error(f.at("models"), "empty list; omit `models` to allow every model, or list the allowed ones");
    }
    for (auto& [model, mpath] : read_string_list(f, "models")) {
      if (cfg.find_model(model) == nullptr) {
        error(mpath, "unknown model " + quote(model) + suggestion(model, model_names));
      } else {
        k.models.push_back(std::move(model));
      }
    }
    read_string_map(f, "route_tags", k.route_tags);
    cfg.keys.push_back(std::move(k));
  }
}

ConfigLoadResult Loader::result(std::shared_ptr<const Config> config) {
  ConfigLoadResult r;
  if (errors().empty()) r.config = std::move(config);
  r.errors = take_errors();
  r.warnings = take_warnings();
  return r;
}

ConfigLoadResult Loader::load(const YAML::Node& root) {
  auto cfg = std::make_shared<Config>();
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    error("", "expected a mapping at the top level, got " + describe(root));
    return result(nullptr);
  }
  const Fields top = fields(
      root, "",
      {"server", "master_key", "price_file", "logging", "providers", "models", "router", "keys", "database",
       "database_pool", "key_refresh_ms", "ledger", "budgets", "responses", "metrics", "tracing", "reload"});
  load_server(top, cfg->server);

  if (read_string(top, "master_key", cfg->master_key)) {
    if (cfg->master_key.empty()) {
      warn("master_key", "empty, so no master key is configured");
    } else {
      check_secret(*this, "master_key", cfg->master_key);
    }
  }
  if (top.has("price_file") && read_file(top, "price_file", cfg->price_file)) {
    // Parse it now so `tollgate check` catches a broken table, not start-up.
    if (auto table = PriceTable::from_file(cfg->price_file); !table) error(top.at("price_file"), table.error().message);
  }

  const Fields log = fields(top.node("logging"), "logging", {"level", "json"});
  std::string level;
  if (read_string(log, "level", level)) {
    if (contains(kLogLevels, level)) {
      cfg->logging.level = level;
    } else {
      error(log.at("level"), "unknown level " + quote(level) + suggestion(level, kLogLevels) +
                                 " (expected trace, debug, info, warn, error, critical, off)");
    }
  }
  read_bool(log, "json", cfg->logging.json);

  load_providers(top, *cfg);
  load_models(top, *cfg);
  load_router(*this, top, cfg->router);
  load_keys(top, *cfg);
  load_storage(*this, top, *cfg);
  load_observability(*this, top, *cfg);

  if (cfg->open_access()) {
    warn("", "no master_key and no keys: any client that can reach " + cfg->server.host +
                 " may call every model without a key");
  }
  return result(std::move(cfg));
}

ConfigLoadResult load(const std::string& yaml_text, const fs::path& base_dir) {
  YAML::Node root;
  std::vector<std::string> env_refs;
  try {
    root = YAML::Load(protect_env_references(yaml_text, env_refs));
  } catch (const YAML::Exception& e) {
    ConfigLoadResult r;
    std::string where;
    if (!e.mark.is_null()) {
      where = "line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ": ";
    }
    r.errors.push_back("YAML syntax error: " + where + e.msg);
    return r;
  }
  Loader loader(base_dir);
  loader.set_env_references(std::move(env_refs));
  return loader.load(root);
}

}  // namespace

ConfigLoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoadResult r;
    r.errors.push_back("cannot read config file " + quote(path) + ": " + std::strerror(errno));
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return load(text.str(), dir);
}

ConfigLoadResult load_config_string(const std::string& yaml_text) {
  return load(yaml_text, fs::path());
}

}  // namespace tollgate
