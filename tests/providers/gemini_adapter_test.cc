// GeminiAdapter wiring: URLs per type, credentials headers, factory, and the
// thought-signature store's bounds.
#include "providers/gemini/gemini_adapter.h"

#include <gtest/gtest.h>

#include "providers/adapter_factory.h"
#include "support/service_account.h"

namespace tollgate {
namespace {

using nlohmann::json;

ProviderConfig gemini_config(const std::string& base_url = "https://generativelanguage.googleapis.com") {
  ProviderConfig c;
  c.name = "gem";
  c.type = ProviderType::gemini;
  c.base_url = base_url;
  c.api_key = "AIza-test";
  c.headers["x-extra"] = "1";
  return c;
}

RequestContext chat_ctx(bool stream) {
  RequestContext ctx;
  ctx.endpoint = Endpoint::chat_completions;
  ctx.stream = stream;
  ctx.body = json{{"model", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  return ctx;
}

std::string header(const NativeRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.request.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST(GeminiAdapter, GeminiUrlsAndApiKeyHeader) {
  auto config = gemini_config();
  GeminiAdapter adapter(config);
  EXPECT_EQ(adapter.kind(), "gemini");
  std::vector<std::string> notes;
  DeploymentConfig d{"gem", "models/gemini-2.5-flash", 1};
  auto r = adapter.build_request(chat_ctx(false), d, notes);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->url.tls);
  EXPECT_EQ(r->url.host, "generativelanguage.googleapis.com");
  EXPECT_EQ(r->request.target, "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(header(*r, "x-goog-api-key"), "AIza-test");
  EXPECT_EQ(header(*r, "authorization"), "");
  EXPECT_EQ(header(*r, "x-extra"), "1");
  auto s = adapter.build_request(chat_ctx(true), d, notes);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->request.target, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(header(*s, "accept"), "text/event-stream");
}

TEST(GeminiAdapter, BaseUrlWithAVersionIsKeptAndOddModelIdsAreEncoded) {
  auto config = gemini_config("https://proxy.test/google/v1alpha");
  GeminiAdapter adapter(config);
  EXPECT_EQ(adapter.target("gemini-x/../../admin", ":generateContent"),
            "/google/v1alpha/models/gemini-x%2F..%2F..%2Fadmin:generateContent");
}

TEST(GeminiAdapter, VertexUrlsNeedNoApiKey) {
  auto sa = test::make_test_service_account();
  ProviderConfig c;
  c.name = "vx";
  c.type = ProviderType::vertex;
  c.base_url = "https://us-central1-aiplatform.googleapis.com";
  c.project = "my-proj";
  c.location = "us-central1";
  c.credentials_file = sa.file;
  c.token_url = "https://oauth2.googleapis.com/token";
  auto adapter = make_adapter(c);
  EXPECT_EQ(adapter->kind(), "vertex");
  std::vector<std::string> notes;
  auto r = adapter->build_request(chat_ctx(true), {"vx", "gemini-2.5-pro", 1}, notes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request.target,
            "/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
  EXPECT_EQ(header(*r, "x-goog-api-key"), "");
}

TEST(GeminiAdapter, UnusableServiceAccountFailsAtStartUpWithoutKeyMaterial) {
  ProviderConfig c;
  c.name = "vx";
  c.type = ProviderType::vertex;
  c.base_url = "https://aiplatform.googleapis.com";
  c.project = "p";
  c.location = "global";
  c.token_url = "https://oauth2.googleapis.com/token";
  c.credentials_file = "/nonexistent/key.json";
  EXPECT_THROW(make_adapter(c), std::runtime_error);
}

TEST(GeminiAdapter, UnsupportedContentTypeForStreams) {
  auto config = gemini_config();
  GeminiAdapter adapter(config);
  EXPECT_FALSE(adapter.stream_decoder(chat_ctx(true), "application/json").ok());
  EXPECT_TRUE(adapter.stream_decoder(chat_ctx(true), "text/event-stream; charset=utf-8").ok());
}

TEST(ThoughtSignatureStore, EvictsOldestBeyondCapacityAndExpiresByAge) {
  auto now = std::chrono::steady_clock::time_point{};
  gemini::ThoughtSignatureStore store(2, std::chrono::seconds(60), [&] { return now; });
  store.put("a", "m", "SA");
  store.put("b", "m", "SB");
  store.put("c", "m", "SC");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.find("a", "m"));
  EXPECT_EQ(store.find("c", "m"), "SC");
  now += std::chrono::seconds(61);
  EXPECT_FALSE(store.find("c", "m"));
  store.put("d", "m", "SD");
  EXPECT_EQ(store.size(), 1u);
}

}  // namespace
}  // namespace tollgate
