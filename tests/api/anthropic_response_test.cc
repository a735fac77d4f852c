// OpenAI chat.completion and error bodies -> Anthropic message and error
// bodies (wire formats §2.6, §2.8, §2.12; T12, T13 and T19 in reverse).
#include "api/anthropic_response.h"

#include <gtest/gtest.h>

#include "tollgate/error.h"

namespace tollgate {
namespace {

using nlohmann::json;

json reply(const json& completion, const Usage& usage = {}, int* status = nullptr) {
  auto r = anthropic_reply(200, completion.dump(), usage, "req_abc");
  if (status) *status = r.status;
  return json::parse(r.body);
}

json completion(json message, json finish, json usage = nullptr) {
  json c = {{"id", "chatcmpl-9x2k"}, {"object", "chat.completion"}, {"created", 1}, {"model", "gpt-x"},
            {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", finish}}})}};
  if (!usage.is_null()) c["usage"] = usage;
  return c;
}

TEST(AnthropicResponse, TextMessage) {
  auto m = reply(completion({{"role", "assistant"}, {"content", "It is 18C."}}, "stop",
                            {{"prompt_tokens", 12}, {"completion_tokens", 5}, {"total_tokens", 17}}));
  EXPECT_EQ(m, json::parse(R"({"id":"msg_9x2k","type":"message","role":"assistant","model":"gpt-x",
    "content":[{"type":"text","text":"It is 18C."}],"stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}})"));
}

// T12 in reverse: text + tool call + cache usage. Anthropic's input_tokens is
// the uncached part only, so cached reads are never counted twice.
TEST(AnthropicResponse, ToolCallsBecomeToolUseWithObjectInput) {
  json message = {{"role", "assistant"}, {"content", "Checking."},
                  {"tool_calls", json::parse(R"([{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
                                                 {"id":"call_2","type":"function","function":{"name":"g","arguments":""}}])")}};
  auto m = reply(completion(message, "tool_calls",
                            json::parse(R"({"prompt_tokens":1150,"completion_tokens":20,"total_tokens":1170,
                                            "prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":100}})")));
  EXPECT_EQ(m["content"], json::parse(R"([{"type":"text","text":"Checking."},
    {"type":"tool_use","id":"call_1","name":"f","input":{"a":1}},
    {"type":"tool_use","id":"call_2","name":"g","input":{}}])"));
  EXPECT_EQ(m["stop_reason"], "tool_use");
  EXPECT_EQ(m["usage"], json::parse(R"({"input_tokens":50,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":20})"));
}

TEST(AnthropicResponse, ToolOnlyMessageHasNoTextBlock) {
  json message = {{"role", "assistant"}, {"content", nullptr},
                  {"tool_calls", json::parse(R"([{"id":"c","type":"function","function":{"name":"f","arguments":"{bad"}}])")}};
  auto m = reply(completion(message, "tool_calls"));
  ASSERT_EQ(m["content"].size(), 1u);
  EXPECT_EQ(m["content"][0]["type"], "tool_use");
  EXPECT_EQ(m["content"][0]["input"], json::object());  // never a string: Anthropic input is an object
}

// T13 in reverse.
TEST(AnthropicResponse, StopReasonMapping) {
  EXPECT_EQ(anthropic_stop_reason("stop", false), "end_turn");
  EXPECT_EQ(anthropic_stop_reason("length", false), "max_tokens");
  EXPECT_EQ(anthropic_stop_reason("tool_calls", true), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("function_call", true), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("content_filter", false), "refusal");
  EXPECT_EQ(anthropic_stop_reason(nullptr, false), "end_turn");
  EXPECT_EQ(anthropic_stop_reason("eos", false), "end_turn");
  // Upstreams that say "stop" with tool calls (Ollama) still make agents run tools.
  EXPECT_EQ(anthropic_stop_reason("stop", true), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("length", true), "max_tokens");
}

TEST(AnthropicResponse, ReasoningBecomesThinkingBlockAndRefusalText) {
  auto m = reply(completion({{"role", "assistant"}, {"content", "42"}, {"reasoning_content", "think"}}, "stop"));
  EXPECT_EQ(m["content"], json::parse(R"([{"type":"thinking","thinking":"think","signature":""},{"type":"text","text":"42"}])"));
  m = reply(completion({{"role", "assistant"}, {"content", nullptr}, {"refusal", "I can't help with that."}}, "stop"));
  EXPECT_EQ(m["content"], json::parse(R"([{"type":"text","text":"I can't help with that."}])"));
  EXPECT_EQ(m["stop_reason"], "refusal");
}

TEST(AnthropicResponse, EmptyReplyHasNoBlocks) {
  auto m = reply(completion({{"role", "assistant"}, {"content", ""}}, "length"));
  EXPECT_EQ(m["content"], json::array());
  EXPECT_EQ(m["stop_reason"], "max_tokens");
}

// The request's normalised usage (possibly estimated by the provider) wins
// over the body's.
TEST(AnthropicResponse, RequestUsageWinsOverBody) {
  Usage u;
  u.prompt_tokens = 30;
  u.completion_tokens = 7;
  u.cached_tokens = 10;
  u.source = UsageSource::estimated;
  auto m = reply(completion({{"role", "assistant"}, {"content", "x"}}, "stop"), u);
  EXPECT_EQ(m["usage"], json::parse(R"({"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":10,"output_tokens":7})"));
}

TEST(AnthropicResponse, MessageIds) {
  EXPECT_EQ(anthropic_message_id("chatcmpl-abc", "msg_fb"), "msg_abc");
  EXPECT_EQ(anthropic_message_id("msg_01X", "msg_fb"), "msg_01X");
  EXPECT_EQ(anthropic_message_id("gen-77", "msg_fb"), "msg_gen-77");
  EXPECT_EQ(anthropic_message_id(nullptr, "msg_fb"), "msg_fb");
  EXPECT_EQ(reply(completion({{"role", "assistant"}, {"content", "x"}}, "stop")).value("id", ""), "msg_9x2k");
}

TEST(AnthropicResponse, NotAChatCompletionIsA502) {
  int status = 0;
  auto m = reply(json::parse(R"({"object":"list","data":[]})"), {}, &status);
  EXPECT_EQ(status, 502);
  EXPECT_EQ(m["type"], "error");
  EXPECT_EQ(m["error"]["type"], "api_error");
}

// T19 in reverse: every gateway error status has its Anthropic type; the
// status stays the same (503, never 529).
TEST(AnthropicResponse, ErrorBodies) {
  const std::pair<int, const char*> cases[] = {
      {400, "invalid_request_error"}, {401, "authentication_error"}, {403, "permission_error"},
      {404, "not_found_error"},       {405, "invalid_request_error"}, {413, "request_too_large"},
      {429, "rate_limit_error"},      {500, "api_error"},             {502, "api_error"},
      {503, "overloaded_error"},      {504, "timeout_error"}};
  for (const auto& [status, type] : cases) {
    ApiError e{status, "whatever", "code", "Something went wrong.", {}, {}};
    auto r = anthropic_reply(status, e.body(), {}, "req_abc");
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(json::parse(r.body), json({{"type", "error"}, {"error", {{"type", type}, {"message", "Something went wrong."}}},
                                         {"request_id", "req_abc"}}))
        << status;
  }
  auto r = anthropic_reply(500, "not json", {}, "req_abc");
  EXPECT_EQ(json::parse(r.body)["error"]["message"], "The request failed with HTTP status 500.");
}

TEST(AnthropicResponse, StreamErrorTypes) {
  auto type_of = [](const ApiError& e) { return anthropic_stream_error(json::parse(e.stream_event()))["error"]["type"]; };
  EXPECT_EQ(type_of(ApiError::unavailable("Overloaded")), "overloaded_error");
  EXPECT_EQ(type_of(ApiError{503, "service_unavailable", "overloaded", "Overloaded", {}, {}}), "overloaded_error");
  EXPECT_EQ(type_of(ApiError::rate_limited("slow down", 3)), "rate_limit_error");
  EXPECT_EQ(type_of(ApiError::gateway_timeout("late")), "timeout_error");
  EXPECT_EQ(type_of(ApiError::bad_gateway("upstream closed")), "api_error");
  EXPECT_EQ(type_of(ApiError::bad_request("bad")), "invalid_request_error");
  auto ev = anthropic_stream_error(json::parse(ApiError::bad_gateway("the upstream closed the stream").stream_event()));
  EXPECT_EQ(ev, json::parse(R"({"type":"error","error":{"type":"api_error","message":"the upstream closed the stream"}})"));
}

}  // namespace
}  // namespace tollgate
