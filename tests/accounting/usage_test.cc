#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accounting/token_estimate.h"
#include "tollgate/usage.h"

namespace tollgate {
namespace {

using nlohmann::json;

void expect_invariants(const Usage& u) {
  EXPECT_GE(u.prompt_tokens, 0);
  EXPECT_GE(u.completion_tokens, 0);
  EXPECT_GE(u.cached_tokens, 0);
  EXPECT_GE(u.cache_write_tokens, 0);
  EXPECT_GE(u.reasoning_tokens, 0);
  EXPECT_LE(u.cached_tokens + u.cache_write_tokens, u.prompt_tokens);
  EXPECT_LE(u.reasoning_tokens, u.completion_tokens);
  EXPECT_EQ(u.to_openai_json()["total_tokens"], u.prompt_tokens + u.completion_tokens);
}

// --- usage_from_openai --------------------------------------------------------

TEST(UsageFromOpenAI, OpenAIWithCachedAndReasoningTokens) {
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 192, "audio_tokens": 0,
                                  "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  })"));
  EXPECT_EQ(u.prompt_tokens, 2006);
  EXPECT_EQ(u.completion_tokens, 300);
  EXPECT_EQ(u.total_tokens(), 2306);
  EXPECT_EQ(u.cached_tokens, 1920);
  EXPECT_EQ(u.cache_write_tokens, 0);
  EXPECT_EQ(u.reasoning_tokens, 192);
  EXPECT_EQ(u.source, UsageSource::provider_final);
}

TEST(UsageFromOpenAI, CacheWriteTokens) {
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 1000, "completion_tokens": 10,
    "prompt_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 700}})"));
  EXPECT_EQ(u.cached_tokens, 200);
  EXPECT_EQ(u.cache_write_tokens, 700);
  expect_invariants(u);
}

TEST(UsageFromOpenAI, DeepSeekCacheHitTokens) {
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150,
    "prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 36,
    "completion_tokens_details": {"reasoning_tokens": 20}})"));
  EXPECT_EQ(u.prompt_tokens, 100);
  EXPECT_EQ(u.cached_tokens, 64);
  EXPECT_EQ(u.reasoning_tokens, 20);
  expect_invariants(u);
}

TEST(UsageFromOpenAI, StandardCachedTokensWinOverDeepSeekField) {
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 100, "completion_tokens": 1,
    "prompt_tokens_details": {"cached_tokens": 32}, "prompt_cache_hit_tokens": 64})"));
  EXPECT_EQ(u.cached_tokens, 32);
  // A null standard field counts as absent.
  const auto v = usage_from_openai(json::parse(R"({
    "prompt_tokens": 100, "completion_tokens": 1,
    "prompt_tokens_details": {"cached_tokens": null}, "prompt_cache_hit_tokens": 64})"));
  EXPECT_EQ(v.cached_tokens, 64);
}

TEST(UsageFromOpenAI, EmbeddingsUsage) {
  const auto u = usage_from_openai(json::parse(R"({"prompt_tokens": 8, "total_tokens": 8})"));
  EXPECT_EQ(u.prompt_tokens, 8);
  EXPECT_EQ(u.completion_tokens, 0);
  EXPECT_EQ(u.total_tokens(), 8);
}

TEST(UsageFromOpenAI, UpstreamTotalIsRecomputedNotTrusted) {
  // Some gateways add cache tokens into total_tokens; ours is always prompt + completion.
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 400,
    "prompt_tokens_details": {"cached_tokens": 250}})"));
  EXPECT_EQ(u.total_tokens(), 150);
  EXPECT_EQ(u.cached_tokens, 100);  // clamped to the prompt
  expect_invariants(u);
}

TEST(UsageFromOpenAI, PromptDerivedFromTotalWhenMissing) {
  const auto u = usage_from_openai(json::parse(R"({"completion_tokens": 5, "total_tokens": 12})"));
  EXPECT_EQ(u.prompt_tokens, 7);
  // A total smaller than the completion says nothing about the prompt.
  const auto v = usage_from_openai(json::parse(R"({"completion_tokens": 5, "total_tokens": 3})"));
  EXPECT_EQ(v.prompt_tokens, 0);
  EXPECT_EQ(v.completion_tokens, 5);
}

TEST(UsageFromOpenAI, DetailsAreClampedToTheirParents) {
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 10, "completion_tokens": 4,
    "prompt_tokens_details": {"cached_tokens": 8, "cache_write_tokens": 8},
    "completion_tokens_details": {"reasoning_tokens": 9}})"));
  EXPECT_EQ(u.cached_tokens, 8);
  EXPECT_EQ(u.cache_write_tokens, 2);
  EXPECT_EQ(u.reasoning_tokens, 4);
  expect_invariants(u);
}

TEST(UsageFromOpenAI, NonObjectsReadAsNoUsage) {
  for (const auto& j : {json(nullptr), json("usage"), json(42), json::array({1, 2})}) {
    SCOPED_TRACE(j.dump());
    const auto u = usage_from_openai(j);
    EXPECT_EQ(u.source, UsageSource::none);
    EXPECT_EQ(u.total_tokens(), 0);
  }
}

