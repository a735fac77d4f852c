#pragma once
// The request-builder targets: request_<provider>.cc are one line each,
// calling fuzz_request with their provider type.
//
// Input: a deployment model string from the front when the trailer asks for
// one (ConsumeRandomLengthString), then the client's body; the trailer picks
// the endpoint, the stream flag, the parameter policy, whether the body must
// pass validate_request first (as on the gateway's path) and the deployment
// model (a realistic id per provider, or the fuzzed string).
//
// The body is parsed as the gateway parses it (JsonDocument, server default
// depth or the largest the config allows) into a RequestContext, and the
// adapter's request is built as HttpProvider::call builds it: the parameter
// policy on a copy of the body when it applies, then build_request through
// the ProviderAdapter interface.
//
// Checks: no exception escapes; an error is a 4xx with a message; a request
// goes to the configured scheme, host and port, with an origin-form target
// free of control bytes and spaces that starts with the configured base
// path; no header name or value holds CR, LF or NUL; the body is JSON that
// the gateway's parser accepts (an object); the provider's credential is in
// neither the body nor the target, unless the client sent it; the policy's
// notes are not empty strings; building twice gives the same request
// (SigV4's date aside: a fixed clock is not reachable through make_adapter).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include "adapter_fuzz.h"
#include "middleware/request_validation.h"
#include "providers/param_policy.h"
#include "tollgate/json_document.h"

namespace tollgate::fuzz {

// A throw-away service-account key file for the Vertex adapter, which loads
// one at construction (authorize() would use it; build_request does not).
inline std::string vertex_credentials_file() {
  // 1024 bits: the adapter accepts any RSA key, and a larger one only slows
  // the first input (a loaded machine took past the 10 s timeout at 2048).
  EVP_PKEY* key = EVP_RSA_gen(1024);
  FUZZ_CHECK(key != nullptr, "RSA key generation");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* pem = nullptr;
  const long len = BIO_get_mem_data(bio, &pem);
  const nlohmann::json file = {{"type", "service_account"},
                               {"client_email", "fuzz@fuzz-project.iam.gserviceaccount.com"},
                               {"private_key_id", "fuzz-kid"},
                               {"private_key", std::string(pem, static_cast<std::size_t>(len))}};
  BIO_free(bio);
  EVP_PKEY_free(key);
  char path[] = "/tmp/tollgate-fuzz-vertex-XXXXXX";
  const int fd = ::mkstemp(path);
  FUZZ_CHECK(fd >= 0, "mkstemp");
  const std::string text = file.dump();
  FUZZ_CHECK(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()), "write");
  ::close(fd);
  return path;
}

inline ProviderConfig request_config(ProviderType type, ParamPolicy policy) {
  ProviderConfig c = type == ProviderType::vertex ? ProviderConfig{} : provider_config(type);
  if (type == ProviderType::vertex) {
    static const std::string file = vertex_credentials_file();
    c.name = "fuzz";
    c.type = ProviderType::vertex;
    c.base_url = "https://us-central1-aiplatform.googleapis.com";
    c.project = "fuzz-project";
    c.location = "us-central1";
    c.credentials_file = file;
    c.token_url = "https://oauth2.googleapis.com/token";
  }
  c.params = policy;
  c.headers["x-fuzz-extra"] = "1";
  return c;
}

struct ConfiguredAdapter {
  std::unique_ptr<ProviderConfig> config;  // the adapter keeps a reference
  std::unique_ptr<ProviderAdapter> adapter;
  UpstreamUrl url;
};

inline const ConfiguredAdapter& request_adapter(ProviderType type, ParamPolicy policy) {
  static std::unique_ptr<ConfiguredAdapter> made[16][2];
  auto& slot = made[static_cast<int>(type)][policy == ParamPolicy::reject];
  if (!slot) {
    quiet_logs();
    slot = std::make_unique<ConfiguredAdapter>();
    slot->config = std::make_unique<ProviderConfig>(request_config(type, policy));
    slot->adapter = make_adapter(*slot->config);
    slot->url = *UpstreamUrl::parse(slot->config->base_url);
  }
  return *slot;
}

