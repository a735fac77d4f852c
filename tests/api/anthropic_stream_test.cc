// OpenAI stream -> Anthropic named events, checked on what an Anthropic client
// receives: upstream chunks go through the StreamNormalizer (as in the
// gateway, with the usage chunk kept) and then the translator (wire formats
// §2.7, §2.12; T14, T15 and T18 in reverse).
#include "api/anthropic_stream.h"

#include <gtest/gtest.h>

#include "providers/stream_normalizer.h"

namespace tollgate {
namespace {

using nlohmann::json;

struct Ev {
  std::string name;
  json data;
};

std::vector<Ev> run(const std::vector<json>& upstream, bool finish = true, int64_t estimate = 9) {
  StreamNormalizer norm(StreamNormalizer::Kind::chat, /*client_wants_usage=*/true, *ProviderProfiles::bundled().find("generic"));
  AnthropicStreamTranslator t(estimate, "msg_req_1");
  std::vector<Ev> out;
  auto take = [&](const std::vector<std::string>& payloads) {
    for (const auto& p : payloads) {
      for (auto& e : t.on_payload(p)) out.push_back({e.name, json::parse(e.data)});
    }
  };
  for (const auto& c : upstream) take(norm.on_chunk(c));
  if (finish) take(norm.finish());
  return out;
}

std::vector<std::string> names(const std::vector<Ev>& events) {
  std::vector<std::string> n;
  for (const auto& e : events) n.push_back(e.name);
  return n;
}

json chunk(json delta, json finish = nullptr) {
  return {{"id", "chatcmpl-up1"}, {"object", "chat.completion.chunk"}, {"created", 42}, {"model", "gpt-x"},
          {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

json tool_start(int index, const char* id, const char* name, const char* args = "") {
  return chunk({{"tool_calls", json::array({{{"index", index}, {"id", id}, {"type", "function"},
                                             {"function", {{"name", name}, {"arguments", args}}}}})}});
}

json tool_args(int index, const char* args) {
  return chunk({{"tool_calls", json::array({{{"index", index}, {"function", {{"arguments", args}}}}})}});
}

json usage_chunk(json usage) {
  return {{"id", "chatcmpl-up1"}, {"object", "chat.completion.chunk"}, {"created", 42}, {"model", "gpt-x"},
          {"choices", json::array()}, {"usage", usage}};
}

json usage(int prompt, int completion) {
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

// T14 in reverse: a text stream with usage, event by event.
TEST(AnthropicStream, TextStream) {
  auto ev = run({chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Hel"}}), chunk({{"content", "lo"}}),
                 chunk(json::object(), "stop"), usage_chunk(usage(12, 2))});
  std::vector<json> expected = {
      json::parse(R"({"type":"message_start","message":{"id":"msg_up1","type":"message","role":"assistant","model":"gpt-x",
        "content":[],"stop_reason":null,"stop_sequence":null,
        "usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}})"),
      json::parse(R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"),
      json::parse(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})"),
      json::parse(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})"),
      json::parse(R"({"type":"content_block_stop","index":0})"),
      json::parse(R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
        "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}})"),
      json::parse(R"({"type":"message_stop"})")};
  ASSERT_EQ(ev.size(), expected.size());
  for (std::size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].data, expected[i]) << i;
    EXPECT_EQ(ev[i].name, expected[i]["type"]) << i;
  }
}

// T15 in reverse: text, then two tool calls. The text block is stopped before
// the first tool block starts; tool blocks start with input {} and carry the
// arguments verbatim as partial_json; block indexes count all blocks.
TEST(AnthropicStream, TextThenTwoToolCalls) {
  auto ev = run({chunk({{"role", "assistant"}, {"content", "ok"}}), tool_start(0, "call_a", "get_weather"),
                 tool_args(0, "{\"city\":"), tool_args(0, "\"Paris\"}"), tool_start(1, "call_b", "now"), tool_args(1, "{}"),
                 chunk(json::object(), "tool_calls"), usage_chunk(usage(50, 30))});
  EXPECT_EQ(names(ev), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta", "content_block_stop",
                                                  "content_block_start", "content_block_delta", "content_block_delta",
                                                  "content_block_stop", "content_block_start", "content_block_delta",
                                                  "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(ev[4].data, json::parse(R"({"type":"content_block_start","index":1,
    "content_block":{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}})"));
  EXPECT_EQ(ev[5].data, json::parse(R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})"));
  EXPECT_EQ(json::parse(ev[5].data["delta"]["partial_json"].get<std::string>() + ev[6].data["delta"]["partial_json"].get<std::string>()),
            json::parse(R"({"city":"Paris"})"));
  EXPECT_EQ(ev[7].data["index"], 1);
  EXPECT_EQ(ev[8].data["index"], 2);
  EXPECT_EQ(ev[8].data["content_block"]["id"], "call_b");
  EXPECT_EQ(ev[9].data["delta"]["partial_json"], "{}");
  EXPECT_EQ(ev[10].data["index"], 2);
  EXPECT_EQ(ev[11].data["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(ev[11].data["usage"]["output_tokens"], 30);
}

// What OpenAI sends for a tool-only answer: the role chunk already carries the
// call; no empty text block appears before it.
TEST(AnthropicStream, ToolOnlyStream) {
  json first = tool_start(0, "call_1", "get_weather");
  first["choices"][0]["delta"]["role"] = "assistant";
  first["choices"][0]["delta"]["content"] = nullptr;
  auto ev = run({first, tool_args(0, "{\"city\":"), tool_args(0, "\"Paris\"}"), chunk(json::object(), "tool_calls")});
  EXPECT_EQ(names(ev), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                                  "content_block_delta", "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(ev[1].data["content_block"]["type"], "tool_use");
  EXPECT_EQ(ev[1].data["index"], 0);
}

// Gemini/Ollama-style upstreams send a whole call in one fragment.
TEST(AnthropicStream, WholeToolCallInOneFragment) {
  auto ev = run({tool_start(0, "call_1", "f", "{\"a\":1}"), chunk(json::object(), "stop")});
  EXPECT_EQ(ev[2].data["delta"], json::parse(R"({"type":"input_json_delta","partial_json":"{\"a\":1}"})"));
  // "stop" with a tool call still tells the agent to run the tool.
  EXPECT_EQ(ev[4].data["delta"]["stop_reason"], "tool_use");
}

TEST(AnthropicStream, InterleavedToolFragmentsKeepTheirBlockIndex) {
  auto ev = run({tool_start(0, "c0", "f"), tool_start(1, "c1", "g"), tool_args(0, "{}"), tool_args(1, "{}"),
                 chunk(json::object(), "tool_calls")});
  ASSERT_EQ(names(ev), (std::vector<std::string>{"message_start", "content_block_start", "content_block_stop", "content_block_start",
                                                  "content_block_delta", "content_block_delta", "content_block_stop",
                                                  "message_delta", "message_stop"}));
  EXPECT_EQ(ev[4].data["index"], 0);
  EXPECT_EQ(ev[5].data["index"], 1);
}

TEST(AnthropicStream, ThinkingThenText) {
  auto ev = run({chunk({{"role", "assistant"}, {"reasoning_content", "hmm"}}), chunk({{"content", "42"}}), chunk(json::object(), "stop")});
  EXPECT_EQ(ev[1].data["content_block"], json::parse(R"({"type":"thinking","thinking":"","signature":""})"));
  EXPECT_EQ(ev[2].data["delta"], json::parse(R"({"type":"thinking_delta","thinking":"hmm"})"));
  EXPECT_EQ(ev[3].name, "content_block_stop");
  EXPECT_EQ(ev[4].data, json::parse(R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"));
}

TEST(AnthropicStream, CacheAndLengthInMessageDelta) {
  json u = usage(1150, 20);
  u["prompt_tokens_details"] = {{"cached_tokens", 1000}, {"cache_write_tokens", 100}};
  auto ev = run({chunk({{"content", "x"}}), chunk(json::object(), "length"), usage_chunk(u)});
  EXPECT_EQ(ev.back().name, "message_stop");
  const auto& delta = ev[ev.size() - 2].data;
  EXPECT_EQ(delta["delta"]["stop_reason"], "max_tokens");
  EXPECT_EQ(delta["usage"], json::parse(R"({"input_tokens":50,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":20})"));
}

// T18 in reverse: an error after the stream started is an `error` event and
// the stream ends without message_stop.
TEST(AnthropicStream, MidStreamError) {
  AnthropicStreamTranslator t(5, "msg_x");
  std::vector<NamedEvent> ev;
  for (const char* p : {R"({"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Par"},"finish_reason":null}]})",
                        R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":"service_unavailable"}})",
                        "[DONE]"}) {
    for (auto& e : t.on_payload(p)) ev.push_back(e);
  }
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[2].name, "content_block_delta");
  EXPECT_EQ(ev[3].name, "error");
  EXPECT_EQ(json::parse(ev[3].data), json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  EXPECT_TRUE(t.finished());
}

TEST(AnthropicStream, EmptyStreamStillWellFormed) {
  auto ev = run({});
  EXPECT_EQ(names(ev), (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
  EXPECT_TRUE(ev[0].data["message"]["id"].get<std::string>().starts_with("msg_"));
  EXPECT_EQ(ev[1].data["delta"]["stop_reason"], "end_turn");
}

TEST(AnthropicStream, WithoutUsageChunkTheEstimateIsReported) {
  AnthropicStreamTranslator t(77, "msg_x");
  std::vector<NamedEvent> ev;
  for (const char* p : {R"({"id":"c","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]})", "[DONE]"}) {
    for (auto& e : t.on_payload(p)) ev.push_back(e);
  }
  auto delta = json::parse(ev[ev.size() - 2].data);
  EXPECT_EQ(delta["usage"]["input_tokens"], 77);
  EXPECT_EQ(delta["usage"]["output_tokens"], 0);
}

}  // namespace
}  // namespace tollgate