TEST(UsageFromOpenAI, MalformedFieldsReadAsZeroWithoutThrowing) {
  const char* bodies[] = {
      R"({})",
      R"({"prompt_tokens": null, "completion_tokens": null})",
      R"({"prompt_tokens": "12", "completion_tokens": "3"})",
      R"({"prompt_tokens": -12, "completion_tokens": -3})",
      R"({"prompt_tokens": true, "completion_tokens": [3]})",
      R"({"prompt_tokens": 1e300, "completion_tokens": 18446744073709551615})",
      R"({"prompt_tokens_details": 5, "completion_tokens_details": "x"})",
      R"({"prompt_tokens_details": [1], "completion_tokens_details": null})",
      R"({"prompt_tokens_details": {"cached_tokens": "all"}, "prompt_cache_hit_tokens": {}})",
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    Usage u;
    ASSERT_NO_THROW(u = usage_from_openai(json::parse(body)));
    EXPECT_EQ(u.prompt_tokens, 0);
    EXPECT_EQ(u.completion_tokens, 0);
    EXPECT_EQ(u.cached_tokens, 0);
    EXPECT_EQ(u.reasoning_tokens, 0);
    EXPECT_EQ(u.source, UsageSource::provider_final);
  }
}

TEST(UsageFromOpenAI, IntegralFloatsAreAccepted) {
  const auto u = usage_from_openai(json::parse(
      R"({"prompt_tokens": 12.0, "completion_tokens": 3.0,
          "prompt_tokens_details": {"cached_tokens": 4.0}})"));
  EXPECT_EQ(u.prompt_tokens, 12);
  EXPECT_EQ(u.completion_tokens, 3);
  EXPECT_EQ(u.cached_tokens, 4);
}

TEST(UsageFromOpenAI, MixedValidAndInvalidFieldsKeepTheValidOnes) {
  const auto u = usage_from_openai(json::parse(R"({
    "prompt_tokens": 100, "completion_tokens": "lots",
    "prompt_tokens_details": {"cached_tokens": -5},
    "completion_tokens_details": {"reasoning_tokens": 7}})"));
  EXPECT_EQ(u.prompt_tokens, 100);
  EXPECT_EQ(u.completion_tokens, 0);
  EXPECT_EQ(u.cached_tokens, 0);
  EXPECT_EQ(u.reasoning_tokens, 0);  // cannot exceed the (unknown, zero) completion
  expect_invariants(u);
}

// --- to_openai_json -----------------------------------------------------------

TEST(UsageToOpenAIJson, PlainUsageHasNoDetails) {
  Usage u;
  u.prompt_tokens = 12;
  u.completion_tokens = 30;
  EXPECT_EQ(u.to_openai_json(),
            json::parse(R"({"prompt_tokens":12,"completion_tokens":30,"total_tokens":42})"));
}

TEST(UsageToOpenAIJson, DetailsOnlyWhenNonZero) {
  Usage u;
  u.prompt_tokens = 2006;
  u.completion_tokens = 300;
  u.cached_tokens = 1920;
  u.reasoning_tokens = 192;
  EXPECT_EQ(u.to_openai_json(), json::parse(R"({
    "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920},
    "completion_tokens_details": {"reasoning_tokens": 192}})"));

  Usage w;
  w.prompt_tokens = 1000;
  w.completion_tokens = 1;
  w.cache_write_tokens = 900;
  EXPECT_EQ(w.to_openai_json(), json::parse(R"({
    "prompt_tokens": 1000, "completion_tokens": 1, "total_tokens": 1001,
    "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 900}})"));
}

TEST(UsageToOpenAIJson, RoundTrips) {
  Usage u;
  u.prompt_tokens = 500;
  u.completion_tokens = 70;
  u.cached_tokens = 100;
  u.cache_write_tokens = 300;
  u.reasoning_tokens = 20;
  const auto back = usage_from_openai(u.to_openai_json());
  EXPECT_EQ(back.prompt_tokens, 500);
  EXPECT_EQ(back.completion_tokens, 70);
  EXPECT_EQ(back.cached_tokens, 100);
  EXPECT_EQ(back.cache_write_tokens, 300);
  EXPECT_EQ(back.reasoning_tokens, 20);
}

TEST(UsageSourceNames, AreStable) {
  // These strings are stored in spend rows; changing them breaks reports.
  EXPECT_STREQ(to_string(UsageSource::none), "none");
  EXPECT_STREQ(to_string(UsageSource::provider_final), "provider_final");
  EXPECT_STREQ(to_string(UsageSource::provider_partial), "provider_partial");
  EXPECT_STREQ(to_string(UsageSource::estimated), "estimated");
}

// --- estimation -----------------------------------------------------------------

TEST(EstimateTokens, EmptyAndWhitespace) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens(" \n\t "), 0);
  EXPECT_EQ(estimate_tokens("a"), 1);
}

