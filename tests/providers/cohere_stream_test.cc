// Cohere Chat v2 stream transcripts -> the OpenAI chunks a client sees
// (after the StreamNormalizer), with the §1.8 invariants.
#include <gtest/gtest.h>

#include "providers/adapter_stream_harness.h"
#include "providers/cohere/cohere_translate.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;
using test::run_stream;

// One SSE event as Cohere sends it: a named event whose data carries `type`.
std::string ev(const std::string& data) {
  const auto type = json::parse(data)["type"].get<std::string>();
  return "event: " + type + "\ndata: " + data + "\n\n";
}

std::string text_transcript() {
  return ev(R"({"id":"abc-123","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}})") +
         ev(R"({"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}})") +
         ev(R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hel"}}}})") +
         ev(R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"lo"}}}})") +
         ev(R"({"type":"content-end","index":0})") +
         ev(R"({"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":2},"tokens":{"input_tokens":70,"output_tokens":2},"cached_tokens":0}}})");
}

std::vector<json> deltas(const test::ClientStream& s) {
  std::vector<json> out;
  for (const auto& p : s.payloads) {
    if (p.is_string()) {
      out.push_back(p);
    } else if (p["choices"].empty()) {
      out.push_back({{"choices", json::array()}, {"usage", p["usage"]}});
    } else {
      json d = {{"delta", p["choices"][0]["delta"]}};
      if (!p["choices"][0]["finish_reason"].is_null()) d["finish_reason"] = p["choices"][0]["finish_reason"];
      out.push_back(d);
    }
  }
  return out;
}

TEST(CohereStream, TextWithUsage) {
  ChatStreamDecoder decoder("command-a-03-2025", 1700000000);
  auto out = run_stream(decoder, {text_transcript()}, /*client_wants_usage=*/true);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(deltas(out), json::parse(R"([
    {"delta":{"role":"assistant","content":""}},
    {"delta":{"content":"Hel"}},
    {"delta":{"content":"lo"}},
    {"delta":{},"finish_reason":"stop"},
    {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}},
    "[DONE]"])").get<std::vector<json>>());
  for (std::size_t i = 0; i + 1 < out.payloads.size(); ++i) {
    EXPECT_EQ(out.payloads[i]["id"], "chatcmpl-abc-123");
    EXPECT_EQ(out.payloads[i]["created"], 1700000000);
    EXPECT_EQ(out.payloads[i]["model"], "command-a-03-2025");
    EXPECT_EQ(out.payloads[i]["object"], "chat.completion.chunk");
  }
  EXPECT_EQ(out.usage.prompt_tokens, 5);
  EXPECT_TRUE(decoder.complete());
}

TEST(CohereStream, NoUsageChunkWhenTheClientDidNotAsk) {
  ChatStreamDecoder decoder("m", 1);
  auto out = run_stream(decoder, {text_transcript()}, false);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.payloads.size(), 5u);
  for (std::size_t i = 0; i + 1 < out.payloads.size(); ++i) {
    EXPECT_FALSE(out.payloads[i]["choices"].empty());
    EXPECT_FALSE(out.payloads[i].contains("usage"));
  }
  EXPECT_EQ(out.payloads.back(), "[DONE]");
  EXPECT_EQ(out.usage.completion_tokens, 2) << "still metered";
}

