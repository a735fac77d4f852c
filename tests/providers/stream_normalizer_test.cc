// Wire formats §1.8 invariants, checked on the chunks a client would receive.
#include "providers/stream_normalizer.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using nlohmann::json;

const ProviderProfile& profile(const char* name) { return *ProviderProfiles::bundled().find(name); }

std::vector<json> run(StreamNormalizer& n, const std::vector<json>& upstream, std::vector<std::string>* raw = nullptr) {
  std::vector<std::string> out;
  for (const auto& c : upstream) {
    for (auto& p : n.on_chunk(c)) out.push_back(p);
  }
  for (auto& p : n.finish()) out.push_back(p);
  if (raw) *raw = out;
  std::vector<json> parsed;
  for (auto& p : out) parsed.push_back(p == "[DONE]" ? json("[DONE]") : json::parse(p));
  return parsed;
}

json chunk(json delta, json finish = nullptr) {
  return {{"id", "up-1"}, {"object", "chat.completion.chunk"}, {"created", 42}, {"model", "m"},
          {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

json usage_chunk(int p, int c) {
  return {{"id", "up-1"}, {"object", "chat.completion.chunk"}, {"created", 42}, {"model", "m"},
          {"choices", json::array()}, {"usage", {{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}}}};
}

TEST(StreamNormalizer, StripsInjectedUsageChunkWhenClientDidNotAsk) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, /*client_wants_usage=*/false, profile("openai"));
  auto out = run(n, {chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Hi"}}), chunk(json::object(), "stop"),
                     usage_chunk(12, 2)});
  ASSERT_EQ(out.size(), 4u);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    EXPECT_FALSE(out[i]["choices"].empty()) << "client saw an empty-choices chunk: " << out[i];
    EXPECT_FALSE(out[i].contains("usage"));
  }
  EXPECT_EQ(out.back(), "[DONE]");
  // ...but the gateway still metered it.
  EXPECT_EQ(n.usage().prompt_tokens, 12);
  EXPECT_EQ(n.usage().completion_tokens, 2);
  EXPECT_EQ(n.usage().source, UsageSource::provider_final);
}

TEST(StreamNormalizer, KeepsUsageChunkLastWhenClientAsked) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, true, profile("openai"));
  auto out = run(n, {chunk({{"content", "Hi"}}), chunk(json::object(), "stop"), usage_chunk(5, 1)});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0]["usage"].is_null());
  EXPECT_TRUE(out[1]["usage"].is_null());
  EXPECT_TRUE(out[2]["choices"].empty());
  EXPECT_EQ(out[2]["usage"]["total_tokens"], 6);
  EXPECT_EQ(out[3], "[DONE]");
}

TEST(StreamNormalizer, T33_SynthesizesMissingFinishReason) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, false, profile("generic"));
  json empty_tail = {{"id", "x"}, {"choices", json::array()}};
  auto out = run(n, {chunk({{"content", "a"}}), empty_tail});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(out[0]["choices"][0]["delta"]["content"], "a");
  EXPECT_EQ(out[1]["choices"][0]["delta"], json::object());
  EXPECT_EQ(out[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out[2], "[DONE]");
}

TEST(StreamNormalizer, SynthesizedFinishIsToolCallsAfterToolCalls) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, false, profile("generic"));
  json call = {{"tool_calls", json::array({{{"index", 0}, {"id", "call_1"}, {"type", "function"},
                                            {"function", {{"name", "f"}, {"arguments", ""}}}}})}};
  auto out = run(n, {chunk(call)});
  EXPECT_EQ(out[1]["choices"][0]["finish_reason"], "tool_calls");
}

TEST(StreamNormalizer, IdCreatedAndModelAreConstant) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, true, profile("generic"));
  json second = chunk({{"content", "b"}});
  second["id"] = "other";
  second["created"] = 99;
  second["model"] = "other-model";
  auto out = run(n, {chunk({{"content", "a"}}), second, chunk(json::object(), "stop")});
  for (const auto& c : out) {
    if (c == "[DONE]") continue;
    EXPECT_EQ(c["id"], "up-1");
    EXPECT_EQ(c["created"], 42);
    EXPECT_EQ(c["model"], "m");
  }
}