// Upstream ids that reach each adapter's special cases (reasoning-model
// renames, structured outputs, embedding families, cross-region ids).
inline const std::vector<std::string>& deployment_models(ProviderType type) {
  static const std::vector<std::string> openai = {"gpt-4o", "o1-mini", "o3", "gpt-5-chat-latest", "text-embedding-3-small",
                                                  "gpt-3.5-turbo-instruct"};
  static const std::vector<std::string> anthropic = {"claude-3-5-sonnet-20241022", "claude-sonnet-4-5",
                                                     "claude-opus-4-1", "claude-3-haiku-20240307"};
  static const std::vector<std::string> gemini = {"gemini-2.5-flash", "models/gemini-2.0-flash", "gemini-2.5-pro",
                                                  "text-embedding-004", "gemini-embedding-001"};
  static const std::vector<std::string> bedrock = {"anthropic.claude-3-5-sonnet-20240620-v1:0",
                                                   "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                                   "amazon.titan-embed-text-v2:0", "cohere.embed-english-v3",
                                                   "meta.llama3-70b-instruct-v1:0", "amazon.nova-pro-v1:0"};
  static const std::vector<std::string> cohere = {"command-r-plus", "command-a-03-2025", "embed-english-v3.0",
                                                  "embed-v4.0"};
  static const std::vector<std::string> azure = {"gpt-4o-deployment", "o1", "my.deploy_1"};
  switch (type) {
    case ProviderType::anthropic: return anthropic;
    case ProviderType::gemini:
    case ProviderType::vertex: return gemini;
    case ProviderType::bedrock: return bedrock;
    case ProviderType::cohere: return cohere;
    case ProviderType::azure: return azure;
    default: return openai;
  }
}