TEST(EstimateTokens, ShortTextCountsWordsAndPunctuation) {
  // Hello | , | world | !  (o200k_base: 4 tokens)
  EXPECT_EQ(estimate_tokens("Hello, world!"), 4);
  // 9 words, 1 punctuation run; 44 bytes -> 11.  (o200k_base: 10)
  EXPECT_EQ(estimate_tokens("The quick brown fox jumps over the lazy dog."), 11);
}

TEST(EstimateTokens, LongRunsFallBackToBytes) {
  EXPECT_EQ(estimate_tokens(std::string(100, 'a')), 25);
  EXPECT_EQ(estimate_tokens(std::string(101, 'a')), 26);  // rounded up
}

TEST(EstimateTokens, ProseFollowsTheFourBytesRule) {
  // OpenAI's rule of thumb for English: 1 token per ~4 characters, 100 tokens
  // per ~75 words. 2,000 words of prose should land near 1.3 tokens per word.
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Gateways forward requests and count every token they see. ";
  const int64_t words = 200 * 10;
  const int64_t est = estimate_tokens(text);
  EXPECT_EQ(est, static_cast<int64_t>((text.size() + 3) / 4));
  EXPECT_GE(est, words);
  EXPECT_LE(est, words * 16 / 10);
}

TEST(EstimateTokens, NonLatinScripts) {
  // Each CJK character (3 bytes) counts at least one token.
  EXPECT_EQ(estimate_tokens("你好世界"), 4);
  // 2-byte letters stay within their word: "café" is one word, 5 bytes -> 2.
  EXPECT_EQ(estimate_tokens("café"), 2);
  // Truncated UTF-8 does not read past the end.
  EXPECT_EQ(estimate_tokens(std::string("\xE4\xBD", 2)), 1);
}

TEST(EstimateTokens, GrowsWithText) {
  int64_t prev = 0;
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "word ";
    const int64_t n = estimate_tokens(text);
    EXPECT_GT(n, prev);
    prev = n;
  }
}

TEST(EstimateChatPrompt, CookbookFormula) {
  // 3 (message) + 1 ("user") + 4 ("Hello, world!") + 3 (primer) = 11
  EXPECT_EQ(estimate_chat_prompt_tokens(json::parse(
                R"([{"role":"user","content":"Hello, world!"}])")),
            11);
  // Two messages add 3 + role + content each; a name adds 1 + its tokens.
  // "system" is 6 bytes, so 2 by the byte rule; "Be brief." is 3.
  EXPECT_EQ(estimate_chat_prompt_tokens(json::parse(R"([
                {"role":"system","content":"Be brief."},
                {"role":"user","name":"ann","content":"Hello, world!"}])")),
            3 + (3 + 2 + 3) + (3 + 1 + 4 + 1 + 1));
}

TEST(EstimateChatPrompt, ArrayContentAndImages) {
  const auto text_only = estimate_chat_prompt_tokens(json::parse(
      R"([{"role":"user","content":[{"type":"text","text":"Hello, world!"}]}])"));
  EXPECT_EQ(text_only, 11);
  const auto low = estimate_chat_prompt_tokens(json::parse(R"([{"role":"user","content":[
      {"type":"text","text":"Hello, world!"},
      {"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]}])"));
  EXPECT_EQ(low, 11 + 85);
  const auto high = estimate_chat_prompt_tokens(json::parse(R"([{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}])"));
  EXPECT_EQ(high, 3 + 1 + 765 + 3);
  // Audio and unknown parts are not counted (and the base64 data never is).
  const auto audio = estimate_chat_prompt_tokens(json::parse(R"([{"role":"user","content":[
      {"type":"input_audio","input_audio":{"data":"UklGRiQAAABXQVZF","format":"wav"}},
      {"type":"mystery"}, 7, null]}])"));
  EXPECT_EQ(audio, 3 + 1 + 3);
}

TEST(EstimateChatPrompt, ToolCallsAreCounted) {
  const auto n = estimate_chat_prompt_tokens(json::parse(R"([{"role":"assistant","content":null,
      "tool_calls":[{"id":"call_1","type":"function",
                     "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}])"));
  // message 3 + "assistant" 3 (9 bytes) + call (3 + "get_weather" 3 + arguments 5) + primer 3
  EXPECT_EQ(n, 3 + 3 + (3 + 3 + 5) + 3);
}

TEST(EstimateChatPrompt, MalformedInputNeverThrows) {
  EXPECT_EQ(estimate_chat_prompt_tokens(json(nullptr)), 3);
  EXPECT_EQ(estimate_chat_prompt_tokens(json::object()), 3);
  EXPECT_EQ(estimate_chat_prompt_tokens(json::parse(R"([1, "x", null, [],
      {"role": 5, "content": {"a": 1}, "name": [], "tool_calls": [null, 3, {"function": 1}]}])")),
            3 + 3 + 3);  // primer + the one object message + its one object tool call
}

}  // namespace
}  // namespace tollgate
