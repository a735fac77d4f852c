// OpenAI chat stream -> Responses API events, checked on what a Responses
// client receives: upstream chunks go through the StreamNormalizer (as in the
// gateway, with the usage chunk asked for) and then the translator.
#include "api/responses_stream.h"

#include <gtest/gtest.h>

#include "providers/stream_normalizer.h"

namespace tollgate {
namespace {

using nlohmann::json;

struct Ev {
  std::string type;
  json data;
};

ResponseEnvelope envelope() {
  return {"resp_abc", 1700000000, json{{"instructions", nullptr}, {"tools", json::array()}, {"store", true}}};
}

// `broken`: the upstream stops without [DONE] (the sink then calls on_end).
std::vector<Ev> run(const std::vector<json>& upstream, bool finish = true, bool broken = false) {
  StreamNormalizer norm(StreamNormalizer::Kind::chat, /*client_wants_usage=*/true, *ProviderProfiles::bundled().find("generic"));
  ResponsesStreamTranslator t(envelope(), 9);
  std::vector<Ev> out;
  auto take = [&](const std::vector<ResponsesEvent>& events) {
    for (const auto& e : events) out.push_back({e.type, json::parse(e.data)});
  };
  for (const auto& c : upstream) {
    for (const auto& p : norm.on_chunk(c)) take(t.on_payload(p));
  }
  if (finish) {
    for (const auto& p : norm.finish()) take(t.on_payload(p));
  }
  if (broken) take(t.on_end());
  take(t.on_end());  // the sink always calls it; after a terminal event it adds nothing
  // Every event: its type in the payload, sequence numbers 0, 1, 2, ...
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].data["type"], out[i].type);
    EXPECT_EQ(out[i].data["sequence_number"], i);
  }
  return out;
}

std::vector<std::string> types(const std::vector<Ev>& events) {
  std::vector<std::string> n;
  for (const auto& e : events) n.push_back(e.type);
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

TEST(ResponsesStream, TextOnly) {
  auto ev = run({chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Hel"}}), chunk({{"content", "lo"}}),
                 chunk(json::object(), "stop"),
                 usage_chunk(json::parse(R"({"prompt_tokens":12,"completion_tokens":2,"total_tokens":14,
                   "prompt_tokens_details":{"cached_tokens":4}})"))});
  EXPECT_EQ(types(ev), (std::vector<std::string>{
                           "response.created", "response.in_progress", "response.output_item.added",
                           "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                           "response.output_text.done", "response.content_part.done", "response.output_item.done",
                           "response.completed"}));
  EXPECT_EQ(ev[0].data["response"]["id"], "resp_abc");
  EXPECT_EQ(ev[0].data["response"]["status"], "in_progress");
  EXPECT_EQ(ev[0].data["response"]["output"], json::array());
  EXPECT_EQ(ev[0].data["response"]["model"], "gpt-x");
  EXPECT_EQ(ev[2].data["item"], json::parse(R"({"id":"msg_abc_0","type":"message","status":"in_progress","role":"assistant","content":[]})"));
  EXPECT_EQ(ev[4].data, json::parse(R"({"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_abc_0",
    "output_index":0,"content_index":0,"delta":"Hel","logprobs":[]})"));
  EXPECT_EQ(ev[6].data["text"], "Hello");
  EXPECT_EQ(ev[8].data["item"]["status"], "completed");
  EXPECT_EQ(ev[8].data["item"]["content"][0]["text"], "Hello");
  const json& r = ev[9].data["response"];
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["object"], "response");
  EXPECT_EQ(r["created_at"], 1700000000);
  EXPECT_EQ(r["output"], json::array({ev[8].data["item"]}));
  EXPECT_EQ(r["usage"], json::parse(R"({"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":2,
    "output_tokens_details":{"reasoning_tokens":0},"total_tokens":14})"));
  EXPECT_EQ(r["error"], nullptr);
  EXPECT_EQ(r["incomplete_details"], nullptr);
  EXPECT_EQ(r["store"], true);  // the echoed request parameters
}

// Two parallel calls: each a function_call item; both stay open until the
// choice finishes, then close in output order.
TEST(ResponsesStream, TwoParallelToolCalls) {
  auto ev = run({tool_start(0, "call_a", "get_weather"), tool_start(1, "call_b", "now"), tool_args(0, "{\"city\":"),
                 tool_args(1, "{}"), tool_args(0, "\"Paris\"}"), chunk(json::object(), "tool_calls"),
                 usage_chunk(json::parse(R"({"prompt_tokens":50,"completion_tokens":30,"total_tokens":80})"))});
  EXPECT_EQ(types(ev), (std::vector<std::string>{
                           "response.created", "response.in_progress", "response.output_item.added",
                           "response.output_item.added", "response.function_call_arguments.delta",
                           "response.function_call_arguments.delta", "response.function_call_arguments.delta",
                           "response.function_call_arguments.done", "response.output_item.done",
                           "response.function_call_arguments.done", "response.output_item.done", "response.completed"}));
  EXPECT_EQ(ev[2].data["item"], json::parse(R"({"id":"fc_abc_0","type":"function_call","status":"in_progress",
    "arguments":"","call_id":"call_a","name":"get_weather"})"));
  EXPECT_EQ(ev[3].data["output_index"], 1);
  EXPECT_EQ(ev[5].data["item_id"], "fc_abc_1");
  EXPECT_EQ(ev[7].data["arguments"], "{\"city\":\"Paris\"}");
  EXPECT_EQ(ev[8].data["item"], json::parse(R"({"id":"fc_abc_0","type":"function_call","status":"completed",
    "arguments":"{\"city\":\"Paris\"}","call_id":"call_a","name":"get_weather"})"));
  const json& out = ev.back().data["response"]["output"];
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1]["call_id"], "call_b");
  EXPECT_EQ(out[1]["arguments"], "{}");
  EXPECT_EQ(ev.back().data["response"]["usage"]["output_tokens"], 30);
}

