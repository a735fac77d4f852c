// Azure OpenAI adapter (wire formats §4.5, conformance case T30): URLs and
// credentials, annotation chunks stripped from streams, filter results kept in
// non-streaming bodies, content-filter refusals and error classes.
#include "providers/azure/azure_adapter.h"

#include <gtest/gtest.h>

#include "providers/adapter_stream_harness.h"

namespace tollgate {
namespace {

using nlohmann::json;
using test::run_stream;
using test::sse;

ProviderConfig azure_config(std::string base = "https://res.openai.azure.com") {
  ProviderConfig c;
  c.name = "az";
  c.type = ProviderType::azure;
  c.base_url = std::move(base);
  c.api_key = "az-secret-key-0123456789";
  c.api_version = "2024-10-21";
  return c;
}

RequestContext chat_ctx(json body) {
  RequestContext ctx;
  ctx.endpoint = Endpoint::chat_completions;
  ctx.stream = body.value("stream", false);
  ctx.body = std::move(body);
  return ctx;
}

std::string header(const NativeRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.request.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

const DeploymentConfig kDeployment{"az", "gpt4o-prod", 1};

TEST(AzureAdapter, TargetsForEachEndpointAndUrlForm) {
  using azure::request_target;
  EXPECT_EQ(request_target("", Endpoint::chat_completions, "gpt4o-prod", "2024-10-21"),
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(request_target("", Endpoint::completions, "inst", "2024-10-21"),
            "/openai/deployments/inst/completions?api-version=2024-10-21");
  EXPECT_EQ(request_target("", Endpoint::embeddings, "emb", "2024-02-01"),
            "/openai/deployments/emb/embeddings?api-version=2024-02-01");
  // A base_url that already ends in /openai is not doubled.
  EXPECT_EQ(request_target("/openai", Endpoint::chat_completions, "d", "2025-01-01-preview"),
            "/openai/deployments/d/chat/completions?api-version=2025-01-01-preview");
  // The v1 API: no deployment segment, no api-version.
  EXPECT_EQ(request_target("/openai/v1", Endpoint::chat_completions, "d", "2024-10-21"), "/openai/v1/chat/completions");
  // A deployment name cannot change the path or add query parameters.
  EXPECT_EQ(request_target("", Endpoint::chat_completions, "a/b?x=1", "v"),
            "/openai/deployments/a%2Fb%3Fx%3D1/chat/completions?api-version=v");
  EXPECT_EQ(request_target("", Endpoint::models, "d", "v"), "");
}

TEST(AzureAdapter, T30_RequestUrlHeadersAndBody) {
  auto config = azure_config();
  AzureAdapter adapter(config);
  EXPECT_EQ(adapter.kind(), "azure");
  std::vector<std::string> notes;
  auto ctx = chat_ctx({{"model", "azure/gpt4o-prod"}, {"stream", true}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
  auto built = adapter.build_request(ctx, kDeployment, notes);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(built->url.host, "res.openai.azure.com");
  EXPECT_TRUE(built->url.tls);
  EXPECT_EQ(built->request.target, "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(header(*built, "api-key"), "az-secret-key-0123456789");
  EXPECT_EQ(header(*built, "authorization"), "<absent>");
  EXPECT_EQ(header(*built, "accept"), "text/event-stream");
  auto body = json::parse(built->request.body);
  EXPECT_EQ(body["messages"][0]["content"], "hi");
  EXPECT_EQ(body["stream_options"]["include_usage"], true) << "usage is always metered";
  EXPECT_TRUE(notes.empty());
}

TEST(AzureAdapter, BearerTokenReplacesTheApiKey) {
  auto config = azure_config();
  config.bearer_token = "entra-token-xyz";
  AzureAdapter adapter(config);
  std::vector<std::string> notes;
  auto ctx = chat_ctx({{"model", "m"}, {"messages", json::array()}});
  auto built = adapter.build_request(ctx, kDeployment, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(header(*built, "authorization"), "Bearer entra-token-xyz");
  EXPECT_EQ(header(*built, "api-key"), "<absent>");
}

TEST(AzureAdapter, OldApiVersionsGetNoStreamOptions) {
  auto config = azure_config();
  config.api_version = "2024-06-01";
  AzureAdapter adapter(config);
  std::vector<std::string> notes;
  auto ctx = chat_ctx({{"model", "m"}, {"stream", true}, {"stream_options", {{"include_usage", true}}}, {"messages", json::array()}});
  auto built = adapter.build_request(ctx, kDeployment, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_FALSE(json::parse(built->request.body).contains("stream_options"));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "dropped stream_options");
}

TEST(AzureAdapter, V1ApiBaseUrl) {
  auto config = azure_config("https://res.openai.azure.com/openai/v1");
  AzureAdapter adapter(config);
  std::vector<std::string> notes;
  auto ctx = chat_ctx({{"model", "alias"}, {"messages", json::array()}});
  auto built = adapter.build_request(ctx, kDeployment, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.target, "/openai/v1/chat/completions");
  EXPECT_EQ(json::parse(built->request.body)["model"], "gpt4o-prod") << "v1: the body's model is the deployment";
}

// The T30 upstream events.
std::vector<std::string> t30_events() {
  return {
      R"({"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]})",
      R"({"id":"chatcmpl-az1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o-2024-11-20","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
      R"({"id":"chatcmpl-az1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o-2024-11-20","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]})",
      R"({"id":"chatcmpl-az1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o-2024-11-20","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
      "[DONE]",
  };
}

TEST(AzureAdapter, T30_AnnotationChunksStrippedFromTheStream) {
  azure::AzureSseDecoder decoder;
  auto out = run_stream(decoder, {sse(t30_events())}, /*client_wants_usage=*/false);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.payloads.size(), 4u);
  EXPECT_EQ(out.payloads[0]["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
  EXPECT_EQ(out.payloads[1]["choices"][0]["delta"], json({{"content", "Hi"}}));
  EXPECT_EQ(out.payloads[2]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out.payloads[3], "[DONE]");
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& p = out.payloads[i];
    EXPECT_FALSE(p["choices"].empty()) << p;
    EXPECT_FALSE(p.contains("prompt_filter_results")) << p;
    EXPECT_FALSE(p["choices"][0].contains("content_filter_results")) << p;
    // The annotation chunk's empty id/model must not become the stream's.
    EXPECT_EQ(p["id"], "chatcmpl-az1");
    EXPECT_EQ(p["model"], "gpt-4o-2024-11-20");
  }
}

TEST(AzureAdapter, T30_EventsSplitAcrossReadsGiveTheSameStream) {
  const std::string body = sse(t30_events());
  std::vector<std::string> reads;
  for (std::size_t i = 0; i < body.size(); i += 7) reads.push_back(body.substr(i, 7));
  azure::AzureSseDecoder decoder;
  auto out = run_stream(decoder, reads, false);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.payloads.size(), 4u);
  EXPECT_EQ(out.payloads[1]["choices"][0]["delta"]["content"], "Hi");
}

TEST(AzureAdapter, AsyncFilterAnnotationsAfterTheTextAreDroppedAndUsageKept) {
  // Asynchronous filtering: annotation-only chunks (empty delta, filter
  // results) arrive after the text; the usage chunk comes last.
  std::vector<std::string> events = {
      R"({"id":"c2","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]})",
      R"({"id":"c2","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":null,"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":5},"content_filter_results":{"violence":{"filtered":false,"severity":"safe"}}}]})",
      R"({"id":"c2","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
      R"({"id":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]})",
      R"({"id":"c2","created":5,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":0}}})",
      "[DONE]"};
  azure::AzureSseDecoder decoder;
  auto out = run_stream(decoder, {sse(events)}, /*client_wants_usage=*/true);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.payloads.size(), 4u);
  EXPECT_EQ(out.payloads[0]["choices"][0]["delta"]["content"], "Hello");
  EXPECT_EQ(out.payloads[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(out.payloads[2]["choices"].empty());
  EXPECT_EQ(out.payloads[2]["usage"]["total_tokens"], 10);
  EXPECT_EQ(out.payloads[2]["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
  EXPECT_EQ(out.payloads[3], "[DONE]");
  EXPECT_EQ(out.usage.cached_tokens, 4);
}

TEST(AzureAdapter, ContentFilterFinishReasonPassesThrough) {
  std::vector<std::string> events = {
      R"({"id":"c3","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Sure, "},"finish_reason":null}]})",
      R"({"id":"c3","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"content_filter","content_filter_results":{"violence":{"filtered":true,"severity":"high"}}}]})",
      "[DONE]"};
  azure::AzureSseDecoder decoder;
  auto out = run_stream(decoder, {sse(events)}, false);
  ASSERT_EQ(out.payloads.size(), 3u);
  EXPECT_EQ(out.payloads[1]["choices"][0]["finish_reason"], "content_filter");
  EXPECT_FALSE(out.payloads[1]["choices"][0].contains("content_filter_results"));
}

