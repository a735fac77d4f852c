// The Bedrock adapter as HttpProvider drives it: URL, headers and SigV4 on
// the built request (T27 up_url), the stream content type, error headers.
#include "providers/bedrock/bedrock_adapter.h"

#include <gtest/gtest.h>

#include "providers/bedrock/sigv4.h"

namespace tollgate {
namespace {

using nlohmann::json;

ProviderConfig bedrock_config() {
  ProviderConfig c;
  c.name = "aws";
  c.type = ProviderType::bedrock;
  c.region = "us-east-1";
  c.base_url = "https://bedrock-runtime.us-east-1.amazonaws.com";
  c.aws_access_key_id = "AKIDEXAMPLE";
  c.aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return c;
}

BedrockAdapter::Clock fixed_clock() {
  return [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1735689600)); };  // 2025-01-01
}

RequestContext chat_ctx(bool stream) {
  RequestContext ctx;
  ctx.endpoint = Endpoint::chat_completions;
  ctx.stream = stream;
  ctx.body = json{{"model", "claude"}, {"messages", json::array({{{"role", "user"}, {"content", "q"}}})}};
  ctx.deployment_model = "anthropic.claude-x-v1:0";
  return ctx;
}

std::string header(const NativeRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.request.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST(BedrockAdapter, T27_UrlHeadersAndADeterministicSignature) {
  const auto config = bedrock_config();
  BedrockAdapter adapter(config, fixed_clock());
  EXPECT_EQ(adapter.kind(), "bedrock");
  std::vector<std::string> notes;
  auto built = adapter.build_request(chat_ctx(false), {"aws", "anthropic.claude-x-v1:0", 1}, notes);
  ASSERT_TRUE(built.ok()) << built.error().message;
  const NativeRequest& r = *built;
  EXPECT_EQ(r.url.host, "bedrock-runtime.us-east-1.amazonaws.com");
  EXPECT_TRUE(r.url.tls);
  EXPECT_EQ(r.request.method, "POST");
  EXPECT_EQ(r.request.target, "/model/anthropic.claude-x-v1%3A0/converse");
  EXPECT_EQ(json::parse(r.request.body), json::parse(R"({"messages":[{"role":"user","content":[{"text":"q"}]}]})"));
  EXPECT_EQ(header(r, "content-type"), "application/json");
  EXPECT_EQ(header(r, "x-amz-date"), "20250101T000000Z");
  EXPECT_EQ(header(r, "x-amz-security-token"), "");

  sigv4::Request signed_part{"POST", "/model/anthropic.claude-x-v1%3A0/converse",
                             {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}, {"x-amz-date", "20250101T000000Z"}},
                             r.request.body};
  const auto expected = sigv4::sign(signed_part, {config.aws_access_key_id, config.aws_secret_access_key, ""},
                                    "us-east-1", "bedrock", "20250101T000000Z");
  EXPECT_NE(expected.canonical_request.find("\n/model/anthropic.claude-x-v1%253A0/converse\n"), std::string::npos);
  EXPECT_EQ(header(r, "authorization"), expected.authorization);
  for (const auto& [k, v] : r.request.headers) EXPECT_EQ(v.find(config.aws_secret_access_key), std::string::npos) << k;
}

TEST(BedrockAdapter, StreamsGoToConverseStreamAndNeedAnEventStream) {
  const auto config = bedrock_config();
  BedrockAdapter adapter(config, fixed_clock());
  std::vector<std::string> notes;
  auto built = adapter.build_request(chat_ctx(true), {"aws", "us.anthropic.claude-x-v1:0", 1}, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.target, "/model/us.anthropic.claude-x-v1%3A0/converse-stream");
  EXPECT_EQ(header(*built, "accept"), "application/vnd.amazon.eventstream");
  EXPECT_TRUE(adapter.stream_decoder(chat_ctx(true), "application/vnd.amazon.eventstream").ok());
  auto wrong = adapter.stream_decoder(chat_ctx(true), "application/json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "upstream_protocol_error");
}

TEST(BedrockAdapter, MaxTokensDefaultComesFromThePriceTable) {
  const auto config = bedrock_config();
  BedrockAdapter adapter(config, fixed_clock());
  std::vector<std::string> notes;
  auto built = adapter.build_request(chat_ctx(false), {"aws", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1}, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(json::parse(built->request.body)["inferenceConfig"]["maxTokens"], 64000);
}

TEST(BedrockAdapter, ApiKeyOrMissingCredentials) {
  auto config = bedrock_config();
  config.api_key = "bedrock-api-key";
  std::vector<std::string> notes;
  auto bearer = BedrockAdapter(config, fixed_clock()).build_request(chat_ctx(false), {"aws", "m", 1}, notes);
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(header(*bearer, "authorization"), "Bearer bedrock-api-key");
  EXPECT_EQ(header(*bearer, "x-amz-date"), "");

  config.api_key.clear();
  config.aws_secret_access_key.clear();
  auto none = BedrockAdapter(config, fixed_clock()).build_request(chat_ctx(false), {"aws", "m", 1}, notes);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().status, 502);
}

TEST(BedrockAdapter, CompletionsEndpointIsRefused) {
  const auto config = bedrock_config();
  BedrockAdapter adapter(config, fixed_clock());
  auto ctx = chat_ctx(false);
  ctx.endpoint = Endpoint::completions;
  std::vector<std::string> notes;
  auto built = adapter.build_request(ctx, {"aws", "m", 1}, notes);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().status, 400);
}

TEST(BedrockAdapter, ErrorTypeHeaderWinsOverStatus) {
  const auto config = bedrock_config();
  BedrockAdapter adapter(config, fixed_clock());
  const ProviderAdapter::HeaderLookup headers = [](std::string_view name) {
    return name == "x-amzn-errortype" ? std::string("IncompleteSignatureException:http://x/") : std::string();
  };
  auto f = adapter.map_error_response(400, headers, R"({"message":"Authorization header requires 'Credential'"})", std::nullopt);
  EXPECT_EQ(f.error.status, 502);
  EXPECT_EQ(f.error.code, "upstream_auth_error");
  // Without headers the body's __type is used.
  auto g = adapter.map_error(429, R"({"__type":"ThrottlingException","message":"slow"})", 3);
  EXPECT_EQ(g.error.status, 429);
  EXPECT_EQ(g.error.retry_after_seconds, 3);
  EXPECT_EQ(g.failure, FailureClass::rate_limited);
}

}  // namespace
}  // namespace tollgate
