#include "tollgate/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tollgate/provider_profile.h"

namespace tollgate {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Sets an environment variable for the lifetime of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

// A directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tollgate-config-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

 private:
  fs::path path_;
};

// The smallest valid config: one mock provider, one model.
const std::string kProvidersAndModels = R"(
providers:
  - {name: local, type: mock}
models:
  - name: m1
    deployments: [{provider: local, model: echo}]
)";

std::vector<std::string> errors_of(const std::string& yaml) {
  ConfigLoadResult r = load_config_string(yaml);
  EXPECT_EQ(r.config, nullptr) << "a config with errors must not be returned";
  return r.errors;
}

std::shared_ptr<const Config> valid(const ConfigLoadResult& r) {
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_NE(r.config, nullptr);
  return r.config;
}

TEST(ConfigLoader, MinimalConfigGetsDefaults) {
  ConfigLoadResult r = load_config_string(kProvidersAndModels);
  auto c = valid(r);
  ASSERT_NE(c, nullptr);

  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 4000);
  EXPECT_EQ(c->server.threads, 0);
  EXPECT_EQ(c->server.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c->server.max_header_bytes, 64u * 1024);
  EXPECT_FALSE(c->server.tls.has_value());
  EXPECT_EQ(c->server.header_timeout_ms, 30'000);
  EXPECT_EQ(c->server.idle_timeout_ms, 60'000);
  EXPECT_EQ(c->server.write_timeout_ms, 30'000);
  EXPECT_EQ(c->server.drain_timeout_ms, 30'000);
  EXPECT_EQ(c->server.keepalive_interval_ms, 15'000);

  EXPECT_EQ(c->router.retries, 2);
  EXPECT_EQ(c->router.backoff_initial_ms, 200);
  EXPECT_EQ(c->router.backoff_max_ms, 5'000);
  EXPECT_EQ(c->router.retry_after_max_ms, 30'000);
  EXPECT_EQ(c->router.connect_ms, 5'000);
  EXPECT_EQ(c->router.first_byte_ms, 60'000);
  EXPECT_EQ(c->router.total_ms, 600'000);

  EXPECT_EQ(c->logging.level, "info");
  EXPECT_FALSE(c->logging.json);
  EXPECT_EQ(c->master_key, "");
  EXPECT_EQ(c->price_file, "");
  EXPECT_THAT(c->keys, IsEmpty());

  ASSERT_EQ(c->providers.size(), 1u);
  const ProviderConfig& p = c->providers[0];
  EXPECT_EQ(p.type, ProviderType::mock);
  EXPECT_EQ(p.base_url, "");
  EXPECT_EQ(p.mock.chunks, 8);
  EXPECT_EQ(p.mock.chunk_delay_ms, 0);
  EXPECT_EQ(p.mock.embedding_dimensions, 8);

  ASSERT_EQ(c->models.size(), 1u);
  ASSERT_EQ(c->models[0].deployments.size(), 1u);
  EXPECT_EQ(c->models[0].deployments[0].weight, 1.0);
  EXPECT_THAT(c->models[0].fallbacks, IsEmpty());
  EXPECT_FALSE(c->models[0].price.has_value());

  EXPECT_EQ(c->find_provider("local"), &c->providers[0]);
  EXPECT_EQ(c->find_model("m1"), &c->models[0]);
  EXPECT_EQ(c->find_model("m2"), nullptr);
  EXPECT_TRUE(c->open_access());
  EXPECT_THAT(r.warnings, ElementsAre("no master_key and no keys: any client that can reach "
                                      "127.0.0.1 may call every model without a key"));
}

TEST(ConfigLoader, FullConfigFromFileRoundTrips) {
  TempDir dir;
  dir.write("cert.pem", "cert");
  dir.write("tls/key.pem", "key");
  dir.write("prices.json", R"({"models": {"m": {"input_per_million": 1, "output_per_million": 2}}})");
  ScopedEnv master("TG_TEST_FULL_MASTER", "sk-master-0123456789");
  ScopedEnv openai_key("TG_TEST_FULL_OPENAI_KEY", "sk-openai-secret");
  ScopedEnv demo("TG_TEST_FULL_DEMO", "sk-demo-0123456789");
  unsetenv("TG_TEST_FULL_GROQ_KEY");
  const fs::path file = dir.write("tollgate.yaml", R"(
server:
  listen: "[::1]:8443"
  threads: 4
  max_body_bytes: 2048
  max_header_bytes: 1024
  tls: {cert_file: cert.pem, key_file: tls/key.pem}
  timeouts: {header_ms: 1000, idle_ms: 2000, write_ms: 3000, drain_ms: 0, keepalive_ms: 5000}
master_key: ${TG_TEST_FULL_MASTER}
price_file: prices.json
logging: {level: debug, json: true}
providers:
  - name: openai
    type: openai
    api_key: os.environ/TG_TEST_FULL_OPENAI_KEY
    headers: {OpenAI-Organization: org-123, X-Trace: "a b"}
  - name: groq
    type: openai_compatible
    base_url: https://api.groq.com/openai/v1/
    api_key: ${TG_TEST_FULL_GROQ_KEY:-gsk-default}
    profile: groq
  - name: fake
    type: mock
    mock: {chunks: 3, chunk_delay_ms: 5, embedding_dimensions: 16}
models:
  - name: gpt-4o-mini
    deployments:
      - {provider: openai, model: gpt-4o-mini-2024-07-18, weight: 3}
      - {provider: groq, model: llama-3.1-8b-instant, weight: 0.5}
    fallbacks: [local-echo]
    price: {input_per_million: 0.15, output_per_million: 0.60, cached_input_per_million: 0.075}
  - name: local-echo
    deployments: [{provider: fake, model: echo}]
router:
  retries: 1
  backoff: {initial_ms: 100, max_ms: 1000}
  retry_after_max_ms: 10000
  timeouts: {connect_ms: 1000, first_byte_ms: 2000, total_ms: 3000}
keys:
  - {name: demo, key: "${TG_TEST_FULL_DEMO}", models: [gpt-4o-mini]}
  - {name: all, key: sk-all-models-0001}
)");
  ConfigLoadResult r = load_config_file(file.string());
  auto c = valid(r);
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(r.warnings, IsEmpty());

  EXPECT_EQ(c->server.host, "::1");
  EXPECT_EQ(c->server.port, 8443);
  EXPECT_EQ(c->server.threads, 4);
  EXPECT_EQ(c->server.max_body_bytes, 2048u);
  EXPECT_EQ(c->server.max_header_bytes, 1024u);
  ASSERT_TRUE(c->server.tls.has_value());
  // Relative paths are taken from the config file's directory, not the working directory.
  EXPECT_EQ(c->server.tls->cert_file, (dir.path() / "cert.pem").string());
  EXPECT_EQ(c->server.tls->key_file, (dir.path() / "tls/key.pem").string());
  EXPECT_EQ(c->server.header_timeout_ms, 1000);
  EXPECT_EQ(c->server.idle_timeout_ms, 2000);
  EXPECT_EQ(c->server.write_timeout_ms, 3000);
  EXPECT_EQ(c->server.drain_timeout_ms, 0);
  EXPECT_EQ(c->server.keepalive_interval_ms, 5000);
  EXPECT_EQ(c->master_key, "sk-master-0123456789");
  EXPECT_EQ(c->price_file, (dir.path() / "prices.json").string());
  EXPECT_EQ(c->logging.level, "debug");
  EXPECT_TRUE(c->logging.json);

  ASSERT_EQ(c->providers.size(), 3u);
  const ProviderConfig& openai = c->providers[0];
  EXPECT_EQ(openai.name, "openai");
  EXPECT_EQ(openai.type, ProviderType::openai);
  EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(openai.api_key, "sk-openai-secret");
  EXPECT_EQ(openai.headers, (std::map<std::string, std::string>{{"OpenAI-Organization", "org-123"},
                                                                {"X-Trace", "a b"}}));
  const ProviderConfig& groq = c->providers[1];
  EXPECT_EQ(groq.type, ProviderType::openai_compatible);
  EXPECT_EQ(groq.base_url, "https://api.groq.com/openai/v1");
  EXPECT_EQ(groq.api_key, "gsk-default");
  EXPECT_EQ(groq.profile, "groq");
  const ProviderConfig& fake = c->providers[2];
  EXPECT_EQ(fake.type, ProviderType::mock);
  EXPECT_EQ(fake.mock.chunks, 3);
  EXPECT_EQ(fake.mock.chunk_delay_ms, 5);
  EXPECT_EQ(fake.mock.embedding_dimensions, 16);

  ASSERT_EQ(c->models.size(), 2u);
  const ModelConfig& m = c->models[0];
  EXPECT_EQ(m.name, "gpt-4o-mini");
  ASSERT_EQ(m.deployments.size(), 2u);
  EXPECT_EQ(m.deployments[0].provider, "openai");
  EXPECT_EQ(m.deployments[0].model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(m.deployments[0].weight, 3.0);
  EXPECT_EQ(m.deployments[1].provider, "groq");
  EXPECT_EQ(m.deployments[1].weight, 0.5);
  EXPECT_THAT(m.fallbacks, ElementsAre("local-echo"));
  ASSERT_TRUE(m.price.has_value());
  EXPECT_DOUBLE_EQ(m.price->input_per_million, 0.15);
  EXPECT_DOUBLE_EQ(m.price->output_per_million, 0.60);
  EXPECT_EQ(m.price->cached_input_per_million, 0.075);

  EXPECT_EQ(c->router.retries, 1);
  EXPECT_EQ(c->router.backoff_initial_ms, 100);
  EXPECT_EQ(c->router.backoff_max_ms, 1000);
  EXPECT_EQ(c->router.retry_after_max_ms, 10000);
  EXPECT_EQ(c->router.connect_ms, 1000);
  EXPECT_EQ(c->router.first_byte_ms, 2000);
  EXPECT_EQ(c->router.total_ms, 3000);

  ASSERT_EQ(c->keys.size(), 2u);
  EXPECT_EQ(c->keys[0].name, "demo");
  EXPECT_EQ(c->keys[0].key, "sk-demo-0123456789");
  EXPECT_THAT(c->keys[0].models, ElementsAre("gpt-4o-mini"));
  EXPECT_EQ(c->keys[1].name, "all");
  EXPECT_THAT(c->keys[1].models, IsEmpty());
  EXPECT_FALSE(c->open_access());
}

TEST(ConfigLoader, SubstitutesEnvironmentInBothSyntaxes) {
  ScopedEnv host("TG_TEST_ENV_HOST", "10.0.0.5");
  ScopedEnv port("TG_TEST_ENV_PORT", "8080");
  ScopedEnv key("TG_TEST_ENV_KEY", "sk-from-env");
  ScopedEnv threads("TG_TEST_ENV_THREADS", "3");
  ScopedEnv empty("TG_TEST_ENV_EMPTY", "");
  unsetenv("TG_TEST_ENV_UNSET_DEFAULT");
  auto c = valid(load_config_string(R"(
server: {threads: "${TG_TEST_ENV_THREADS}", listen: "0.0.0.0:${TG_TEST_ENV_PORT}"}
providers:
  - name: p
    type: openai_compatible
    base_url: "http://${TG_TEST_ENV_HOST}:${TG_TEST_ENV_PORT}/v1"
    api_key: os.environ/TG_TEST_ENV_KEY
    headers:
      X-Literal: "$${NOT_A_VAR} costs $5"
      X-Default: "${TG_TEST_ENV_UNSET_DEFAULT:-fallback}"
      X-Empty-Default: "${TG_TEST_ENV_EMPTY:-used-when-empty}"
      X-Empty: "[${TG_TEST_ENV_EMPTY}]"
models:
  - name: m
    deployments: [{provider: p, model: x}]
)"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.threads, 3);
  EXPECT_EQ(c->server.port, 8080);
  const ProviderConfig& p = c->providers[0];
  EXPECT_EQ(p.base_url, "http://10.0.0.5:8080/v1");
  EXPECT_EQ(p.api_key, "sk-from-env");
  EXPECT_EQ(p.headers.at("X-Literal"), "${NOT_A_VAR} costs $5");
  EXPECT_EQ(p.headers.at("X-Default"), "fallback");
  EXPECT_EQ(p.headers.at("X-Empty-Default"), "used-when-empty");
  EXPECT_EQ(p.headers.at("X-Empty"), "[]");
}

TEST(ConfigLoader, UnquotedReferencesWorkInsideFlowMaps) {
  // The issue's own example: `${VAR}` unquoted inside `{...}` is not valid
  // YAML on its own, but ops write it that way.
  ScopedEnv key("TG_TEST_FLOW_KEY", "sk-demo-flow-123");
  ScopedEnv api("TG_TEST_FLOW_API", "sk-upstream");
  auto c = valid(load_config_string(R"(
providers:
  - {name: p, type: openai, api_key: ${TG_TEST_FLOW_API}}
models:
  - name: m
    deployments: [{provider: p, model: x}]
keys:
  - {name: demo, key: ${TG_TEST_FLOW_KEY}, models: [m]}
# a comment mentioning ${TG_TEST_NOT_SET_ANYWHERE} is ignored
)"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->keys[0].key, "sk-demo-flow-123");
  EXPECT_EQ(c->providers[0].api_key, "sk-upstream");
}

TEST(ConfigLoader, UnsetOrMalformedEnvironmentReferencesAreErrorsWithPaths) {
  unsetenv("TG_TEST_UNSET_MASTER");
  unsetenv("TG_TEST_UNSET_KEY");
  unsetenv("TG_TEST_UNSET_A");
  unsetenv("TG_TEST_UNSET_B");
  EXPECT_THAT(
      errors_of(R"(
master_key: ${TG_TEST_UNSET_MASTER}
providers:
  - {name: p, type: openai, api_key: os.environ/TG_TEST_UNSET_KEY}
  - name: q
    type: openai
    headers: {X-Two: "${TG_TEST_UNSET_A}-${TG_TEST_UNSET_B}", X-Bad: "${bad-name}", X-Open: "a${b"}
    api_key: os.environ/not valid
models:
  - name: m
    deployments: [{provider: p, model: x}]
)"),
      ElementsAre(
          R"(master_key: environment variable "TG_TEST_UNSET_MASTER" is not set)",
          R"(providers[0].api_key: environment variable "TG_TEST_UNSET_KEY" is not set)",
          R"(providers[1].api_key: invalid environment variable name after "os.environ/")",
          R"(providers[1].headers.X-Two: environment variable "TG_TEST_UNSET_A" is not set)",
          R"(providers[1].headers.X-Two: environment variable "TG_TEST_UNSET_B" is not set)",
          R"(providers[1].headers.X-Bad: invalid environment reference "${bad-name}")",
          R"(providers[1].headers.X-Open: unterminated "${" (missing "}"; write "$${" for a literal "${"))"));
}

TEST(ConfigLoader, ErrorsNeverShowValuesFromTheEnvironment) {
  ScopedEnv listen("TG_TEST_SECRET_LISTEN", "sekrit-listen");
  ScopedEnv key("TG_TEST_SECRET_KEY", "s3cr");
  ScopedEnv dup("TG_TEST_SECRET_DUP", "sk-duplicated-secret");
  const auto errors = errors_of(kProvidersAndModels + R"(
server: {listen: "${TG_TEST_SECRET_LISTEN}"}
keys:
  - {name: a, key: "${TG_TEST_SECRET_KEY}"}
  - {name: b, key: "${TG_TEST_SECRET_DUP}"}
  - {name: c, key: "${TG_TEST_SECRET_DUP}"}
)");
  EXPECT_THAT(
      errors,
      ElementsAre(
          R"(server.listen: expected HOST:PORT, got "${TG_TEST_SECRET_LISTEN}" (value from the environment not shown))",
          "keys[0].key: must be at least 8 characters", "keys[2].key: same value as keys[1].key"));
  for (const auto& e : errors) {
    EXPECT_THAT(e, Not(HasSubstr("sekrit")));
    EXPECT_THAT(e, Not(HasSubstr("s3cr")));
    EXPECT_THAT(e, Not(HasSubstr("sk-duplicated")));
  }
}

TEST(ConfigLoader, YamlSyntaxErrorIsOneErrorWithLineAndColumn) {
  // Lines and columns count from 1, as editors show them.
  const auto errors = errors_of("server:\n  listen: [1, 2\n  threads: 1\nmodels: 5\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("YAML syntax error: line 3, column 10: "));

  const auto errors2 = errors_of("server:\n  threads: 1\n   listen: x\n");
  ASSERT_EQ(errors2.size(), 1u);
  EXPECT_THAT(errors2[0], HasSubstr("YAML syntax error: line 3, column 10: "));
}

TEST(ConfigLoader, UnknownKeysAtEveryLevelAreErrors) {
  unsetenv("TG_TEST_UNSET_IN_TYPO");
  EXPECT_THAT(
      errors_of(R"(
server: {lisen: "${TG_TEST_UNSET_IN_TYPO}"}
modles: []
providers:
  - {name: local, type: mock, api_kye: x, mock: {chunk: 2}}
models:
  - name: m1
    deployments: [{provider: local, model: echo, wieght: 2}]
    prices: {}
router: {timeouts: {total: 5}, backof: {}}
logging: {format: json}
keys:
  - {name: k, key: sk-0123456789, model: [m1]}
)"),
      ElementsAre(R"(modles: unknown key (did you mean "models"?))",
                  R"(server.lisen: unknown key (did you mean "listen"?))",
                  "logging.format: unknown key",
                  R"(providers[0].api_kye: unknown key (did you mean "api_key"?))",
                  R"(providers[0].mock.chunk: unknown key (did you mean "chunks"?))",
                  R"(models[0].prices: unknown key (did you mean "price"?))",
                  R"(models[0].deployments[0].wieght: unknown key (did you mean "weight"?))",
                  R"(router.backof: unknown key (did you mean "backoff"?))",
                  R"(router.timeouts.total: unknown key (did you mean "total_ms"?))",
                  R"(keys[0].model: unknown key (did you mean "models"?))"));
}

TEST(ConfigLoader, ResponsesSection) {
  auto defaults = valid(load_config_string(kProvidersAndModels));
  EXPECT_TRUE(defaults->responses.store_default);
  EXPECT_EQ(defaults->responses.retention_days, 30);
  EXPECT_EQ(defaults->responses.max_response_bytes, 8ull << 20);
  EXPECT_EQ(defaults->responses.memory_max_bytes, 256ull << 20);

  auto set = valid(load_config_string(
      kProvidersAndModels + "responses: {store_default: false, retention_days: 0, max_response_mb: 2, memory_max_mb: 64}\n"));
  EXPECT_FALSE(set->responses.store_default);
  EXPECT_EQ(set->responses.retention_days, 0);
  EXPECT_EQ(set->responses.max_response_bytes, 2ull << 20);
  EXPECT_EQ(set->responses.memory_max_bytes, 64ull << 20);

  const auto errors = errors_of(kProvidersAndModels + "responses: {retention_days: -1, max_response_mb: 0, retention: 3}\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors, Contains(HasSubstr("responses.retention_days")));
  EXPECT_THAT(errors, Contains(HasSubstr("responses.max_response_mb")));
  EXPECT_THAT(errors, Contains(HasSubstr("responses.retention: unknown key")));
}

TEST(ConfigLoader, DuplicateYamlKeysAreErrors) {
  EXPECT_THAT(errors_of(kProvidersAndModels + "server:\n  threads: 1\n  threads: 2\n"),
              ElementsAre("server.threads: duplicate key"));
}

TEST(ConfigLoader, WrongValueTypesAreErrorsNotExceptions) {
  EXPECT_THAT(
      errors_of(R"(
server: {threads: many, max_body_bytes: [1], listen: 4000, max_header_bytes: 1.5}
master_key: {a: b}
logging: {json: maybe, level: verbose}
providers: {name: x}
models:
  - name: m1
    deployments: {provider: x}
    fallbacks: m2
  - [not, a, mapping]
router: {retries: 99999999999999999999}
keys: sk-not-a-list
)"),
      ElementsAre(
          R"(server.listen: expected HOST:PORT, got "4000")",
          R"(server.threads: expected an integer, got "many")",
          "server.max_body_bytes: expected an integer, got a list",
          R"(server.max_header_bytes: expected an integer, got "1.5")",
          "master_key: expected a string, got a mapping",
          R"(logging.level: unknown level "verbose" (expected trace, debug, info, warn, error, critical, off))",
          R"(logging.json: expected true or false, got "maybe")",
          "providers: expected a list, got a mapping",
          "models[0].deployments: expected a list, got a mapping",
          "models[0].fallbacks: expected a list, got a single value",
          "models[1]: expected a mapping, got a list", "models[1].name: required",
          "models[1].deployments: required (at least one)",
          R"(router.retries: must be between 0 and 100, got "99999999999999999999")",
          "keys: expected a list, got a single value"));
}

TEST(ConfigLoader, ReportsEveryMistakeAtOnce) {
  ConfigLoadResult r = load_config_string(R"(
server: {listen: abc}
providers:
  - {name: openai, type: openai, api_key: sk-test-123}
  - {name: claude, type: antropic}
models:
  - name: gpt
    deployments: [{provider: openai, model: gpt-4o}]
  - name: other
    deployments: [{provider: opnai, model: gpt-4o}]
keys:
  - {name: k, key: sk-0123456789, models: [gtp]}
)");
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(
      r.errors,
      ElementsAre(
          R"(server.listen: expected HOST:PORT, got "abc")",
          R"(providers[1].type: unknown provider type "antropic" (expected openai, openai_compatible, mock, anthropic, gemini, vertex, bedrock, azure, cohere))",
          R"(models[1].deployments[0].provider: unknown provider "opnai" (did you mean "openai"?))",
          R"(keys[0].models[0]: unknown model "gtp" (did you mean "gpt"?))"));
}

TEST(ConfigLoader, ListenAddressForms) {
  struct Case {
    std::string listen;
    std::string host;
    uint16_t port;
  };
  for (const Case& c :
       {Case{"127.0.0.1:4000", "127.0.0.1", 4000}, Case{"[::1]:4000", "::1", 4000},
        Case{"0.0.0.0:0", "0.0.0.0", 0}, Case{"localhost:65535", "localhost", 65535}}) {
    auto cfg =
        valid(load_config_string(kProvidersAndModels + "server: {listen: \"" + c.listen + "\"}\n"));
    ASSERT_NE(cfg, nullptr) << c.listen;
    EXPECT_EQ(cfg->server.host, c.host) << c.listen;
    EXPECT_EQ(cfg->server.port, c.port) << c.listen;
  }
  for (const std::string bad : {"abc", "127.0.0.1:70000", "::1:4000", ":4000",
                                "127.0.0.1:", "[::1]4000", "127.0.0.1:-1", "host name:80"}) {
    EXPECT_THAT(errors_of(kProvidersAndModels + "server: {listen: \"" + bad + "\"}\n"),
                ElementsAre("server.listen: expected HOST:PORT, got \"" + bad + "\""));
  }
}

TEST(ConfigLoader, UnquotedIpv6ListenGetsAHint) {
  EXPECT_THAT(
      errors_of(kProvidersAndModels + "server:\n  listen: [::1]\n"),
      ElementsAre(
          R"(server.listen: expected HOST:PORT, got a list (quote IPv6 addresses: "[::1]:4000"))"));
}

TEST(ConfigLoader, LoggingLevels) {
  for (const std::string level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    auto c = valid(load_config_string(kProvidersAndModels + "logging: {level: " + level + "}\n"));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->logging.level, level);
  }
  EXPECT_THAT(
      errors_of(kProvidersAndModels + "logging: {level: warning}\n"),
      ElementsAre(
          R"(logging.level: unknown level "warning" (did you mean "warn"?) (expected trace, debug, info, warn, error, critical, off))"));
}

TEST(ConfigLoader, ProviderTypeUrlProfileAndMockRules) {
  std::string names;
  for (const auto& n : ProviderProfiles::bundled().names())
    names += (names.empty() ? "" : ", ") + n;
  EXPECT_THAT(
      errors_of(R"(
providers:
  - {name: a}
  - {name: b, type: vertex}
  - {name: c, type: openai_compatible}
  - {name: d, type: openai_compatible, base_url: api.groq.com/v1}
  - {name: e, type: openai_compatible, base_url: "https://user:pw@example.com/v1"}
  - {name: f, type: openai_compatible, base_url: "https://example.com/v1?x=1"}
  - {name: g, type: openai, profile: groq}
  - {name: h, type: openai_compatible, base_url: "http://localhost:8000/v1", profile: grok}
  - {name: i, type: openai, mock: {chunks: 1}}
  - {name: a, type: mock}
  - {name: "has space", type: mock}
  - {name: j, type: mock, mock: {chunks: 0, chunk_delay_ms: -1, embedding_dimensions: 100000}}
  - {name: k, type: openai_compatible, base_url: "http://[::1/v1"}
  - {name: l, type: openai_compatible, base_url: "http://host:abc/v1"}
  - {name: m, type: openai_compatible, base_url: "http://:8000"}
  - {name: n, type: openai_compatible, base_url: "https://"}
models:
  - name: m
    deployments: [{provider: a, model: x}]
)"),
      ElementsAre(
          "providers[0].type: required",
          "providers[1].project: required for type vertex",
          "providers[1].credentials_file: required for type vertex (a service-account JSON key file)",
          "providers[2].base_url: required for type openai_compatible",
          R"(providers[3].base_url: must start with http:// or https://, got "api.groq.com/v1")",
          "providers[4].base_url: must not contain credentials; use api_key or headers",
          "providers[5].base_url: must not contain a query or fragment",
          "providers[6].profile: only allowed for type openai_compatible",
          R"(providers[7].profile: unknown profile "grok" (did you mean "groq"?) (expected one of )" +
              names + ")",
          "providers[8].mock: only allowed for type mock",
          R"(providers[9].name: duplicate provider name "a" (first defined at providers[0]))",
          R"(providers[10].name: must not contain spaces or control characters, got "has space")",
          R"(providers[11].mock.chunks: must be >= 1, got "0")",
          R"(providers[11].mock.chunk_delay_ms: must be >= 0, got "-1")",
          R"(providers[11].mock.embedding_dimensions: must be between 1 and 65536, got "100000")",
          R"(providers[12].base_url: expected scheme://host[:port][/path] without spaces, got "http://[::1/v1")",
          R"(providers[13].base_url: expected scheme://host[:port][/path] without spaces, got "http://host:abc/v1")",
          R"(providers[14].base_url: expected scheme://host[:port][/path] without spaces, got "http://:8000")",
          R"(providers[15].base_url: expected scheme://host[:port][/path] without spaces, got "https://")"));
}

TEST(ConfigLoader, BaseUrlTrailingSlashesAreStripped) {
  auto c = valid(load_config_string(R"(
providers:
  - {name: v6, type: openai_compatible, base_url: "http://[::1]:8000/v1//"}
  - {name: root, type: openai_compatible, base_url: "https://example.com/"}
models:
  - name: m
    deployments: [{provider: v6, model: x}, {provider: root, model: x}]
)"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->providers[0].base_url, "http://[::1]:8000/v1");
  EXPECT_EQ(c->providers[1].base_url, "https://example.com");
}

TEST(ConfigLoader, WarningsDoNotFailTheLoad) {
  ConfigLoadResult r = load_config_string(R"(
master_key: ""
providers:
  - {name: openai, type: openai}
  - {name: local, type: mock, base_url: "http://unused"}
models:
  - name: m
    deployments: [{provider: openai, model: x}, {provider: local, model: y}]
keys:
  - {name: k, key: sk-0123456789}
)");
  auto c = valid(r);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->providers[1].base_url, "");
  EXPECT_THAT(r.warnings,
              ElementsAre("master_key: empty, so no master key is configured",
                          "providers[0].api_key: empty for a provider of type openai; upstream "
                          "calls will be rejected",
                          "providers[1].base_url: ignored for a provider of type mock"));
}

TEST(ConfigLoader, HeaderRules) {
  const auto errors = errors_of(R"(
providers:
  - name: p
    type: mock
    headers:
      Authorization: Bearer sk-inline-secret
      host: example.com
      Content-Length: "5"
      TRANSFER-ENCODING: chunked
      "X Bad": v
      "X:Bad": v
      "X-A\r\nB": v
      X-Newline: "a\r\nInjected: yes"
      X-Ok: fine
      x-ok: dup
      X-List: [a]
models:
  - name: m
    deployments: [{provider: p, model: x}]
)");
  const std::string token_rule =
      " (letters, digits and !#$%&'*+-.^_`|~ only; no spaces, colons or line breaks)";
  EXPECT_THAT(
      errors,
      ElementsAre(
          "providers[0].headers.Authorization: cannot be set in headers; use the provider's "
          "api_key for credentials",
          "providers[0].headers.host: cannot be set in headers; the gateway sets this header "
          "itself",
          "providers[0].headers.Content-Length: cannot be set in headers; the gateway sets this "
          "header itself",
          "providers[0].headers.TRANSFER-ENCODING: cannot be set in headers; the gateway sets "
          "this header itself",
          R"(providers[0].headers: invalid header name "X Bad")" + token_rule,
          R"(providers[0].headers: invalid header name "X:Bad")" + token_rule,
          R"(providers[0].headers: invalid header name "X-A\r\nB")" + token_rule,
          "providers[0].headers.X-Newline: value must not contain line breaks or NUL characters",
          "providers[0].headers.x-ok: duplicate header (names are case-insensitive)",
          "providers[0].headers.X-List: expected a string, got a list"));
  for (const auto& e : errors) {
    EXPECT_THAT(e, Not(HasSubstr("sk-inline-secret")));
    EXPECT_THAT(e, Not(HasSubstr("Injected")));
  }
}

TEST(ConfigLoader, ModelRules) {
  EXPECT_THAT(
      errors_of(R"(
providers: [{name: local, type: mock}]
models:
  - name: a
    deployments:
      - {provider: local}
      - {provider: local, model: x, weight: 0}
      - {provider: local, model: x, weight: -1}
      - {provider: local, model: x, weight: heavy}
    fallbacks: [a, b, zzz, b]
  - name: b
    deployments: []
  - name: a
    deployments: [{provider: local, model: x}]
  - name: c
    price: {input_per_million: -1, cached_input_per_million: x}
  - deployments: [{model: x}]
)"),
      ElementsAre("models[0].deployments[0].model: required",
                  R"(models[0].deployments[1].weight: must be > 0, got "0")",
                  R"(models[0].deployments[2].weight: must be > 0, got "-1")",
                  R"(models[0].deployments[3].weight: expected a number, got "heavy")",
                  "models[1].deployments: must list at least one deployment",
                  R"(models[2].name: duplicate model name "a" (first defined at models[0]))",
                  "models[3].deployments: required (at least one)",
                  "models[3].price.output_per_million: required when price is set",
                  R"(models[3].price.input_per_million: must be >= 0, got "-1")",
                  R"(models[3].price.cached_input_per_million: expected a number, got "x")",
                  "models[4].name: required", "models[4].deployments[0].provider: required",
                  "models[0].fallbacks[0]: a model cannot fall back to itself",
                  R"(models[0].fallbacks[2]: unknown model "zzz")",
                  R"(models[0].fallbacks[3]: duplicate fallback "b")"));
}

TEST(ConfigLoader, AtLeastOneModelIsRequired) {
  EXPECT_THAT(errors_of("providers: [{name: local, type: mock}]\n"),
              ElementsAre("models: at least one model is required"));
  EXPECT_THAT(errors_of("providers: [{name: local, type: mock}]\nmodels: []\n"),
              ElementsAre("models: at least one model is required"));
  EXPECT_THAT(errors_of(""), ElementsAre("models: at least one model is required"));
  EXPECT_THAT(errors_of("- a\n- b\n"),
              ElementsAre("expected a mapping at the top level, got a list"));
}

TEST(ConfigLoader, RouterRules) {
  EXPECT_THAT(errors_of(kProvidersAndModels + R"(
router:
  retries: -1
  retry_after_max_ms: -5
  backoff: {initial_ms: 500, max_ms: 100}
  timeouts: {connect_ms: 0, first_byte_ms: 9000, total_ms: 5000}
)"),
              ElementsAre(R"(router.retries: must be between 0 and 100, got "-1")",
                          R"(router.retry_after_max_ms: must be >= 0, got "-5")",
                          "router.backoff.max_ms: must be >= initial_ms (500)",
                          R"(router.timeouts.connect_ms: must be >= 1, got "0")",
                          "router.timeouts.first_byte_ms: must be <= total_ms (5000)"));
}

TEST(ConfigLoader, ServerLimitsAndTimeouts) {
  EXPECT_THAT(errors_of(kProvidersAndModels + R"(
server:
  threads: 2000
  max_body_bytes: 0
  timeouts: {header_ms: 0, idle_ms: -1, write_ms: x, drain_ms: -1, keepalive_ms: 0}
)"),
              ElementsAre(R"(server.threads: must be between 0 and 1024, got "2000")",
                          R"(server.max_body_bytes: must be >= 1, got "0")",
                          R"(server.timeouts.header_ms: must be >= 1, got "0")",
                          R"(server.timeouts.idle_ms: must be >= 1, got "-1")",
                          R"(server.timeouts.write_ms: expected an integer, got "x")",
                          R"(server.timeouts.drain_ms: must be >= 0, got "-1")",
                          R"(server.timeouts.keepalive_ms: must be >= 1, got "0")"));
}

TEST(ConfigLoader, KeyRules) {
  const auto errors = errors_of(kProvidersAndModels + R"(
master_key: sk-master-key-1
keys:
  - {name: a, key: sk-key-aaaa, models: [m1, m2]}
  - {name: a, key: sk-key-aaaa}
  - {key: short}
  - {name: b, key: sk-master-key-1}
  - {name: c}
  - {name: d, key: "sk key with spaces"}
)");
  EXPECT_THAT(errors,
              ElementsAre(R"(keys[0].models[1]: unknown model "m2" (did you mean "m1"?))",
                          R"(keys[1].name: duplicate key name "a" (first defined at keys[0]))",
                          "keys[1].key: same value as keys[0].key", "keys[2].name: required",
                          "keys[2].key: must be at least 8 characters",
                          "keys[3].key: same value as master_key", "keys[4].key: required",
                          "keys[5].key: must not contain spaces or control characters"));
  for (const auto& e : errors) EXPECT_THAT(e, Not(HasSubstr("sk-key-aaaa")));

  EXPECT_THAT(errors_of(kProvidersAndModels + "master_key: short\n"),
              ElementsAre("master_key: must be at least 8 characters"));
}

TEST(ConfigLoader, TlsAndPriceFilesMustBeReadable) {
  EXPECT_THAT(
      errors_of(kProvidersAndModels + R"(
server: {tls: {cert_file: /nonexistent/cert.pem}}
price_file: /tmp
)"),
      ElementsAre(R"(server.tls.cert_file: cannot read "/nonexistent/cert.pem": no such file)",
                  "server.tls.key_file: required",
                  R"(price_file: cannot read "/tmp": is a directory)"));
  EXPECT_THAT(errors_of(kProvidersAndModels + "server: {tls: {}}\n"),
              ElementsAre("server.tls.cert_file: required", "server.tls.key_file: required"));
}

TEST(ConfigLoader, UnreadableFileIsOneError) {
  ConfigLoadResult r = load_config_file("/nonexistent/tollgate.yaml");
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(
      r.errors,
      ElementsAre(
          R"(cannot read config file "/nonexistent/tollgate.yaml": No such file or directory)"));
}

}  // namespace
}  // namespace tollgate

namespace tollgate {
namespace {

TEST(ConfigLoaderChecks, BrokenPriceFileEmptyKeyModelsAndHostNamesAreCaughtByCheck) {
  char tmpl[] = "/tmp/tollgate-prices-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string prices = std::string(tmpl) + "/prices.json";
  FILE* f = std::fopen(prices.c_str(), "w");
  std::fputs("{\"models\": {\"m\": {\"input_per_million\": \"cheap\"}}}", f);
  std::fclose(f);
  auto r = load_config_string(R"(
server: {listen: "gateway.internal:4000"}
price_file: )" + prices + R"(
providers: [{name: p, type: mock}]
models: [{name: m, deployments: [{provider: p, model: x}]}]
keys: [{name: k, key: "sk-0123456789", models: []}]
)");
  ASSERT_EQ(r.errors.size(), 3u) << ::testing::PrintToString(r.errors);
  EXPECT_TRUE(r.errors[0].starts_with("server.listen:")) << r.errors[0];
  EXPECT_TRUE(r.errors[1].starts_with("price_file:")) << r.errors[1];
  EXPECT_TRUE(r.errors[2].starts_with("keys[0].models: empty list")) << r.errors[2];
}

}  // namespace
}  // namespace tollgate

namespace tollgate {
namespace {

TEST(ConfigLoaderNative, NativeProviderTypesGetTheirDefaults) {
  setenv("AWS_REGION", "eu-west-3", 1);
  setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret-example", 1);
  char tmpl[] = "/tmp/tollgate-sa-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string sa = std::string(tmpl) + "/sa.json";
  FILE* f = std::fopen(sa.c_str(), "w");
  std::fputs("{}", f);
  std::fclose(f);
  auto r = load_config_string(R"(
providers:
  - {name: claude, type: anthropic, api_key: k}
  - {name: g, type: gemini, api_key: k}
  - {name: v, type: vertex, project: p1, location: europe-west4, credentials_file: )" + sa + R"(}
  - {name: b, type: bedrock}
  - {name: az, type: azure, base_url: "https://res.openai.azure.com", api_key: k, params: reject}
  - {name: co, type: cohere, api_key: k}
models: [{name: m, deployments: [{provider: claude, model: x}]}]
)");
  unsetenv("AWS_REGION");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  const auto& p = r.config->providers;
  EXPECT_EQ(p[0].base_url, "https://api.anthropic.com");
  EXPECT_EQ(p[0].api_version, "2023-06-01");
  EXPECT_EQ(p[1].base_url, "https://generativelanguage.googleapis.com");
  EXPECT_EQ(p[2].base_url, "https://europe-west4-aiplatform.googleapis.com");
  EXPECT_EQ(p[2].token_url, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(p[3].region, "eu-west-3");
  EXPECT_EQ(p[3].base_url, "https://bedrock-runtime.eu-west-3.amazonaws.com");
  EXPECT_EQ(p[3].aws_access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(p[4].api_version, "2024-10-21");
  EXPECT_EQ(p[4].params, ParamPolicy::reject);
  EXPECT_EQ(p[5].base_url, "https://api.cohere.com");
}

TEST(ConfigLoaderNative, FieldsOfOtherTypesAreErrors) {
  auto r = load_config_string(R"(
providers: [{name: o, type: openai, api_key: k, region: us-east-1, params: maybe}]
models: [{name: m, deployments: [{provider: o, model: x}]}]
)");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0], "providers[0].params: expected drop or reject, got \"maybe\"");
  EXPECT_EQ(r.errors[1], "providers[0].region: not used by type openai");
}

}  // namespace
}  // namespace tollgate
