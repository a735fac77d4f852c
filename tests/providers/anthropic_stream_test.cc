// Anthropic stream -> what an OpenAI client sees, through the decoder and the
// shared StreamNormalizer: wire formats §2.11, §2.13 and conformance cases
// T14-T18.
#include "providers/anthropic/anthropic_stream.h"

#include <gtest/gtest.h>

#include "providers/stream_normalizer.h"

namespace tollgate::anthropic {
namespace {

using nlohmann::json;
using Events = std::vector<std::pair<std::string, json>>;

// An SSE transcript as Anthropic writes it: `event:` line, `data:` line.
std::string transcript(const Events& events) {
  std::string out;
  for (const auto& [name, data] : events) {
    json d = data;
    if (d.is_object() && !d.contains("type")) d["type"] = name;
    out += "event: " + name + "\ndata: " + d.dump() + "\n\n";
  }
  return out;
}

struct Seen {
  std::vector<json> payloads;  // parsed client payloads; "[DONE]" as a string
  std::optional<ApiError> error;
  Usage usage;
  bool complete = false;
};

// Runs the bytes through the decoder (fed `step` bytes at a time) and the
// normalizer as HttpProvider does, error event included.
Seen run(const std::string& bytes, bool client_wants_usage, ResponseOptions options = {}, std::size_t step = 0) {
  options.created = 1735689600;
  AnthropicStreamDecoder decoder(options);
  StreamNormalizer norm(options.completion ? StreamNormalizer::Kind::completion : StreamNormalizer::Kind::chat,
                        client_wants_usage, *ProviderProfiles::bundled().find("generic"));
  Seen seen;
  std::vector<std::string> raw;
  auto push = [&](std::vector<json>& chunks) {
    for (auto& c : chunks) {
      for (auto& p : norm.on_chunk(std::move(c))) raw.push_back(p);
    }
    chunks.clear();
  };
  std::vector<json> chunks;
  if (step == 0) step = bytes.size();
  for (std::size_t i = 0; i < bytes.size() && !seen.error && !decoder.complete(); i += step) {
    seen.error = decoder.feed(std::string_view(bytes).substr(i, step), chunks);
    push(chunks);
  }
  if (!seen.error && !decoder.complete()) {
    seen.error = decoder.finish(chunks);
    push(chunks);
  }
  seen.complete = decoder.complete();
  if (seen.error) {
    raw.push_back(seen.error->stream_event());
  } else {
    for (auto& p : norm.finish()) raw.push_back(p);
  }
  for (const auto& p : raw) seen.payloads.push_back(p == "[DONE]" ? json("[DONE]") : json::parse(p));
  seen.usage = norm.usage();
  return seen;
}

const json& delta(const json& payload) { return payload["choices"][0]["delta"]; }

const Events kT14 = {
    {"message_start", {{"message", {{"id", "msg_1"}, {"model", "claude-x"}, {"usage", {{"input_tokens", 10}, {"output_tokens", 1}}}}}}},
    {"content_block_start", {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}},
    {"ping", json::object()},
    {"content_block_delta", {{"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "Hi"}}}}},
    {"content_block_stop", {{"index", 0}}},
    {"message_delta", {{"delta", {{"stop_reason", "end_turn"}}}, {"usage", {{"output_tokens", 3}}}}},
    {"message_stop", json::object()},
};

TEST(AnthropicStream, T14_TextStreamWithIncludeUsage) {
  auto seen = run(transcript(kT14), /*client_wants_usage=*/true);
  ASSERT_FALSE(seen.error) << seen.error->message;
  const auto& out = seen.payloads;
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["choices"], json::parse(R"([{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}])"));
  EXPECT_TRUE(out[0]["usage"].is_null());
  EXPECT_EQ(out[1]["choices"], json::parse(R"([{"index":0,"delta":{"content":"Hi"},"finish_reason":null}])"));
  EXPECT_TRUE(out[1]["usage"].is_null());
  EXPECT_EQ(out[2]["choices"], json::parse(R"([{"index":0,"delta":{},"finish_reason":"stop"}])"));
  EXPECT_TRUE(out[2]["usage"].is_null());
  EXPECT_EQ(out[3]["choices"], json::array());
  EXPECT_EQ(out[3]["usage"], json::parse(R"({"prompt_tokens":10,"completion_tokens":3,"total_tokens":13})"));
  EXPECT_EQ(out[4], "[DONE]");
  // §1.8 invariant 2: constant id, created, model.
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i]["id"], "chatcmpl-msg_1");
    EXPECT_EQ(out[i]["created"], 1735689600);
    EXPECT_EQ(out[i]["model"], "claude-x");
    EXPECT_EQ(out[i]["object"], "chat.completion.chunk");
  }
  EXPECT_EQ(seen.usage.total_tokens(), 13);
}

TEST(AnthropicStream, T14_SameResultWhateverTheReadBoundaries) {
  const auto whole = run(transcript(kT14), true).payloads;
  for (std::size_t step : {1u, 2u, 7u, 64u}) EXPECT_EQ(run(transcript(kT14), true, {}, step).payloads, whole) << step;
}

TEST(AnthropicStream, T15_ToolIndexCountsToolsOnlyAndArgumentsStartEmpty) {
  const Events events = {
      {"message_start", json::object()},
      {"content_block_start", {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "ok"}}}}},
      {"content_block_stop", {{"index", 0}}},
      {"content_block_start", {{"index", 1}, {"content_block", {{"type", "tool_use"}, {"id", "t1"}, {"name", "f"}, {"input", json::object()}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", ""}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{\"a\":1}"}}}}},
      {"content_block_stop", {{"index", 1}}},
      {"content_block_start", {{"index", 2}, {"content_block", {{"type", "tool_use"}, {"id", "t2"}, {"name", "g"}, {"input", json::object()}}}}},
      {"content_block_delta", {{"index", 2}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{}"}}}}},
      {"content_block_stop", {{"index", 2}}},
      {"message_delta", {{"delta", {{"stop_reason", "tool_use"}}}, {"usage", {{"output_tokens", 30}}}}},
      {"message_stop", json::object()},
  };
  auto seen = run(transcript(events), false);
  ASSERT_FALSE(seen.error);
  const auto& out = seen.payloads;
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(delta(out[0]), json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(delta(out[1]), json::parse(R"({"content":"ok"})"));
  EXPECT_EQ(delta(out[2]), json::parse(R"({"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":""}}]})"));
  EXPECT_EQ(delta(out[3]), json::parse(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]})"));
  EXPECT_EQ(delta(out[4]), json::parse(R"({"tool_calls":[{"index":1,"id":"t2","type":"function","function":{"name":"g","arguments":""}}]})"));
  EXPECT_EQ(delta(out[5]), json::parse(R"({"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]})"));
  EXPECT_EQ(delta(out[6]), json::object());
  EXPECT_EQ(out[6]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(out[7], "[DONE]");
  for (std::size_t i = 0; i < 6; ++i) EXPECT_TRUE(out[i]["choices"][0]["finish_reason"].is_null()) << i;
}