TEST(AzureAdapter, NormalizerAloneAlsoDropsEmptyChoicesChunks) {
  // Defence in depth: even an annotation chunk that reached the normalizer
  // (say from an OpenAI-compatible proxy in front of Azure) is never shown.
  StreamNormalizer norm(StreamNormalizer::Kind::chat, false, *ProviderProfiles::bundled().find("generic"));
  auto sent = norm.on_chunk(json::parse(R"({"id":"x","choices":[],"prompt_filter_results":[{"prompt_index":0}]})"));
  EXPECT_TRUE(sent.empty());
}

TEST(AzureAdapter, NonStreamingBodyKeepsFilterResults) {
  auto config = azure_config();
  AzureAdapter adapter(config);
  json native = json::parse(R"({
    "id":"chatcmpl-az9","object":"chat.completion","created":1735689600,"model":"gpt-4o-2024-11-20",
    "prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false}}}],
    "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"},
                "content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],
    "usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":0}}})");
  Usage usage;
  auto out = adapter.translate_response(chat_ctx({{"model", "m"}}), native, usage);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["prompt_filter_results"], native["prompt_filter_results"]);
  EXPECT_EQ((*out)["choices"][0]["content_filter_results"], native["choices"][0]["content_filter_results"]);
  EXPECT_EQ((*out)["choices"][0]["message"]["content"], "Hi");
  EXPECT_EQ(usage.prompt_tokens, 20);
  EXPECT_EQ(usage.cached_tokens, 8);
  EXPECT_EQ(usage.source, UsageSource::provider_final);
}

