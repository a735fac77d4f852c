// ConverseStream event frames -> the chunks an OpenAI client sees after the
// StreamNormalizer (wire formats §4.2, §1.8; conformance T28, T29).
#include "providers/bedrock/bedrock_stream.h"

#include <gtest/gtest.h>

#include "providers/stream_normalizer.h"

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

std::string frame(const char* type, const json& payload) { return encode_bedrock_event(type, payload.dump()); }

struct Run {
  std::vector<json> client;  // parsed payloads; "[DONE]" as a JSON string
  std::optional<ApiError> error;
  bool complete = false;
  Usage usage;
};

// Feeds `reads` to a decoder, its chunks to a normalizer, then ends the
// stream the way HttpProvider does.
Run run(const std::vector<std::string>& reads, bool wants_usage = true, std::string structured_tool = {}) {
  ConverseStreamDecoder decoder("anthropic.claude-x", std::move(structured_tool));
  StreamNormalizer norm(StreamNormalizer::Kind::chat, wants_usage, *ProviderProfiles::bundled().find("generic"));
  Run r;
  std::vector<json> chunks;
  auto deliver = [&] {
    for (auto& c : chunks) {
      for (auto& p : norm.on_chunk(std::move(c))) r.client.push_back(p == "[DONE]" ? json("[DONE]") : json::parse(p));
    }
    chunks.clear();
  };
  for (const auto& bytes : reads) {
    if (decoder.complete()) break;
    r.error = decoder.feed(bytes, chunks);
    deliver();
    if (r.error) return r;
  }
  if (!decoder.complete()) r.error = decoder.finish(chunks);
  deliver();
  r.complete = decoder.complete();
  if (!r.error && (decoder.complete() || norm.all_finished())) {
    for (auto& p : norm.finish()) r.client.push_back(p == "[DONE]" ? json("[DONE]") : json::parse(p));
  }
  r.usage = norm.usage();
  return r;
}

// The parts of a client chunk the conformance cases talk about.
json essentials(const json& c) {
  if (c.is_string()) return c;
  if (c["choices"].empty()) return {{"choices", json::array()}, {"usage", c["usage"]}};
  json e = {{"delta", c["choices"][0]["delta"]}};
  if (!c["choices"][0]["finish_reason"].is_null()) e["finish_reason"] = c["choices"][0]["finish_reason"];
  return e;
}

std::vector<json> essentials(const std::vector<json>& chunks) {
  std::vector<json> out;
  for (const auto& c : chunks) out.push_back(essentials(c));
  return out;
}

std::string t28_body() {
  return frame("messageStart", {{"role", "assistant"}}) +
         frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hi"}}}}) +
         frame("contentBlockStop", {{"contentBlockIndex", 0}}) + frame("messageStop", {{"stopReason", "end_turn"}}) +
         frame("metadata", {{"usage", {{"inputTokens", 5}, {"outputTokens", 2}, {"totalTokens", 7}}}, {"metrics", {{"latencyMs", 100}}}});
}

