// Gemini SSE transcripts -> the chunks a client sees after the
// StreamNormalizer (wire formats §3.4, §3.8; conformance case T24).
#include "providers/gemini/gemini_stream.h"

#include <gtest/gtest.h>

#include "providers/gemini/thought_signatures.h"
#include "providers/stream_normalizer.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

struct Run {
  std::vector<json> out;  // client payloads; "[DONE]" as a string
  std::optional<ApiError> error;
  Usage usage;
};

ResponseOptions options(ThoughtSignatureStore* store = nullptr) {
  ResponseOptions o;
  o.model = "gemini-2.5-flash";
  o.signature_model = "gemini-2.5-flash";
  o.signatures = store;
  o.created = 1700000000;
  int n = 0;
  o.tool_call_id = [n]() mutable { return "call_gen" + std::to_string(++n); };
  return o;
}

// Feeds `raw` in pieces of `split` bytes (0: all at once), like TCP reads.
Run run(const std::string& raw, bool wants_usage = false, std::size_t split = 0, ThoughtSignatureStore* store = nullptr,
        Endpoint endpoint = Endpoint::chat_completions) {
  auto o = options(store);
  o.endpoint = endpoint;
  GeminiStreamDecoder decoder(o);
  StreamNormalizer norm(endpoint == Endpoint::completions ? StreamNormalizer::Kind::completion : StreamNormalizer::Kind::chat,
                        wants_usage, *ProviderProfiles::bundled().find("generic"));
  Run r;
  std::vector<json> chunks;
  auto push = [&]() {
    for (auto& c : chunks) {
      for (auto& p : norm.on_chunk(std::move(c))) r.out.push_back(p == "[DONE]" ? json("[DONE]") : json::parse(p));
    }
    chunks.clear();
  };
  const std::size_t step = split == 0 ? raw.size() + 1 : split;
  for (std::size_t i = 0; i < raw.size() && !r.error; i += step) {
    r.error = decoder.feed(std::string_view(raw).substr(i, step), chunks);
    push();
  }
  if (!r.error) {
    r.error = decoder.finish(chunks);
    push();
  }
  if (!r.error) {
    EXPECT_TRUE(decoder.complete());
    for (auto& p : norm.finish()) r.out.push_back(p == "[DONE]" ? json("[DONE]") : json::parse(p));
  }
  r.usage = norm.usage();
  return r;
}

std::string event(const json& j) { return "data: " + j.dump() + "\r\n\r\n"; }

json delta(const json& payload) { return payload["choices"][0]["delta"]; }

const std::string kT24 =
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n"
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}],"
    "\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"totalTokenCount\":7}}\r\n\r\n";

TEST(GeminiStream, T24_CrlfFramingUsageOnTheFinalContentEvent) {
  auto r = run(kT24);
  ASSERT_FALSE(r.error) << r.error->message;
  ASSERT_EQ(r.out.size(), 5u);
  EXPECT_EQ(delta(r.out[0]), json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(delta(r.out[1]), json::parse(R"({"content":"Hel"})"));
  EXPECT_EQ(delta(r.out[2]), json::parse(R"({"content":"lo"})"));
  EXPECT_EQ(delta(r.out[3]), json::object());
  EXPECT_EQ(r.out[3]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r.out[4], "[DONE]");
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(r.out[i].contains("usage"));
    EXPECT_EQ(r.out[i]["id"], r.out[0]["id"]);
    EXPECT_EQ(r.out[i]["object"], "chat.completion.chunk");
  }
  // Metered even though the client did not ask.
  EXPECT_EQ(r.usage.prompt_tokens, 5);
  EXPECT_EQ(r.usage.completion_tokens, 2);
  EXPECT_EQ(r.usage.source, UsageSource::provider_final);
}

TEST(GeminiStream, SameResultWhateverTheReadSplit) {
  auto whole = run(kT24, true);
  for (std::size_t split : {1u, 3u, 7u, 64u}) {
    auto r = run(kT24, true, split);
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.out.size(), whole.out.size()) << split;
    for (std::size_t i = 0; i < r.out.size(); ++i) {
      if (r.out[i].is_object()) {
        EXPECT_EQ(r.out[i]["choices"], whole.out[i]["choices"]) << split;
      } else {
        EXPECT_EQ(r.out[i], whole.out[i]);
      }
    }
  }
}

