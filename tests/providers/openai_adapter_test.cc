// Request/response translation for the OpenAI-compatible family (wire formats
// §5 and conformance cases T31, T32, T35).
#include "providers/openai/openai_adapter.h"

#include <gtest/gtest.h>

namespace tollgate::openai {
namespace {

using nlohmann::json;

const ProviderProfile& profile(const char* name) { return *ProviderProfiles::bundled().find(name); }

json prepare(Endpoint e, const json& body, const char* prof, std::vector<std::string>* notes_out = nullptr) {
  std::vector<std::string> notes;
  DeploymentConfig d{"p", "upstream-model", 1};
  auto r = prepare_request(e, body, d, profile(prof), notes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (notes_out) *notes_out = notes;
  return r.ok() ? json::parse(r->body) : json();
}

TEST(OpenAiAdapter, ReplacesModelAndAlwaysAsksForStreamUsage) {
  auto up = prepare(Endpoint::chat_completions,
                    {{"model", "alias"}, {"stream", true}, {"messages", json::array({{{"role", "user"}, {"content", "q"}}})}},
                    "openai");
  EXPECT_EQ(up["model"], "upstream-model");
  EXPECT_EQ(up["stream_options"]["include_usage"], true);
}

TEST(OpenAiAdapter, NonStreamingRequestsGetNoStreamOptions) {
  auto up = prepare(Endpoint::chat_completions, {{"model", "a"}, {"messages", json::array()}}, "openai");
  EXPECT_FALSE(up.contains("stream_options"));
}

TEST(OpenAiAdapter, T32_GroqDropsLogprobsAndNames) {
  std::vector<std::string> notes;
  auto up = prepare(Endpoint::chat_completions,
                    {{"model", "a"}, {"logprobs", true}, {"n", 1},
                     {"messages", json::array({{{"role", "user"}, {"name", "bob"}, {"content", "q"}}})}},
                    "groq", &notes);
  EXPECT_FALSE(up.contains("logprobs"));
  EXPECT_FALSE(up["messages"][0].contains("name"));
  ASSERT_FALSE(notes.empty());
  EXPECT_EQ(notes[0], "dropped logprobs");
}

TEST(OpenAiAdapter, GroqRejectsNGreaterThanOne) {
  std::vector<std::string> notes;
  auto r = prepare_request(Endpoint::chat_completions, json{{"model", "a"}, {"n", 2}}, {"p", "m", 1}, profile("groq"), notes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().param, "n");
}

TEST(OpenAiAdapter, T31_MistralToolIdsRemappedConsistently) {
  json body = {{"model", "a"}, {"seed", 7},
               {"messages", json::array({
                   {{"role", "user"}, {"content", "q"}},
                   {{"role", "assistant"}, {"content", nullptr},
                    {"tool_calls", json::array({{{"id", "call_abc123xyz789"}, {"type", "function"},
                                                 {"function", {{"name", "f"}, {"arguments", "{}"}}}}})}},
                   {{"role", "tool"}, {"tool_call_id", "call_abc123xyz789"}, {"content", "ok"}},
               })}};
  auto up = prepare(Endpoint::chat_completions, body, "mistral");
  std::string id = up["messages"][1]["tool_calls"][0]["id"];
  EXPECT_EQ(id.size(), 9u);
  for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
  EXPECT_EQ(up["messages"][2]["tool_call_id"], id);
  EXPECT_EQ(alnum9_tool_id("call_abc123xyz789"), id) << "remap must be deterministic";
  EXPECT_EQ(alnum9_tool_id("Xk29dPq0L"), "Xk29dPq0L") << "valid ids are kept";
  EXPECT_EQ(up["random_seed"], 7);
  EXPECT_FALSE(up.contains("seed"));
}

TEST(OpenAiAdapter, T35_DeepSeekReasoningStrippedFromReplayedTurns) {
  auto up = prepare(Endpoint::chat_completions,
                    {{"model", "a"},
                     {"messages", json::array({{{"role", "assistant"}, {"content", "A"}, {"reasoning_content", "R"}}})}},
                    "deepseek");
  EXPECT_EQ(up["messages"][0], json({{"role", "assistant"}, {"content", "A"}}));
}

TEST(OpenAiAdapter, NormalizesNonStreamingResponse) {
  Usage usage;
  json upstream = {{"id", "x"}, {"object", "chat.completion"},
                   {"choices", json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "hi"}}},
                                             {"finish_reason", "model_length"}}})},
                   {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 3}, {"total_tokens", 13},
                              {"prompt_tokens_details", {{"cached_tokens", 4}}}}}};
  auto r = normalize_response(Endpoint::chat_completions, upstream, profile("mistral"), usage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(usage.prompt_tokens, 10);
  EXPECT_EQ(usage.cached_tokens, 4);
}

TEST(OpenAiAdapter, ResponseWithoutChoicesIsAnUpstreamProtocolError) {
  Usage usage;
  auto r = normalize_response(Endpoint::chat_completions, json{{"id", "x"}}, profile("generic"), usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
}

TEST(OpenAiAdapter, UpstreamAuthFailureIsA502WithoutUpstreamText) {
  auto f = map_upstream_error(401, R"({"error":{"message":"Incorrect API key provided: sk-abc***xyz"}})", std::nullopt);
  EXPECT_EQ(f.error.status, 502);
  EXPECT_EQ(f.error.body().find("sk-abc"), std::string::npos);
}

TEST(OpenAiAdapter, ErrorShapesOfTheFamilyAreNormalized) {
  // Mistral/vLLM flat shape.
  auto flat = map_upstream_error(400, R"({"object":"error","message":"bad temp","type":"invalid_request_error","param":null,"code":"3280"})", std::nullopt);
  EXPECT_EQ(flat.error.status, 400);
  EXPECT_EQ(flat.error.message, "bad temp");
  EXPECT_EQ(flat.error.code, "3280");
  EXPECT_EQ(flat.failure, FailureClass::client);
  // Ollama native string error.
  auto str = map_upstream_error(500, R"({"error":"model crashed"})", std::nullopt);
  EXPECT_EQ(str.error.status, 502);
  EXPECT_NE(str.error.message.find("model crashed"), std::string::npos);
  EXPECT_EQ(str.failure, FailureClass::server);
}

TEST(OpenAiAdapter, OverloadAndRateLimitKeepRetryAfter) {
  auto overloaded = map_upstream_error(529, "{}", std::nullopt);
  EXPECT_EQ(overloaded.error.status, 503);
  EXPECT_TRUE(overloaded.error.retry_after_seconds.has_value());
  auto limited = map_upstream_error(429, R"({"error":{"message":"slow down","code":"rate_limit_exceeded"}})", 7);
  EXPECT_EQ(limited.error.status, 429);
  EXPECT_EQ(limited.error.retry_after_seconds, 7);
  EXPECT_EQ(limited.failure, FailureClass::rate_limited);
}

}  // namespace
}  // namespace tollgate::openai