TEST(BedrockStream, T28_FinishIsEmittedOnlyAfterMetadata) {
  auto r = run({t28_body()});
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(essentials(r.client), (std::vector<json>{
      json::parse(R"({"delta":{"role":"assistant","content":""}})"),
      json::parse(R"({"delta":{"content":"Hi"}})"),
      json::parse(R"({"delta":{},"finish_reason":"stop"})"),
      json::parse(R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"),
      json("[DONE]")}));
  // §1.8 invariants: constant id/created/model, usage null on every other chunk.
  for (std::size_t i = 0; i + 1 < r.client.size(); ++i) {
    EXPECT_EQ(r.client[i]["id"], r.client[0]["id"]);
    EXPECT_EQ(r.client[i]["created"], r.client[0]["created"]);
    EXPECT_EQ(r.client[i]["model"], "anthropic.claude-x");
    EXPECT_EQ(r.client[i]["object"], "chat.completion.chunk");
    if (i + 2 < r.client.size()) {
      EXPECT_TRUE(r.client[i]["usage"].is_null());
    }
  }
  EXPECT_EQ(r.usage.source, UsageSource::provider_final);
}

TEST(BedrockStream, T28_NothingFinishesAtMessageStop) {
  ConverseStreamDecoder decoder("m", "");
  std::vector<json> chunks;
  ASSERT_FALSE(decoder.feed(frame("messageStart", {{"role", "assistant"}}) + frame("messageStop", {{"stopReason", "end_turn"}}), chunks));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_FALSE(decoder.complete());
  ASSERT_FALSE(decoder.feed(frame("metadata", {{"usage", {{"inputTokens", 1}, {"outputTokens", 1}}}}), chunks));
  EXPECT_EQ(chunks[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(decoder.complete());
}

TEST(BedrockStream, NoUsageChunkWhenTheClientDidNotAsk) {
  auto r = run({t28_body()}, /*wants_usage=*/false);
  ASSERT_EQ(r.client.size(), 4u);
  for (std::size_t i = 0; i + 1 < r.client.size(); ++i) {
    EXPECT_FALSE(r.client[i]["choices"].empty());
    EXPECT_FALSE(r.client[i].contains("usage"));
  }
  EXPECT_EQ(r.client.back(), "[DONE]");
  EXPECT_EQ(r.usage.total_tokens(), 7) << "still metered";
}

TEST(BedrockStream, ToolCallsStreamWithIndexesOverToolsOnly) {
  std::string body = frame("messageStart", {{"role", "assistant"}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "ok"}}}}) +
                     frame("contentBlockStop", {{"contentBlockIndex", 0}}) +
                     frame("contentBlockStart", {{"contentBlockIndex", 1}, {"start", {{"toolUse", {{"toolUseId", "tooluse_1"}, {"name", "f"}}}}}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", ""}}}}}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "{\"a\":"}}}}}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "1}"}}}}}}) +
                     frame("contentBlockStop", {{"contentBlockIndex", 1}}) +
                     frame("contentBlockStart", {{"contentBlockIndex", 2}, {"start", {{"toolUse", {{"toolUseId", "tooluse_2"}, {"name", "g"}}}}}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 2}, {"delta", {{"toolUse", {{"input", "{}"}}}}}}) +
                     frame("contentBlockStop", {{"contentBlockIndex", 2}}) + frame("messageStop", {{"stopReason", "tool_use"}}) +
                     frame("metadata", {{"usage", {{"inputTokens", 10}, {"outputTokens", 30}}}});
  auto r = run({body}, false);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(essentials(r.client), (std::vector<json>{
      json::parse(R"({"delta":{"role":"assistant","content":""}})"),
      json::parse(R"({"delta":{"content":"ok"}})"),
      json::parse(R"({"delta":{"tool_calls":[{"index":0,"id":"tooluse_1","type":"function","function":{"name":"f","arguments":""}}]}})"),
      json::parse(R"({"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}})"),
      json::parse(R"({"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}})"),
      json::parse(R"({"delta":{"tool_calls":[{"index":1,"id":"tooluse_2","type":"function","function":{"name":"g","arguments":""}}]}})"),
      json::parse(R"({"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}})"),
      json::parse(R"({"delta":{},"finish_reason":"tool_calls"})"),
      json("[DONE]")}));
}

TEST(BedrockStream, ReasoningCacheUsageAndStructuredOutput) {
  std::string body = frame("messageStart", {{"role", "assistant"}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"reasoningContent", {{"text", "hmm"}}}}}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"reasoningContent", {{"signature", "sig"}}}}}}) +
                     frame("contentBlockStart", {{"contentBlockIndex", 1}, {"start", {{"toolUse", {{"toolUseId", "t"}, {"name", "person"}}}}}}) +
                     frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "{\"n\":1}"}}}}}}) +
                     frame("messageStop", {{"stopReason", "tool_use"}}) +
                     frame("metadata", {{"usage", {{"inputTokens", 10}, {"outputTokens", 5}, {"cacheReadInputTokens", 100}, {"cacheWriteInputTokens", 20}}}});
  auto r = run({body}, true, "person");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(essentials(r.client), (std::vector<json>{
      json::parse(R"({"delta":{"role":"assistant","content":""}})"),
      json::parse(R"({"delta":{"reasoning_content":"hmm"}})"),
      json::parse(R"({"delta":{"content":"{\"n\":1}"}})"),
      json::parse(R"({"delta":{},"finish_reason":"stop"})"),
      json::parse(R"({"choices":[],"usage":{"prompt_tokens":130,"completion_tokens":5,"total_tokens":135,
                      "prompt_tokens_details":{"cached_tokens":100,"cache_write_tokens":20}}})"),
      json("[DONE]")}));
  EXPECT_EQ(r.usage.cached_tokens, 100);
  EXPECT_EQ(r.usage.cache_write_tokens, 20);
}

