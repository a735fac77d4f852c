// A chat.completion -> a Response object, as client.responses.create sees it.
#include "api/responses_response.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using nlohmann::json;

ResponseEnvelope envelope() {
  return {"resp_abc", 1700000000, json{{"instructions", "Be brief."}, {"tool_choice", "auto"}, {"store", false}}};
}

json completion(json message, const char* finish = "stop") {
  return {{"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"created", 1}, {"model", "gpt-x"},
          {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", finish}}})},
          {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 3}, {"total_tokens", 14}}}};
}

json reply(const json& body, int status = 200, int* out_status = nullptr) {
  ResponsesReply r = responses_reply(status, body.dump(), Usage{}, envelope());
  if (out_status) *out_status = r.status;
  return json::parse(r.body);
}

TEST(ResponsesResponse, TextAnswer) {
  json r = reply(completion({{"role", "assistant"}, {"content", "Hello"}}));
  EXPECT_EQ(r, json::parse(R"({"id":"resp_abc","object":"response","created_at":1700000000,"status":"completed",
    "background":false,"error":null,"incomplete_details":null,"model":"gpt-x",
    "output":[{"id":"msg_abc_0","type":"message","status":"completed","role":"assistant",
      "content":[{"type":"output_text","text":"Hello","annotations":[],"logprobs":[]}]}],
    "usage":{"input_tokens":11,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,
      "output_tokens_details":{"reasoning_tokens":0},"total_tokens":14},
    "instructions":"Be brief.","tool_choice":"auto","store":false})"));
}

TEST(ResponsesResponse, ToolCallsAndReasoning) {
  json r = reply(completion(json::parse(R"({"role":"assistant","content":null,"reasoning_content":"Hmm.",
    "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                  {"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}}]})"), "tool_calls"));
  ASSERT_EQ(r["output"].size(), 3u);
  EXPECT_EQ(r["output"][0], json::parse(R"({"id":"rs_abc_0","type":"reasoning","summary":[{"type":"summary_text","text":"Hmm."}]})"));
  EXPECT_EQ(r["output"][1], json::parse(R"({"id":"fc_abc_1","type":"function_call","status":"completed","call_id":"call_1",
    "name":"get_weather","arguments":"{\"city\":\"Paris\"}"})"));
  EXPECT_EQ(r["output"][2]["call_id"], "call_2");
  EXPECT_EQ(r["status"], "completed");
}

TEST(ResponsesResponse, LengthIsIncomplete) {
  json r = reply(completion({{"role", "assistant"}, {"content", "Once"}}, "length"));
  EXPECT_EQ(r["status"], "incomplete");
  EXPECT_EQ(r["incomplete_details"], json::parse(R"({"reason":"max_output_tokens"})"));
}

TEST(ResponsesResponse, ErrorsStayOpenAIShaped) {
  const json err = json::parse(R"({"error":{"message":"no","type":"invalid_request_error","param":null,"code":"x"}})");
  int status = 0;
  EXPECT_EQ(reply(err, 429, &status), err);
  EXPECT_EQ(status, 429);
  json bad = reply(json::parse(R"({"object":"list"})"), 200, &status);
  EXPECT_EQ(status, 502);
  EXPECT_EQ(bad["error"]["type"], "server_error");
}

TEST(ResponsesResponse, Ids) {
  const std::string id = new_response_id();
  EXPECT_TRUE(id.starts_with("resp_"));
  EXPECT_EQ(id.size(), 5u + 48u);
  EXPECT_NE(id, new_response_id());
  EXPECT_EQ(response_item_id("fc_", "resp_123", 2), "fc_123_2");
}

}  // namespace
}  // namespace tollgate