TEST(CohereStream, ToolCallsStreamWithPlanAndIndexes) {
  std::string body =
      ev(R"({"id":"t-1","type":"message-start","delta":{"message":{"role":"assistant"}}})") +
      ev(R"({"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will check."}}})") +
      ev(R"({"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"wx_1","type":"function","function":{"name":"wx","arguments":""}}}}})") +
      ev(R"({"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\"city\":"}}}}})") +
      ev(R"({"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"\"Paris\"}"}}}}})") +
      ev(R"({"type":"tool-call-end","index":0})") +
      ev(R"({"type":"tool-call-start","index":1,"delta":{"message":{"tool_calls":{"id":"tm_2","type":"function","function":{"name":"tm","arguments":"{}"}}}}})") +
      ev(R"({"type":"tool-call-end","index":1})") +
      ev(R"({"type":"message-end","delta":{"finish_reason":"TOOL_CALL","usage":{"billed_units":{"input_tokens":40,"output_tokens":25}}}})");
  ChatStreamDecoder decoder("command-r", 1);
  auto out = run_stream(decoder, {body}, false);
  ASSERT_FALSE(out.error);
  EXPECT_EQ(deltas(out), json::parse(R"([
    {"delta":{"role":"assistant","content":""}},
    {"delta":{"content":"I will check."}},
    {"delta":{"tool_calls":[{"index":0,"id":"wx_1","type":"function","function":{"name":"wx","arguments":""}}]}},
    {"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}},
    {"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}},
    {"delta":{"tool_calls":[{"index":1,"id":"tm_2","type":"function","function":{"name":"tm","arguments":""}}]}},
    {"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}},
    {"delta":{},"finish_reason":"tool_calls"},
    "[DONE]"])").get<std::vector<json>>()) << json(deltas(out)).dump(1);
  EXPECT_EQ(out.usage.prompt_tokens, 40);
}

TEST(CohereStream, SplitReadsAndCrlfFraming) {
  std::string body = text_transcript();
  std::string crlf;
  for (char c : body) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  std::vector<std::string> reads;
  for (std::size_t i = 0; i < crlf.size(); i += 5) reads.push_back(crlf.substr(i, 5));
  ChatStreamDecoder decoder("m", 1);
  auto out = run_stream(decoder, reads, false);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.payloads.size(), 5u);
  EXPECT_EQ(out.payloads[2]["choices"][0]["delta"]["content"], "lo");
}

TEST(CohereStream, MaxTokensAndThinking) {
  std::string body = ev(R"({"id":"r","type":"message-start","delta":{"message":{"role":"assistant"}}})") +
                     ev(R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"hmm"}}}})") +
                     ev(R"({"type":"content-delta","index":1,"delta":{"message":{"content":{"text":"4"}}}})") +
                     ev(R"({"type":"message-end","delta":{"finish_reason":"MAX_TOKENS"}})");
  ChatStreamDecoder decoder("m", 1);
  auto out = run_stream(decoder, {body}, false);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.payloads.size(), 5u);
  EXPECT_EQ(out.payloads[1]["choices"][0]["delta"]["reasoning_content"], "hmm");
  EXPECT_EQ(out.payloads[3]["choices"][0]["finish_reason"], "length");
}

TEST(CohereStream, ErrorFinishEndsWithAnErrorNotAFakeStop) {
  std::string body = ev(R"({"id":"e","type":"message-start","delta":{"message":{"role":"assistant"}}})") +
                     ev(R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Par"}}}})") +
                     ev(R"({"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal model failure"}})");
  ChatStreamDecoder decoder("m", 1);
  auto out = run_stream(decoder, {body}, false);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, "upstream_stream_error");
  EXPECT_NE(out.error->message.find("internal model failure"), std::string::npos);
  ASSERT_EQ(out.payloads.size(), 2u);
  EXPECT_EQ(out.payloads[1]["choices"][0]["delta"]["content"], "Par");
  for (const auto& p : out.payloads) EXPECT_NE(p, json("[DONE]"));
}

TEST(CohereStream, MalformedEventAndCutStream) {
  ChatStreamDecoder bad("m", 1);
  auto out = run_stream(bad, {ev(R"({"id":"e","type":"message-start"})") + "data: {oops\n\n"}, false);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, "upstream_protocol_error");

  ChatStreamDecoder cut("m", 1);
  std::vector<json> chunks;
  EXPECT_FALSE(cut.feed(ev(R"({"id":"e","type":"message-start"})"), chunks));
  EXPECT_FALSE(cut.finish(chunks));
  EXPECT_FALSE(cut.complete()) << "no message-end: the transport reports a truncated stream";
}

}  // namespace
}  // namespace tollgate::cohere