TEST(BedrockStream, T29_FrameSplitAcrossThreeReads) {
  const std::string body = t28_body();
  auto r = run({body.substr(0, 7), body.substr(7, 40), body.substr(47)});
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.client.size(), 5u);
  EXPECT_EQ(essentials(r.client[1]), json::parse(R"({"delta":{"content":"Hi"}})"));
}

TEST(BedrockStream, T29_BadMessageCrcAbortsWithUpstreamProtocolError) {
  std::string bad = frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "lo"}}}});
  bad[bad.size() - 2] ^= 0x10;
  auto r = run({frame("messageStart", {{"role", "assistant"}}) + frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hel"}}}}) + bad});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "upstream_protocol_error");
  EXPECT_EQ(r.error->status, 502);
  // What came before the corrupt frame was delivered; no finish was faked.
  ASSERT_EQ(r.client.size(), 2u);
  EXPECT_EQ(essentials(r.client[1]), json::parse(R"({"delta":{"content":"Hel"}})"));
}

TEST(BedrockStream, ExceptionFrameMidStreamIsAnError) {
  auto r = run({frame("messageStart", {{"role", "assistant"}}) + frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Par"}}}}) +
                encode_bedrock_exception("throttlingException", R"({"message":"Too many tokens, please wait."})")});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 429);
  EXPECT_NE(r.error->message.find("Too many tokens"), std::string::npos);
  EXPECT_EQ(r.client.size(), 2u);

  auto overloaded = run({encode_bedrock_exception("serviceUnavailableException", R"({"message":"busy"})")});
  ASSERT_TRUE(overloaded.error);
  EXPECT_EQ(overloaded.error->status, 503);
  EXPECT_EQ(overloaded.error->code, "service_unavailable");
  auto model = run({encode_bedrock_exception("modelStreamErrorException", R"({"message":"boom","originalStatusCode":500})")});
  ASSERT_TRUE(model.error);
  EXPECT_EQ(model.error->code, "upstream_stream_error");
}

TEST(BedrockStream, EndAfterMessageStopWithoutMetadataFinishesWithEstimatedUsage) {
  auto r = run({frame("messageStart", {{"role", "assistant"}}) + frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hello there"}}}}) +
                frame("messageStop", {{"stopReason", "max_tokens"}})});
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(essentials(r.client[2]), json::parse(R"({"delta":{},"finish_reason":"length"})"));
  EXPECT_EQ(r.usage.source, UsageSource::estimated);
  EXPECT_GT(r.usage.completion_tokens, 0);
}

TEST(BedrockStream, EndInsideAFrameOrBeforeMessageStopIsNotASuccess) {
  const std::string body = t28_body();
  auto cut = run({body.substr(0, body.size() - 5)});
  ASSERT_TRUE(cut.error);
  EXPECT_EQ(cut.error->code, "upstream_protocol_error");

  auto early = run({frame("messageStart", {{"role", "assistant"}})});
  EXPECT_FALSE(early.error);
  EXPECT_FALSE(early.complete) << "the provider reports the truncation";
}

TEST(BedrockStream, MalformedPayloadAndOrphanToolDeltaAreProtocolErrors) {
  auto junk = run({encode_bedrock_event("contentBlockDelta", "not json")});
  ASSERT_TRUE(junk.error);
  EXPECT_EQ(junk.error->code, "upstream_protocol_error");
  auto orphan = run({frame("contentBlockDelta", {{"contentBlockIndex", 3}, {"delta", {{"toolUse", {{"input", "{}"}}}}}})});
  ASSERT_TRUE(orphan.error);
  EXPECT_EQ(orphan.error->code, "upstream_protocol_error");
}

TEST(BedrockStream, PayloadsOfUnexpectedShapeAreIgnoredNotFatal) {
  auto r = run({frame("messageStart", {{"role", 7}}) +
                frame("contentBlockStart", {{"contentBlockIndex", "x"}, {"start", json::array()}}) +
                frame("contentBlockStart", {{"contentBlockIndex", 1}, {"start", {{"toolUse", "nope"}}}}) +
                frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", json::array({1, 2})}}) +
                frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", 5}}}}) +
                frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"reasoningContent", "x"}}}}) +
                frame("someFutureEvent", {{"padding", "xxxx"}}) + frame("messageStop", {{"stopReason", 3}}) +
                frame("metadata", {{"usage", {{"inputTokens", "many"}, {"outputTokens", -4}}}})});
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(essentials(r.client.back()), json("[DONE]"));
  EXPECT_EQ(r.usage.total_tokens(), 0);
}

}  // namespace
}  // namespace tollgate::bedrock
