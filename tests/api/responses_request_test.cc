// Responses API request -> the gateway's OpenAI chat request: what Codex, the
// OpenAI SDK and the AI SDK send to POST /v1/responses, read through the tape
// as in production.
#include "api/responses_request.h"

#include <gtest/gtest.h>

#include "middleware/request_validation.h"
#include "support/parsed_body.h"
#include "tollgate/request_context.h"

namespace tollgate {
namespace {

using nlohmann::json;

json base(json extra = json::object()) {
  json b = {{"model", "gpt-x"}, {"input", "hi"}};
  for (auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

TranslatedResponsesRequest translate(const json& body, const ResponseItemResolver* resolver = nullptr) {
  const RequestBody parsed = testing::parsed_body(body);
  auto r = translate_responses_request(parsed.view(), resolver);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return {};
  // Whatever it makes is a chat request the gateway's validation accepts.
  RequestContext ctx;
  ctx.endpoint = Endpoint::chat_completions;
  ctx.body = RequestBody(r->body);
  auto refused = validate_request(ctx);
  EXPECT_FALSE(refused.has_value()) << (refused ? refused->message : "") << "\n" << r->body.dump();
  return std::move(*r);
}

ApiError reject(const json& body, const ResponseItemResolver* resolver = nullptr) {
  const RequestBody parsed = testing::parsed_body(body);
  auto r = translate_responses_request(parsed.view(), resolver);
  EXPECT_FALSE(r.ok()) << (r.ok() ? r->body.dump() : "");
  return r.ok() ? ApiError{} : r.error();
}

TEST(ResponsesRequest, StringInputAndInstructions) {
  auto t = translate(base({{"instructions", "Be brief."}}));
  EXPECT_EQ(t.body, json::parse(R"({"model":"gpt-x","messages":[{"role":"system","content":"Be brief."},
    {"role":"user","content":"hi"}]})"));
  EXPECT_TRUE(t.store);
  EXPECT_EQ(t.echo["instructions"], "Be brief.");
  EXPECT_EQ(t.echo["tools"], json::array());
  EXPECT_EQ(t.echo["text"], json::parse(R"({"format":{"type":"text"}})"));
}

TEST(ResponsesRequest, MessageItemsOfEveryRole) {
  json input = json::parse(R"([
    {"type":"message","role":"developer","content":[{"type":"input_text","text":"Use tools."}]},
    {"role":"user","content":[{"type":"input_text","text":"Look"},
      {"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"low"},
      {"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}]},
    {"type":"message","role":"assistant","id":"msg_1","status":"completed",
     "content":[{"type":"output_text","text":"Seen.","annotations":[]}]},
    {"role":"system","content":"Be kind."}])");
  auto t = translate(base({{"input", input}}));
  EXPECT_EQ(t.body["messages"], json::parse(R"([
    {"role":"developer","content":"Use tools."},
    {"role":"user","content":[{"type":"text","text":"Look"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},
      {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}}]},
    {"role":"assistant","content":"Seen."},
    {"role":"system","content":"Be kind."}])"));
}

// Codex's history: a reasoning item, the assistant's text, two calls, their
// outputs. The calls join the assistant message before them; the reasoning
// (and its encrypted content) stays behind.
TEST(ResponsesRequest, FunctionCallRoundTrip) {
  json input = json::parse(R"([
    {"type":"message","role":"user","content":[{"type":"input_text","text":"List files"}]},
    {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-secret"},
    {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Running ls."}]},
    {"type":"function_call","id":"fc_1","call_id":"call_a","name":"shell","arguments":"{\"command\":[\"ls\"]}"},
    {"type":"function_call","call_id":"call_b","name":"shell","arguments":"{\"command\":[\"pwd\"]}"},
    {"type":"function_call_output","call_id":"call_a","output":"a.txt"},
    {"type":"function_call_output","call_id":"call_b","output":[{"type":"input_text","text":"/tmp"}]}])");
  auto t = translate(base({{"input", input}}));
  EXPECT_EQ(t.body["messages"], json::parse(R"([
    {"role":"user","content":"List files"},
    {"role":"assistant","content":"Running ls.","tool_calls":[
      {"id":"call_a","type":"function","function":{"name":"shell","arguments":"{\"command\":[\"ls\"]}"}},
      {"id":"call_b","type":"function","function":{"name":"shell","arguments":"{\"command\":[\"pwd\"]}"}}]},
    {"role":"tool","tool_call_id":"call_a","content":"a.txt"},
    {"role":"tool","tool_call_id":"call_b","content":"/tmp"}])"));
  EXPECT_EQ(t.body.dump().find("secret"), std::string::npos);
  EXPECT_EQ(t.notes, std::vector<std::string>{"dropped reasoning items"});
}

TEST(ResponsesRequest, FunctionCallWithoutTextStartsAnAssistantMessage) {
  json input = json::parse(R"([{"role":"user","content":"x"},
    {"type":"function_call","call_id":"c1","name":"f","arguments":""},
    {"type":"function_call_output","call_id":"c1","output":"ok"},
    {"type":"function_call","call_id":"c2","name":"f","arguments":"{}"}])");
  auto t = translate(base({{"input", input}}));
  EXPECT_EQ(t.body["messages"][1], json::parse(R"({"role":"assistant","content":null,"tool_calls":[
    {"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]})"));
  EXPECT_EQ(t.body["messages"][3]["tool_calls"][0]["id"], "c2");
}

TEST(ResponsesRequest, FunctionToolsAndChoice) {
  json tools = json::parse(R"([{"type":"function","name":"get_weather","description":"Weather",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true},
    {"type":"function","name":"now"}])");
  auto t = translate(base({{"tools", tools}, {"tool_choice", {{"type", "function"}, {"name", "now"}}},
                           {"parallel_tool_calls", false}}));
  EXPECT_EQ(t.body["tools"], json::parse(R"([
    {"type":"function","function":{"name":"get_weather","description":"Weather",
      "parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}},
    {"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}])"));
  EXPECT_EQ(t.body["tool_choice"], json::parse(R"({"type":"function","function":{"name":"now"}})"));
  EXPECT_EQ(t.body["parallel_tool_calls"], false);
  EXPECT_EQ(t.echo["tools"], tools);
  EXPECT_EQ(t.echo["parallel_tool_calls"], false);
  for (const char* c : {"auto", "none", "required"}) {
    EXPECT_EQ(translate(base({{"tools", tools}, {"tool_choice", c}})).body["tool_choice"], c);
  }
}

TEST(ResponsesRequest, HostedToolsAreRefusedByPath) {
  for (const char* type : {"web_search", "file_search", "computer_use_preview", "custom", "local_shell", "mcp"}) {
    json tools = json::array({{{"type", "function"}, {"name", "f"}}, {{"type", type}, {"name", "x"}}});
    auto e = reject(base({{"tools", tools}}));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_EQ(e.param, "tools[1].type") << type;
    EXPECT_NE(e.message.find(type), std::string::npos);
  }
  EXPECT_EQ(reject(base({{"tool_choice", {{"type", "web_search_preview"}}}})).param, "tool_choice.type");
  EXPECT_EQ(reject(base({{"tool_choice", "required"}})).param, "tool_choice");
}

TEST(ResponsesRequest, GenerationParameters) {
  auto t = translate(base({{"temperature", 0.5}, {"top_p", 0.9}, {"max_output_tokens", 300},
                           {"reasoning", {{"effort", "high"}, {"summary", "auto"}}},
                           {"text", {{"format", {{"type", "json_schema"}, {"name", "out"}, {"strict", true},
                                                 {"schema", {{"type", "object"}}}}}}},
                           {"safety_identifier", "u-1"}, {"metadata", {{"k", "v"}}}, {"store", false},
                           {"include", {"reasoning.encrypted_content"}}, {"truncation", "auto"},
                           {"prompt_cache_key", "abc"}, {"stream", true}}));
  EXPECT_EQ(t.body, json::parse(R"({"model":"gpt-x","messages":[{"role":"user","content":"hi"}],
    "temperature":0.5,"top_p":0.9,"max_completion_tokens":300,"reasoning_effort":"high",
    "response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object"},"strict":true}},
    "user":"u-1","stream":true,"stream_options":{"include_usage":true}})"));
  EXPECT_FALSE(t.store);
  EXPECT_EQ(t.echo["store"], false);
  EXPECT_EQ(t.echo["metadata"], json::parse(R"({"k":"v"})"));
  EXPECT_EQ(t.echo["max_output_tokens"], 300);
  EXPECT_EQ(t.echo["reasoning"], json::parse(R"({"effort":"high","summary":"auto"})"));
  EXPECT_EQ(t.echo["truncation"], "auto");
  EXPECT_EQ(t.notes, std::vector<std::string>{"ignored prompt_cache_key"});
  EXPECT_EQ(translate(base({{"text", {{"format", {{"type", "json_object"}}}}}})).body["response_format"],
            json::parse(R"({"type":"json_object"})"));
}

struct FakeStore : ResponseItemResolver {
  std::optional<json> find_item(std::string_view id) const override {
    if (id == "msg_stored") return json::parse(R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"Earlier."}]})");
    if (id == "ref_loop") return json::parse(R"({"type":"item_reference","id":"ref_loop"})");
    return std::nullopt;
  }
  std::optional<json> conversation_before(std::string_view id) const override {
    if (id != "resp_1") return std::nullopt;
    return json::parse(R"([{"role":"user","content":"first"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"one"}]}])");
  }
};

TEST(ResponsesRequest, ItemReferencesAndPreviousResponse) {
  json input = json::parse(R"([{"type":"item_reference","id":"msg_stored"},{"role":"user","content":"next"}])");
  // No stored responses yet: a clear 400.
  auto e = reject(base({{"input", input}}));
  EXPECT_EQ(e.param, "input[0].id");
  EXPECT_NE(e.message.find("not found"), std::string::npos);
  e = reject(base({{"previous_response_id", "resp_1"}}));
  EXPECT_EQ(e.param, "previous_response_id");
  EXPECT_EQ(e.message, "previous_response_id: previous_response_id is not supported without stored responses");

  FakeStore store;
  auto t = translate(base({{"input", input}}), &store);
  EXPECT_EQ(t.body["messages"][0], json::parse(R"({"role":"assistant","content":"Earlier."})"));
  t = translate(base({{"previous_response_id", "resp_1"}, {"instructions", "Sys"}}), &store);
  EXPECT_EQ(t.body["messages"], json::parse(R"([{"role":"system","content":"Sys"},{"role":"user","content":"first"},
    {"role":"assistant","content":"one"},{"role":"user","content":"hi"}])"));
  EXPECT_EQ(t.echo["previous_response_id"], "resp_1");
  EXPECT_EQ(reject(base({{"previous_response_id", "resp_2"}}), &store).param, "previous_response_id");
  EXPECT_EQ(reject(base({{"input", json::parse(R"([{"type":"item_reference","id":"ref_loop"}])")}}), &store).param,
            "input[0].type");
}

TEST(ResponsesRequest, HostileInputsNameTheirPath) {
  struct Case {
    json body;
    const char* param;
  };
  const std::vector<Case> cases = {
      {json::array(), ""},
      {json::parse(R"({"input":"hi"})"), "model"},
      {json::parse(R"({"model":"m"})"), "input"},
      {base({{"input", 42}}), "input"},
      {base({{"input", json::array()}}), "input"},
      {base({{"input", json::parse(R"([7])")}}), "input[0]"},
      {base({{"input", json::parse(R"([{"type":"web_search_call","id":"ws_1"}])")}}), "input[0].type"},
      {base({{"input", json::parse(R"([{"role":"tool","content":"x"}])")}}), "input[0].role"},
      {base({{"input", json::parse(R"([{"role":"user"}])")}}), "input[0].content"},
      {base({{"input", json::parse(R"([{"role":"user","content":[{"type":"input_audio"}]}])")}}), "input[0].content[0].type"},
      {base({{"input", json::parse(R"([{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}])")}}),
       "input[0].content[0].file_id"},
      {base({{"input", json::parse(R"([{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}])")}}),
       "input[0].content[0].file_id"},
      {base({{"input", json::parse(R"([{"role":"assistant","content":[{"type":"input_image","image_url":"x"}]}])")}}),
       "input[0].content[0].type"},
      {base({{"input", json::parse(R"([{"type":"function_call","name":"f","arguments":"{}"}])")}}), "input[0].call_id"},
      {base({{"input", json::parse(R"([{"type":"function_call","call_id":"c","name":"f","arguments":{}}])")}}),
       "input[0].arguments"},
      {base({{"input", json::parse(R"([{"type":"function_call_output","call_id":"c"}])")}}), "input[0].output"},
      {base({{"tools", json::parse(R"([{"type":"function"}])")}}), "tools[0].name"},
      {base({{"tools", json::parse(R"([{"type":"function","name":"f","parameters":"x"}])")}}), "tools[0].parameters"},
      {base({{"temperature", 3}}), "temperature"},
      {base({{"max_output_tokens", 0}}), "max_output_tokens"},
      {base({{"max_output_tokens", "9"}}), "max_output_tokens"},
      {base({{"reasoning", {{"effort", "max"}}}}), "reasoning.effort"},
      {base({{"text", {{"format", {{"type", "json_schema"}, {"name", "x"}}}}}}), "text.format.schema"},
      {base({{"stream", "yes"}}), "stream"},
      {base({{"background", true}}), "background"},
      {base({{"instructions", 5}}), "instructions"},
  };
  for (const auto& c : cases) {
    auto e = reject(c.body);
    EXPECT_EQ(e.status, 400) << c.body.dump();
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_EQ(e.param, c.param) << c.body.dump() << " -> " << e.message;
    if (*c.param) EXPECT_TRUE(e.message.starts_with(std::string(c.param) + ": ")) << e.message;
  }
}

}  // namespace
}  // namespace tollgate