TEST(AnthropicStream, T16_NoUsageChunkOrUsageKeyWhenTheClientDidNotAsk) {
  auto seen = run(transcript(kT14), false);
  ASSERT_FALSE(seen.error);
  for (std::size_t i = 0; i + 1 < seen.payloads.size(); ++i) {
    EXPECT_FALSE(seen.payloads[i]["choices"].empty()) << seen.payloads[i];
    EXPECT_FALSE(seen.payloads[i].contains("usage")) << seen.payloads[i];
  }
  EXPECT_EQ(seen.payloads.back(), "[DONE]");
  // Still metered.
  EXPECT_EQ(seen.usage.prompt_tokens, 10);
  EXPECT_EQ(seen.usage.completion_tokens, 3);
  EXPECT_EQ(seen.usage.source, UsageSource::provider_final);
}

TEST(AnthropicStream, T17_CumulativeUsageIsReplacedNotSummed) {
  const Events events = {
      {"message_start", {{"message", {{"usage", {{"input_tokens", 10}, {"output_tokens", 1}}}}}}},
      {"message_delta", {{"usage", {{"output_tokens", 40}}}}},
      {"message_delta", {{"delta", {{"stop_reason", "end_turn"}}}, {"usage", {{"output_tokens", 55}}}}},
      {"message_stop", json::object()},
  };
  auto seen = run(transcript(events), true);
  ASSERT_FALSE(seen.error);
  ASSERT_GE(seen.payloads.size(), 2u);
  const auto& usage_chunk = seen.payloads[seen.payloads.size() - 2];
  EXPECT_EQ(usage_chunk["usage"], json::parse(R"({"prompt_tokens":10,"completion_tokens":55,"total_tokens":65})"));
  // One finish reason although there were two message_delta events.
  int finishes = 0;
  for (const auto& p : seen.payloads) {
    if (p.is_object() && !p["choices"].empty() && p["choices"][0]["finish_reason"].is_string()) ++finishes;
  }
  EXPECT_EQ(finishes, 1);
}