TEST(ResponsesStream, ReasoningThenText) {
  auto ev = run({chunk({{"role", "assistant"}, {"reasoning_content", "Think"}}), chunk({{"reasoning_content", "ing."}}),
                 chunk({{"content", "Answer"}}), chunk(json::object(), "stop"),
                 usage_chunk(json::parse(R"({"prompt_tokens":5,"completion_tokens":9,"total_tokens":14,
                   "completion_tokens_details":{"reasoning_tokens":6}})"))});
  EXPECT_EQ(types(ev), (std::vector<std::string>{
                           "response.created", "response.in_progress", "response.output_item.added",
                           "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
                           "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
                           "response.reasoning_summary_part.done", "response.output_item.done",
                           "response.output_item.added", "response.content_part.added", "response.output_text.delta",
                           "response.output_text.done", "response.content_part.done", "response.output_item.done",
                           "response.completed"}));
  EXPECT_EQ(ev[4].data["summary_index"], 0);
  EXPECT_EQ(ev[6].data["text"], "Thinking.");
  EXPECT_EQ(ev[8].data["item"], json::parse(R"({"id":"rs_abc_0","type":"reasoning","summary":[{"type":"summary_text","text":"Thinking."}]})"));
  EXPECT_EQ(ev[9].data["output_index"], 1);
  EXPECT_EQ(ev.back().data["response"]["usage"]["output_tokens_details"]["reasoning_tokens"], 6);
}

TEST(ResponsesStream, LengthCutIsIncomplete) {
  auto ev = run({chunk({{"role", "assistant"}, {"content", "Once upon"}}), chunk(json::object(), "length"),
                 usage_chunk(json::parse(R"({"prompt_tokens":5,"completion_tokens":16,"total_tokens":21})"))});
  EXPECT_EQ(ev.back().type, "response.incomplete");
  const json& r = ev.back().data["response"];
  EXPECT_EQ(r["status"], "incomplete");
  EXPECT_EQ(r["incomplete_details"], json::parse(R"({"reason":"max_output_tokens"})"));
  EXPECT_EQ(r["output"][0]["content"][0]["text"], "Once upon");
  EXPECT_EQ(r["usage"]["output_tokens"], 16);
  int terminals = 0;
  for (const auto& e : ev) terminals += e.type == "response.completed" || e.type == "response.incomplete" || e.type == "response.failed";
  EXPECT_EQ(terminals, 1);
}

// The router sends the gateway's error event when the upstream fails after
// the stream started: one response.failed, never a completion.
TEST(ResponsesStream, UpstreamErrorMidStreamFails) {
  StreamNormalizer norm(StreamNormalizer::Kind::chat, true, *ProviderProfiles::bundled().find("generic"));
  ResponsesStreamTranslator t(envelope(), 9);
  std::vector<Ev> ev;
  for (const auto& p : norm.on_chunk(chunk({{"role", "assistant"}, {"content", "Par"}}))) {
    for (auto& e : t.on_payload(p)) ev.push_back({e.type, json::parse(e.data)});
  }
  for (auto& e : t.on_payload(R"({"error":{"message":"Too many tokens; try again in 2s","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}})")) {
    ev.push_back({e.type, json::parse(e.data)});
  }
  EXPECT_TRUE(t.finished());
  EXPECT_TRUE(t.on_payload("[DONE]").empty());
  EXPECT_TRUE(t.on_end().empty());
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().type, "response.failed");
  const json& r = ev.back().data["response"];
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["error"], json::parse(R"({"code":"rate_limit_exceeded","message":"Too many tokens; try again in 2s"})"));
  EXPECT_EQ(r["output"][0]["status"], "incomplete");
  EXPECT_EQ(r["output"][0]["content"][0]["text"], "Par");
  for (std::size_t i = 0; i < ev.size(); ++i) EXPECT_EQ(ev[i].data["sequence_number"], i);
}

TEST(ResponsesStream, ErrorCodesCodexActsOn) {
  auto code = [](const char* type, const char* c) {
    return responses_error({{"error", {{"type", type}, {"code", c}, {"message", "m"}}}})["code"];
  };
  EXPECT_EQ(code("invalid_request_error", "context_length_exceeded"), "context_length_exceeded");
  EXPECT_EQ(code("rate_limit_error", ""), "rate_limit_exceeded");
  EXPECT_EQ(code("budget_exceeded", "budget_exceeded"), "insufficient_quota");
  EXPECT_EQ(code("server_error", "upstream_error"), "server_error");
  EXPECT_EQ(code("invalid_request_error", "invalid_value"), "invalid_prompt");
}

TEST(ResponsesStream, BrokenStreamFailsNeverCompletes) {
  auto ev = run({chunk({{"role", "assistant"}, {"content", "Half"}})}, /*finish=*/false, /*broken=*/true);
  EXPECT_EQ(ev.back().type, "response.failed");
  EXPECT_EQ(ev.back().data["response"]["error"]["code"], "server_error");
  for (const auto& e : ev) EXPECT_NE(e.type, "response.completed");
}

}  // namespace
}  // namespace tollgate