TEST(GeminiStream, UsageChunkWhenAskedTakesTheLastUsageMetadata) {
  std::string raw = event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":300}})")) +
                    event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],
                        "usageMetadata":{"promptTokenCount":300,"cachedContentTokenCount":200,"candidatesTokenCount":20,"thoughtsTokenCount":80,"totalTokenCount":400}})"));
  auto r = run(raw, true);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.out.size(), 6u);
  EXPECT_TRUE(r.out[0]["usage"].is_null());
  EXPECT_EQ(r.out[3]["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(r.out[4]["choices"].empty());
  EXPECT_EQ(r.out[4]["usage"], json::parse(R"({"prompt_tokens":300,"completion_tokens":100,"total_tokens":400,
      "prompt_tokens_details":{"cached_tokens":200},"completion_tokens_details":{"reasoning_tokens":80}})"));
  EXPECT_EQ(r.out[5], "[DONE]");
}

TEST(GeminiStream, FunctionCallsArriveWholeWithToolIndexesAndFinishAsToolCalls) {
  ThoughtSignatureStore store;
  std::string raw = event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Checking."}]}}]})")) +
                    event(json::parse(R"({"candidates":[{"content":{"parts":[
                        {"functionCall":{"name":"wx","args":{"city":"Paris"}},"thoughtSignature":"SIG"},
                        {"functionCall":{"name":"tm","args":{}}}]},"finishReason":"STOP"}]})"));
  auto r = run(raw, false, 0, &store);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.out.size(), 6u);
  EXPECT_EQ(delta(r.out[1]), json::parse(R"({"content":"Checking."})"));
  EXPECT_EQ(delta(r.out[2]), json::parse(R"({"tool_calls":[{"index":0,"id":"call_gen1","type":"function",
      "function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}}]})"));
  EXPECT_EQ(delta(r.out[3]), json::parse(R"({"tool_calls":[{"index":1,"id":"call_gen2","type":"function",
      "function":{"name":"tm","arguments":"{}"}}]})"));
  EXPECT_EQ(r.out[4]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(r.out[5], "[DONE]");
  EXPECT_EQ(store.find("call_gen1", "gemini-2.5-flash"), "SIG");
}

TEST(GeminiStream, ThoughtsStreamAsReasoningContent) {
  std::string raw = event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"hmm","thought":true}]}}]})")) +
                    event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"42"}]},"finishReason":"STOP"}]})"));
  auto r = run(raw);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(delta(r.out[1]), json::parse(R"({"reasoning_content":"hmm"})"));
  EXPECT_EQ(delta(r.out[2]), json::parse(R"({"content":"42"})"));
}

TEST(GeminiStream, MidStreamErrorEventEndsTheStreamWithTheMappedError) {
  std::string raw = event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Par"}]}}]})")) +
                    event(json::parse(R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})"));
  auto r = run(raw);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 503);
  EXPECT_EQ(r.error->code, "service_unavailable");
  ASSERT_EQ(r.out.size(), 2u);
  EXPECT_EQ(delta(r.out[1]), json::parse(R"({"content":"Par"})"));
}

TEST(GeminiStream, EofBeforeFinishReasonIsTruncation) {
  auto r = run(event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Par"}]}}]})")));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "upstream_stream_truncated");
  auto empty = run("");
  ASSERT_TRUE(empty.error);
}

TEST(GeminiStream, MalformedJsonIsAProtocolError) {
  auto r = run("data: {\"candidates\":[\r\n\r\n");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "upstream_protocol_error");
}

TEST(GeminiStream, BlockedPromptFinishesWithContentFilter) {
  auto r = run(event(json::parse(R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8}})")));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.out.size(), 3u);
  EXPECT_EQ(delta(r.out[0])["role"], "assistant");
  EXPECT_EQ(r.out[1]["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(r.usage.prompt_tokens, 8);
}

TEST(GeminiStream, SafetyFinishAndMaxTokens) {
  auto safety = run(event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"SAFETY"}]})")));
  EXPECT_EQ(safety.out[2]["choices"][0]["finish_reason"], "content_filter");
  auto length = run(event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"MAX_TOKENS"}]})")));
  EXPECT_EQ(length.out[2]["choices"][0]["finish_reason"], "length");
}

TEST(GeminiStream, TwoCandidatesEachGetRoleAndFinish) {
  std::string raw = event(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0},{"content":{"parts":[{"text":"b"}]},"index":1}]})")) +
                    event(json::parse(R"({"candidates":[{"finishReason":"STOP","index":0},{"finishReason":"STOP","index":1}]})"));
  auto r = run(raw);
  ASSERT_FALSE(r.error);
  int roles = 0, finishes = 0;
  for (const auto& c : r.out) {
    if (!c.is_object()) continue;
    if (c["choices"][0]["delta"].contains("role")) ++roles;
    if (!c["choices"][0]["finish_reason"].is_null()) ++finishes;
  }
  EXPECT_EQ(roles, 2);
  EXPECT_EQ(finishes, 2);
}

TEST(GeminiStream, LegacyCompletionChunks) {
  auto r = run(kT24, false, 0, nullptr, Endpoint::completions);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.out.size(), 4u);
  EXPECT_EQ(r.out[0]["object"], "text_completion");
  EXPECT_EQ(r.out[0]["choices"][0]["text"], "Hel");
  EXPECT_EQ(r.out[2]["choices"][0]["finish_reason"], "stop");
}

}  // namespace
}  // namespace tollgate::gemini