TEST(AnthropicStream, CacheUsageFromMessageStartFollowsTheCrosswalk) {
  const Events events = {
      {"message_start", {{"message", {{"id", "msg_c"}, {"usage", {{"input_tokens", 50}, {"output_tokens", 1}, {"cache_creation_input_tokens", 100}, {"cache_read_input_tokens", 1000}}}}}}},
      {"message_delta", {{"delta", {{"stop_reason", "end_turn"}}}, {"usage", {{"output_tokens", 20}}}}},
      {"message_stop", json::object()},
  };
  auto seen = run(transcript(events), true);
  ASSERT_FALSE(seen.error);
  EXPECT_EQ(seen.payloads[seen.payloads.size() - 2]["usage"],
            json::parse(R"({"prompt_tokens":1150,"completion_tokens":20,"total_tokens":1170,"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":100}})"));
  EXPECT_EQ(seen.usage.cached_tokens, 1000);
  EXPECT_EQ(seen.usage.cache_write_tokens, 100);
}

TEST(AnthropicStream, T18_MidStreamErrorEvent) {
  const Events events = {
      {"message_start", json::object()},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "Par"}}}}},
      {"error", {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}},
  };
  auto seen = run(transcript(events), false);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->status, 503);
  const auto& out = seen.payloads;
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(delta(out[0]), json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(delta(out[1]), json::parse(R"({"content":"Par"})"));
  EXPECT_EQ(out[2], json::parse(R"({"error":{"message":"Overloaded","type":"service_unavailable","param":null,"code":"overloaded"}})"));
}

TEST(AnthropicStream, EndOfStreamWithoutMessageStopIsAnError) {
  const Events events = {
      {"message_start", json::object()},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "Par"}}}}},
  };
  auto seen = run(transcript(events), false);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->status, 502);
  EXPECT_EQ(seen.error->code, "upstream_stream_truncated");
  EXPECT_FALSE(seen.complete);
}

TEST(AnthropicStream, MalformedJsonIsAProtocolError) {
  auto seen = run("event: message_start\ndata: {not json\n\n", false);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->code, "upstream_protocol_error");
}