inline bool clean_header_text(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// An origin-form target: "/" then visible ASCII only.
inline bool clean_target(std::string_view t) {
  if (t.empty() || t[0] != '/' || t.starts_with("//")) return false;
  for (unsigned char c : t) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// As HttpProvider's build_with_policy: the policy changes a copy of the body
// that the adapter reads; ctx.body is the client's again afterwards.
inline Result<NativeRequest> build_as_gateway(const ProviderAdapter& adapter, RequestContext& ctx,
                                              const DeploymentConfig& deployment, ParamPolicy policy,
                                              std::vector<std::string>& notes) {
  if (!param_policy_applies(ctx.body.view(), deployment.model)) return adapter.build_request(ctx, deployment, notes);
  RequestBody policed = ctx.body;
  if (auto rejected = apply_param_policy(policed, deployment.model, policy, notes)) return *rejected;
  std::swap(ctx.body, policed);
  auto built = adapter.build_request(ctx, deployment, notes);
  std::swap(ctx.body, policed);
  return built;
}

inline void check_native(const NativeRequest& r, const ConfiguredAdapter& a, bool input_has_key, std::size_t depth) {
  FUZZ_CHECK(r.url.tls == a.url.tls && r.url.host == a.url.host && r.url.port == a.url.port,
             r.url.origin() + " is not " + a.url.origin());
  FUZZ_CHECK(clean_target(r.request.target), r.request.target);
  FUZZ_CHECK(r.request.target.starts_with(a.url.base_path + "/"), r.request.target);
  FUZZ_CHECK(r.request.method == "POST", r.request.method);
  for (const auto& [name, value] : r.request.headers) {
    FUZZ_CHECK(!name.empty() && clean_header_text(name) && clean_header_text(value), name + ": " + value);
  }
  auto body = JsonDocument::parse(r.request.body, JsonLimits{depth + 16});
  FUZZ_CHECK(body.ok(), r.request.body.substr(0, 2000) + "\n  " + (body.ok() ? "" : body.error().describe()));
  FUZZ_CHECK(body.value()->root().is_object(), r.request.body.substr(0, 2000));
  if (!input_has_key) {
    FUZZ_CHECK(r.request.body.find(kProviderKey) == std::string::npos, "the provider key is in the body");
    FUZZ_CHECK(r.request.target.find(kProviderKey) == std::string::npos, "the provider key is in the target");
  }
}

inline int fuzz_request(ProviderType type, const uint8_t* data, size_t size) {
  if (size > 128 * 1024) return 0;
  FuzzedDataProvider fdp(data, size);
  const uint8_t mode = fdp.ConsumeIntegral<uint8_t>();
  const uint8_t model_pick = fdp.ConsumeIntegral<uint8_t>();
  static constexpr Endpoint kEndpoints[] = {Endpoint::chat_completions, Endpoint::completions, Endpoint::embeddings,
                                            Endpoint::chat_completions};
  const Endpoint endpoint = kEndpoints[mode & 3];
  const bool stream = (mode & 4) != 0;
  const ParamPolicy policy = (mode & 8) ? ParamPolicy::reject : ParamPolicy::drop;
  const bool validated = (mode & 16) != 0;
  const std::size_t depth = (mode & 32) ? 1024 : 64;
  const bool fuzzed_model = (mode & 64) != 0;

  const auto& models = deployment_models(type);
  DeploymentConfig deployment;
  deployment.provider = "fuzz";
  deployment.model = fuzzed_model ? fdp.ConsumeRandomLengthString(128) : models[model_pick % models.size()];
  const std::string text = fdp.ConsumeRemainingBytesAsString();
  auto parsed = JsonDocument::parse(text, JsonLimits{depth});
  if (!parsed) return 0;  // the gateway answers 400 before any adapter runs

  const ConfiguredAdapter& a = request_adapter(type, policy);
  RequestContext ctx;
  ctx.request_id = "req-fuzz";
  ctx.endpoint = endpoint;
  ctx.body = RequestBody(parsed.value());
  if (validated) {
    if (validate_request(ctx)) return 0;
  } else {
    // Unvalidated bodies still have the one property every route checks
    // before an adapter can run: an object root.
    if (!ctx.body.is_object()) return 0;
    ctx.stream = stream;
    ctx.client_wants_usage = stream && (mode & 128);
    ctx.requested_model = "fuzz";
  }
  ctx.route_model = ctx.model_group = "fuzz";
  ctx.deployment_model = deployment.model;
  // The key's characters in order, with anything between them: a model name
  // from the config reaches the body with control bytes and invalid UTF-8
  // removed, which can join such pieces into the key (a false report, found
  // by this target: "f\x1f...\x1fz-provider-key-7c1e55").
  const auto holds_key = [](std::string_view s) {
    std::string_view key = kProviderKey;
    for (char c : s) {
      if (!key.empty() && c == key.front()) key.remove_prefix(1);
    }
    return key.empty();
  };
  const bool input_has_key = holds_key(text) || holds_key(deployment.model);
  const std::string client_bytes = ctx.body.serialize();

  try {
    std::vector<std::string> notes;
    auto built = build_as_gateway(*a.adapter, ctx, deployment, policy, notes);
    FUZZ_CHECK(ctx.body.serialize() == client_bytes, "the client's body changed");
    for (const auto& n : notes) FUZZ_CHECK(!n.empty(), "an empty note");
    if (!built) {
      const ApiError& e = built.error();
      FUZZ_CHECK(e.status >= 400 && e.status <= 499, std::to_string(e.status) + " " + e.message);
      FUZZ_CHECK(!e.message.empty(), "an error without a message");
      if (!input_has_key) FUZZ_CHECK(e.body().find(kProviderKey) == std::string::npos, e.body());
      return 0;
    }
    check_native(built.value(), a, input_has_key, depth);

    std::vector<std::string> notes_again;
    auto again = build_as_gateway(*a.adapter, ctx, deployment, policy, notes_again);
    FUZZ_CHECK(again.ok(), "the second build failed");
    FUZZ_CHECK(again->request.body == built->request.body && again->request.target == built->request.target,
               "building is not deterministic");
    FUZZ_CHECK(notes == notes_again, "notes differ between builds");
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("exception escaped build_request: ") + e.what());
  }
  return 0;
}

}  // namespace tollgate::fuzz