TEST(AzureAdapter, FilteredPromptIs400ContentFilter) {
  const std::string body = R"({"error":{"code":"content_filter","message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","param":"prompt","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"violence":{"filtered":true,"severity":"high"}}}}})";
  auto f = azure::map_error(400, body, std::nullopt);
  EXPECT_EQ(f.error.status, 400);
  EXPECT_EQ(f.error.code, "content_filter");
  EXPECT_EQ(f.error.type, "invalid_request_error");
  EXPECT_EQ(f.error.param, "prompt");
  EXPECT_NE(f.error.message.find("content management policy"), std::string::npos);
  EXPECT_EQ(f.failure, FailureClass::client) << "every deployment would filter the same prompt";
}

TEST(AzureAdapter, ErrorClasses) {
  const std::string leaky = R"({"error":{"code":"401","message":"Access denied due to invalid subscription key az-secret-key-0123456789 or wrong API endpoint."}})";
  for (int status : {401, 403}) {
    auto f = azure::map_error(status, leaky, std::nullopt);
    EXPECT_EQ(f.error.status, 502) << status;
    EXPECT_EQ(f.error.code, "upstream_auth_error");
    EXPECT_EQ(f.error.body().find("az-secret"), std::string::npos);
    EXPECT_EQ(f.failure, FailureClass::server);
  }
  auto limited = azure::map_error(429, R"({"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded call rate limit."}})", 7);
  EXPECT_EQ(limited.error.status, 429);
  EXPECT_EQ(limited.error.retry_after_seconds, 7);
  EXPECT_EQ(limited.failure, FailureClass::rate_limited);
  auto busy = azure::map_error(503, R"({"error":{"message":"The service is temporarily unable to process your request."}})", 3);
  EXPECT_EQ(busy.error.status, 503);
  EXPECT_EQ(busy.error.retry_after_seconds, 3);
  EXPECT_EQ(busy.failure, FailureClass::server);
  auto missing = azure::map_error(404, R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}})", std::nullopt);
  EXPECT_EQ(missing.error.status, 502);
  EXPECT_EQ(missing.failure, FailureClass::server) << "another deployment may exist";
  auto bad = azure::map_error(400, R"({"error":{"code":"context_length_exceeded","message":"too long","param":"messages"}})", std::nullopt);
  EXPECT_EQ(bad.error.status, 400);
  EXPECT_EQ(bad.error.code, "context_length_exceeded");
  EXPECT_EQ(bad.failure, FailureClass::client);
  EXPECT_EQ(azure::map_error(500, "oops", std::nullopt).error.status, 502);
}

}  // namespace
}  // namespace tollgate