TEST(AnthropicStream, ThinkingStreamsAsReasoningContentAndKeepsTheSignature) {
  const Events events = {
      {"message_start", {{"message", {{"id", "msg_t"}, {"usage", {{"input_tokens", 5}, {"output_tokens", 1}}}}}}},
      {"content_block_start", {{"index", 0}, {"content_block", {{"type", "thinking"}, {"thinking", ""}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "thinking_delta"}, {"thinking", "Let me "}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "thinking_delta"}, {"thinking", "think."}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "signature_delta"}, {"signature", "SIG"}}}}},
      {"content_block_stop", {{"index", 0}}},
      {"content_block_start", {{"index", 1}, {"content_block", {{"type", "tool_use"}, {"id", "t1"}, {"name", "f"}, {"input", json::object()}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{}"}}}}},
      {"content_block_stop", {{"index", 1}}},
      {"message_delta", {{"delta", {{"stop_reason", "tool_use"}}}, {"usage", {{"output_tokens", 12}}}}},
      {"message_stop", json::object()},
  };
  auto seen = run(transcript(events), false);
  ASSERT_FALSE(seen.error);
  const auto& out = seen.payloads;
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(delta(out[1]), json::parse(R"({"reasoning_content":"Let me "})"));
  EXPECT_EQ(delta(out[2]), json::parse(R"({"reasoning_content":"think."})"));
  EXPECT_EQ(delta(out[3]), json::parse(R"({"thinking_blocks":[{"type":"thinking","thinking":"Let me think.","signature":"SIG"}]})"));
  // The thinking block does not shift the tool index: the first tool is 0.
  EXPECT_EQ(delta(out[4])["tool_calls"][0]["index"], 0);
  EXPECT_EQ(out[6]["choices"][0]["finish_reason"], "tool_calls");
}

TEST(AnthropicStream, EmulatedJsonToolStreamsAsContent) {
  const Events events = {
      {"message_start", json::object()},
      {"content_block_start", {{"index", 0}, {"content_block", {{"type", "tool_use"}, {"id", "t1"}, {"name", "json_response"}, {"input", json::object()}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{\"n\":"}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "3}"}}}}},
      {"content_block_stop", {{"index", 0}}},
      {"message_delta", {{"delta", {{"stop_reason", "tool_use"}}}, {"usage", {{"output_tokens", 5}}}}},
      {"message_stop", json::object()},
  };
  ResponseOptions options;
  options.json_tool = true;
  auto seen = run(transcript(events), false, options);
  ASSERT_FALSE(seen.error);
  const auto& out = seen.payloads;
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(delta(out[1]), json::parse(R"({"content":"{\"n\":"})"));
  EXPECT_EQ(delta(out[2]), json::parse(R"({"content":"3}"})"));
  EXPECT_EQ(out[3]["choices"][0]["finish_reason"], "stop");
}

TEST(AnthropicStream, CompletionModeEmitsTextCompletionChunks) {
  ResponseOptions options;
  options.completion = true;
  auto seen = run(transcript(kT14), true, options);
  ASSERT_FALSE(seen.error);
  const auto& out = seen.payloads;
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["object"], "text_completion");
  EXPECT_EQ(out[0]["id"], "cmpl-msg_1");
  EXPECT_EQ(out[0]["choices"][0]["text"], "Hi");
  EXPECT_EQ(out[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out[2]["usage"]["total_tokens"], 13);
  EXPECT_EQ(out[3], "[DONE]");
}

TEST(AnthropicStream, UnknownEventsAndBlocksAreIgnored) {
  const Events events = {
      {"message_start", json::object()},
      {"content_block_start", {{"index", 0}, {"content_block", {{"type", "server_tool_use"}, {"id", "s"}, {"name", "web_search"}}}}},
      {"content_block_delta", {{"index", 0}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{\"q\":1}"}}}}},
      {"content_block_stop", {{"index", 0}}},
      {"some_future_event", {{"x", 1}}},
      {"content_block_start", {{"index", 1}, {"content_block", {{"type", "text"}, {"text", ""}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "citations_delta"}, {"citation", json::object()}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "text_delta"}, {"text", "done"}}}}},
      {"message_delta", {{"delta", {{"stop_reason", "pause_turn"}}}}},
      {"message_stop", json::object()},
  };
  auto seen = run(transcript(events), false);
  ASSERT_FALSE(seen.error);
  ASSERT_EQ(seen.payloads.size(), 4u);
  EXPECT_EQ(delta(seen.payloads[1]), json::parse(R"({"content":"done"})"));
  EXPECT_EQ(seen.payloads[2]["choices"][0]["finish_reason"], "stop");
}

TEST(AnthropicStream, EventsAfterMessageStopAreIgnored) {
  auto bytes = transcript(kT14) + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"late\"}}\n\n";
  auto seen = run(bytes, false);
  ASSERT_FALSE(seen.error);
  for (const auto& p : seen.payloads) EXPECT_EQ(p.dump().find("late"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::anthropic