TEST(StreamNormalizer, ExactlyOneFinishReasonAndOneDone) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, false, profile("generic"));
  auto out = run(n, {chunk({{"content", "a"}}, "stop"), chunk(json::object(), "stop")});
  int finishes = 0, dones = 0;
  for (const auto& c : out) {
    if (c == "[DONE]") {
      ++dones;
      continue;
    }
    if (!c["choices"][0]["finish_reason"].is_null()) ++finishes;
  }
  EXPECT_EQ(finishes, 1);
  EXPECT_EQ(dones, 1);
  EXPECT_TRUE(n.finish().empty()) << "a second finish() must not emit another [DONE]";
}

TEST(StreamNormalizer, T32_GroqUsageFromXGroqAndFieldStripped) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, true, profile("groq"));
  json last = chunk(json::object(), "stop");
  last["x_groq"] = {{"usage", {{"prompt_tokens", 9}, {"completion_tokens", 4}, {"total_tokens", 13}}}};
  auto out = run(n, {chunk({{"content", "hey"}}), last});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FALSE(out[1].contains("x_groq"));
  EXPECT_EQ(out[2]["usage"], json({{"prompt_tokens", 9}, {"completion_tokens", 4}, {"total_tokens", 13}}));
}

TEST(StreamNormalizer, TogetherUsageOnContentChunkAndEosMapped) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, false, profile("together"));
  json last = chunk({{"content", "!"}}, "eos");
  last["usage"] = {{"prompt_tokens", 3}, {"completion_tokens", 2}, {"total_tokens", 5}};
  auto out = run(n, {chunk({{"content", "hi"}}), last});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1]["choices"][0]["delta"]["content"], "!") << "content on the usage-bearing chunk must survive";
  EXPECT_EQ(out[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(out[1].contains("usage"));
  EXPECT_EQ(n.usage().total_tokens(), 5);
}

TEST(StreamNormalizer, T35_ReasoningContentPassesThrough) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, false, profile("deepseek"));
  auto out = run(n, {chunk({{"reasoning_content", "think"}})});
  EXPECT_EQ(out[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(out[0]["choices"][0]["delta"]["reasoning_content"], "think");
}

TEST(StreamNormalizer, T34_EstimatesUsageWhenUpstreamSendsNone) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, true, profile("ollama"));
  n.set_prompt_estimate(17);
  auto out = run(n, {chunk({{"content", "twelve chars"}}), chunk(json::object(), "stop")});
  const auto& u = out[out.size() - 2]["usage"];
  EXPECT_EQ(u["prompt_tokens"], 17);
  EXPECT_GT(u["completion_tokens"].get<int>(), 0);
  EXPECT_EQ(u["total_tokens"], u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
  EXPECT_EQ(n.usage().source, UsageSource::estimated);
}

TEST(StreamNormalizer, InterleavedChoicesEachGetRoleAndFinish) {
  StreamNormalizer n(StreamNormalizer::Kind::chat, false, profile("generic"));
  json c0 = chunk({{"content", "a"}});
  json c1 = chunk({{"content", "b"}});
  c1["choices"][0]["index"] = 1;
  auto out = run(n, {c0, c1});
  EXPECT_EQ(out[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(out[1]["choices"][0]["delta"]["role"], "assistant");
  ASSERT_EQ(out.size(), 5u);  // two content chunks, two synthesized finishes, [DONE]
  EXPECT_EQ(out[2]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out[3]["choices"][0]["finish_reason"], "stop");
}

TEST(StreamNormalizer, CompletionStreamsKeepTextShape) {
  StreamNormalizer n(StreamNormalizer::Kind::completion, false, profile("generic"));
  json c = {{"id", "cmpl-1"}, {"object", "text_completion"}, {"created", 1}, {"model", "m"},
            {"choices", json::array({{{"index", 0}, {"text", "hello"}, {"finish_reason", nullptr}}})}};
  auto out = run(n, {c});
  EXPECT_EQ(out[0]["object"], "text_completion");
  EXPECT_FALSE(out[0]["choices"][0].contains("delta"));
  EXPECT_EQ(out[1]["choices"][0]["finish_reason"], "stop");
}

}  // namespace
}  // namespace tollgate
