// OpenAI -> Anthropic request translation: wire formats §2.9, conformance
// cases T01-T11, and the pitfalls of §2.13 on the request side.
#include "providers/adapter_factory.h"
#include "providers/anthropic/anthropic_adapter.h"
#include "providers/anthropic/anthropic_request.h"

#include <gtest/gtest.h>

#include "support/parsed_body.h"

namespace tollgate::anthropic {
namespace {

using nlohmann::json;

json with_messages(json in) {
  if (!in.contains("model")) in["model"] = "claude";
  if (!in.contains("messages")) in["messages"] = json::parse(R"([{"role":"user","content":"x"}])");
  return in;
}

json build(const json& in, ParamPolicy policy = ParamPolicy::drop, std::string model = "claude",
           std::vector<std::string>* notes_out = nullptr, std::optional<int64_t> max_output = std::nullopt) {
  std::vector<std::string> notes;
  RequestOptions options;
  options.model = std::move(model);
  options.policy = policy;
  options.max_output_tokens = max_output;
  auto r = build_messages_body(with_messages(in), options, notes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (notes_out) *notes_out = notes;
  return r.ok() ? *r : json();
}

ApiError reject(const json& in, ParamPolicy policy = ParamPolicy::drop, std::string model = "claude") {
  std::vector<std::string> notes;
  RequestOptions options;
  options.model = std::move(model);
  options.policy = policy;
  auto r = build_messages_body(with_messages(in), options, notes);
  EXPECT_FALSE(r.ok()) << (r.ok() ? r->dump() : "");
  return r.ok() ? ApiError{} : r.error();
}

TEST(AnthropicRequest, T01_SystemAndDeveloperHoistedInOrderAndMaxTokensDefaulted) {
  auto up = build(json::parse(R"({"model":"claude","messages":[{"role":"system","content":"A"},{"role":"user","content":"hi"},{"role":"developer","content":"B"}]})"));
  EXPECT_EQ(up["system"], json::parse(R"([{"type":"text","text":"A"},{"type":"text","text":"B"}])"));
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"hi"}]}])"));
  EXPECT_EQ(up["max_tokens"], 4096);
  EXPECT_EQ(up["model"], "claude");
  EXPECT_FALSE(up.contains("stream"));
}

TEST(AnthropicRequest, MaxTokensDefaultsToTheModelLimitWhenKnown) {
  auto up = build(json::object(), ParamPolicy::drop, "claude-sonnet-4-5-20250929", nullptr, 64000);
  EXPECT_EQ(up["max_tokens"], 64000);
}

TEST(AnthropicRequest, T02_MaxCompletionTokensWinsAndStopBecomesAnArray) {
  auto up = build(json::parse(R"({"max_tokens":50,"max_completion_tokens":100,"stop":"END","messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(up["max_tokens"], 100);
  EXPECT_EQ(up["stop_sequences"], json::parse(R"(["END"])"));
  EXPECT_EQ(build(json::parse(R"({"max_tokens":50})"))["max_tokens"], 50);
}

TEST(AnthropicRequest, WhitespaceOnlyStopSequencesAreDropped) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"stop":["\n\n","END"," "]})"), ParamPolicy::drop, "claude", &notes);
  EXPECT_EQ(up["stop_sequences"], json::parse(R"(["END"])"));
  EXPECT_FALSE(build(json::parse(R"({"stop":["  "]})")).contains("stop_sequences"));
}

TEST(AnthropicRequest, T03_ToolsRequiredAndParallelOff) {
  auto up = build(json::parse(R"({"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"tool_choice":"required","parallel_tool_calls":false})"));
  EXPECT_EQ(up["tools"], json::parse(R"([{"name":"f","input_schema":{"type":"object","properties":{"a":{"type":"string"}}}}])"));
  EXPECT_EQ(up["tool_choice"], json::parse(R"({"type":"any","disable_parallel_tool_use":true})"));
}

TEST(AnthropicRequest, T04_NamedToolChoiceAndParameterlessTool) {
  auto up = build(json::parse(R"({"tools":[{"type":"function","function":{"name":"now"}}],"tool_choice":{"type":"function","function":{"name":"now"}}})"));
  EXPECT_EQ(up["tools"], json::parse(R"([{"name":"now","input_schema":{"type":"object","properties":{}}}])"));
  EXPECT_EQ(up["tool_choice"], json::parse(R"({"type":"tool","name":"now"})"));
}

TEST(AnthropicRequest, ToolChoiceAutoNoneAndParallelDefault) {
  const json tools = json::parse(R"([{"type":"function","function":{"name":"f","description":"does f","parameters":{"type":"object","$defs":{"x":{}},"required":["a"],"additionalProperties":false}}}])");
  auto up = build({{"tools", tools}, {"tool_choice", "auto"}});
  EXPECT_EQ(up["tool_choice"], json::parse(R"({"type":"auto"})"));
  EXPECT_EQ(up["tools"][0]["description"], "does f");
  // $defs, required and additionalProperties survive.
  EXPECT_EQ(up["tools"][0]["input_schema"], tools[0]["function"]["parameters"]);
  EXPECT_EQ(build({{"tools", tools}, {"tool_choice", "none"}})["tool_choice"], json::parse(R"({"type":"none"})"));
  // parallel_tool_calls:false with no tool_choice -> auto + disable flag.
  EXPECT_EQ(build({{"tools", tools}, {"parallel_tool_calls", false}})["tool_choice"],
            json::parse(R"({"type":"auto","disable_parallel_tool_use":true})"));
  EXPECT_FALSE(build({{"tools", tools}})["tool_choice"].is_object());
  // none takes no disable flag.
  EXPECT_EQ(build({{"tools", tools}, {"tool_choice", "none"}, {"parallel_tool_calls", false}})["tool_choice"],
            json::parse(R"({"type":"none"})"));
}

TEST(AnthropicRequest, ForcingAToolWithoutToolsIsA400) {
  auto e = reject(json::parse(R"({"tool_choice":"required"})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "tool_choice");
  EXPECT_FALSE(build(json::parse(R"({"tool_choice":"auto"})")).contains("tool_choice"));
}

TEST(AnthropicRequest, NonFunctionToolsAreRejected) {
  auto e = reject(json::parse(R"({"tools":[{"type":"custom","custom":{"name":"x"}}]})"));
  EXPECT_EQ(e.param, "tools[0].type");
  EXPECT_EQ(e.type, "invalid_request_error");
}

TEST(AnthropicRequest, T05_ToolCallsBecomeToolUseAndResultsOneUserTurn) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},{"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2","content":"r2"}],
    "tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]})"));
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},{"type":"tool_use","id":"c2","name":"g","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"r1"},{"type":"tool_result","tool_use_id":"c2","content":"r2"}]}])"));
}

TEST(AnthropicRequest, EmptyAssistantTextNextToToolCallsProducesNoEmptyBlock) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"r1"}],"tools":[{"type":"function","function":{"name":"f"}}]})"));
  EXPECT_EQ(up["messages"][1]["content"], json::parse(R"([{"type":"tool_use","id":"c1","name":"f","input":{}}])"));
}

TEST(AnthropicRequest, T06_ToolResultThenUserMessageMergeWithToolResultFirst) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"user","content":"and now?"}],"tools":[{"type":"function","function":{"name":"f"}}]})"));
  ASSERT_EQ(up["messages"].size(), 3u);
  EXPECT_EQ(up["messages"][2], json::parse(R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"r1"},{"type":"text","text":"and now?"}]})"));
}

TEST(AnthropicRequest, ConsecutiveSameRoleTurnsMergeAsBlocks) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"},{"type":"image_url","image_url":{"url":"https://x.test/i.png"}}]},{"role":"assistant","content":"c"},{"role":"assistant","content":[{"type":"text","text":"d"}]},{"role":"user","content":"e"}]})"));
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"image","source":{"type":"url","url":"https://x.test/i.png"}}]},{"role":"assistant","content":[{"type":"text","text":"c"},{"type":"text","text":"d"}]},{"role":"user","content":[{"type":"text","text":"e"}]}])"));
}

TEST(AnthropicRequest, EmptyMessagesAreDroppedAndTheTurnsAroundThemMerged) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"user","content":"b"}]})"));
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}])"));
  auto e = reject(json::parse(R"({"messages":[{"role":"system","content":"only system"},{"role":"user","content":""}]})"));
  EXPECT_EQ(e.param, "messages");
}

TEST(AnthropicRequest, FinalAssistantPrefillLosesTrailingWhitespace) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"The answer is \n"}]})"));
  EXPECT_EQ(up["messages"][1]["content"], json::parse(R"([{"type":"text","text":"The answer is"}])"));
  auto blank = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"  "}]})"));
  EXPECT_EQ(blank["messages"].size(), 1u);
}

TEST(AnthropicRequest, T07_DataUrlJpgAliasAndRemoteUrl) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/4AAQ","detail":"high"}},{"type":"image_url","image_url":{"url":"https://x.test/a.png"}}]}]})"));
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"see"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},{"type":"image","source":{"type":"url","url":"https://x.test/a.png"}}]}])"));
}

TEST(AnthropicRequest, DataUrlsWithExtraParametersAndUpperCaseParse) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/PNG;name=x.png;base64,iVBOR"}}]}]})"));
  EXPECT_EQ(up["messages"][0]["content"][0]["source"], json::parse(R"({"type":"base64","media_type":"image/png","data":"iVBOR"})"));
}

TEST(AnthropicRequest, T08_UnsupportedImageTypeIsA400NamingThePart) {
  auto e = reject(json::parse(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "messages[0].content[0].image_url");
  EXPECT_EQ(e.code, "unsupported_image_type");
  // Not base64, and not a URL at all.
  EXPECT_EQ(reject(json::parse(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]})")).code,
            "invalid_image_url");
  EXPECT_EQ(reject(json::parse(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/a.png"}}]}]})")).code,
            "invalid_image_url");
}

TEST(AnthropicRequest, PdfFilePartsBecomeDocumentsAndAudioIsRejected) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBER"}}]}]})"));
  EXPECT_EQ(up["messages"][0]["content"][0], json::parse(R"({"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBER"}})"));
  auto e = reject(json::parse(R"({"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]})"));
  EXPECT_EQ(e.param, "messages[0].content[0].type");
}

TEST(AnthropicRequest, T09_NGreaterThanOneIsRejected) {
  auto e = reject(json::parse(R"({"n":2,"messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "n");
  EXPECT_TRUE(build(json::parse(R"({"n":1})")).is_object());
}

TEST(AnthropicRequest, T09_InvalidToolArgumentsAreRejectedWithTheirPath) {
  auto e = reject(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{bad"}}]}]})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "messages[1].tool_calls[0].function.arguments");
  // A JSON value that is not an object is just as unusable as input.
  EXPECT_EQ(reject(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})")).param,
            "messages[1].tool_calls[0].function.arguments");
}

TEST(AnthropicRequest, T10_UserBecomesMetadataAndTemperatureIsClamped) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"user":"u_7f3a","temperature":1.5})"), ParamPolicy::drop, "claude", &notes);
  EXPECT_EQ(up["metadata"], json::parse(R"({"user_id":"u_7f3a"})"));
  EXPECT_EQ(up["temperature"], 1);
  EXPECT_NE(std::find(notes.begin(), notes.end(), "temperature clamped to 1"), notes.end());
  EXPECT_FALSE(build(json::parse(R"({"user":"bob@example.com"})")).contains("metadata"));
  EXPECT_FALSE(build(json::parse(R"({"user":"+1 (555) 123-4567"})")).contains("metadata"));
  EXPECT_EQ(build(json::parse(R"({"temperature":0.3})"))["temperature"], 0.3);
}

TEST(AnthropicRequest, T10_StrictPolicyRejectsTemperatureAboveOne) {
  auto e = reject(json::parse(R"({"temperature":1.5})"), ParamPolicy::reject);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "temperature");
}

TEST(AnthropicRequest, TopPIsDroppedWhenSentWithTemperature) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"temperature":0.5,"top_p":0.9})"), ParamPolicy::drop, "claude", &notes);
  EXPECT_EQ(up["temperature"], 0.5);
  EXPECT_FALSE(up.contains("top_p"));
  EXPECT_NE(std::find(notes.begin(), notes.end(), "dropped top_p"), notes.end());
  EXPECT_EQ(build(json::parse(R"({"top_p":0.9})"))["top_p"], 0.9);
  EXPECT_EQ(reject(json::parse(R"({"temperature":0.5,"top_p":0.9})"), ParamPolicy::reject).param, "top_p");
}

TEST(AnthropicRequest, ParametersWithoutAnEquivalentAreDroppedOrRejected) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"seed":7,"logit_bias":{"1":2},"presence_penalty":0.5,"logprobs":false,"store":false})"),
                  ParamPolicy::drop, "claude", &notes);
  for (const char* k : {"seed", "logit_bias", "presence_penalty", "logprobs", "store"}) EXPECT_FALSE(up.contains(k)) << k;
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped logit_bias", "dropped presence_penalty", "dropped seed"}));
  auto e = reject(json::parse(R"({"seed":7})"), ParamPolicy::reject);
  EXPECT_EQ(e.param, "seed");
  EXPECT_EQ(e.code, "unsupported_parameter");
}

TEST(AnthropicRequest, T11_JsonSchemaUsesNativeStructuredOutputsWhenTheModelHasThem) {
  auto up = build(json::parse(R"({"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}}})"),
                  ParamPolicy::drop, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(up["output_config"], json::parse(R"({"format":{"type":"json_schema","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}})"));
  EXPECT_FALSE(up.contains("tools"));
}

TEST(AnthropicRequest, JsonSchemaIsEmulatedWithAForcedToolOnOlderModels) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}}})"),
                  ParamPolicy::drop, "claude-3-5-haiku-20241022", &notes);
  EXPECT_FALSE(up.contains("output_config"));
  ASSERT_EQ(up["tools"].size(), 1u);
  EXPECT_EQ(up["tools"][0]["name"], "json_response");
  EXPECT_EQ(up["tools"][0]["input_schema"], json::parse(R"({"type":"object","properties":{"n":{"type":"integer"}}})"));
  EXPECT_EQ(up["tool_choice"], json::parse(R"({"type":"tool","name":"json_response","disable_parallel_tool_use":true})"));
  EXPECT_FALSE(notes.empty());
  // Forcing the synthetic tool is impossible with extended thinking.
  auto e = reject(json::parse(R"({"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object"}}}})"),
                  ParamPolicy::drop, "claude-3-7-sonnet-20250219");
  EXPECT_EQ(e.param, "response_format");
}

TEST(AnthropicRequest, JsonObjectAddsASystemInstruction) {
  auto up = build(json::parse(R"({"response_format":{"type":"json_object"},"messages":[{"role":"system","content":"S"},{"role":"user","content":"x"}]})"));
  ASSERT_EQ(up["system"].size(), 2u);
  EXPECT_EQ(up["system"][0]["text"], "S");
  EXPECT_NE(up["system"][1]["text"].get<std::string>().find("JSON"), std::string::npos);
  EXPECT_FALSE(build(json::parse(R"({"response_format":{"type":"text"}})")).contains("system"));
}

TEST(AnthropicRequest, StructuredOutputSupportByModel) {
  EXPECT_TRUE(supports_structured_outputs("claude-sonnet-4-5-20250929"));
  EXPECT_TRUE(supports_structured_outputs("claude-opus-4-5"));
  EXPECT_TRUE(supports_structured_outputs("claude-haiku-4-5-20251001"));
  EXPECT_TRUE(supports_structured_outputs("claude-opus-4-1-20250805"));
  EXPECT_TRUE(supports_structured_outputs("claude-sonnet-5"));
  EXPECT_FALSE(supports_structured_outputs("claude-sonnet-4-20250514"));
  EXPECT_FALSE(supports_structured_outputs("claude-opus-4-20250514"));
  EXPECT_FALSE(supports_structured_outputs("claude-3-7-sonnet-20250219"));
  EXPECT_FALSE(supports_structured_outputs("claude"));
  EXPECT_FALSE(supports_structured_outputs("gpt-4o"));
}

TEST(AnthropicRequest, ReasoningEffortBecomesAThinkingBudgetBelowMaxTokens) {
  auto up = build(json::parse(R"({"reasoning_effort":"medium","max_completion_tokens":10000})"));
  EXPECT_EQ(up["thinking"], json::parse(R"({"type":"enabled","budget_tokens":4096})"));
  EXPECT_EQ(up["max_tokens"], 10000);
  // The client's limit includes reasoning: the budget shrinks to fit.
  auto tight = build(json::parse(R"({"reasoning_effort":"high","max_tokens":5000})"));
  EXPECT_EQ(tight["thinking"]["budget_tokens"], 4999);
  // Unknown model, no limit: room for the answer after the budget.
  auto open = build(json::parse(R"({"reasoning_effort":"high"})"));
  EXPECT_EQ(open["thinking"]["budget_tokens"], 16384);
  EXPECT_EQ(open["max_tokens"], 16384 + 4096);
  EXPECT_FALSE(build(json::parse(R"({"reasoning_effort":"none"})")).contains("thinking"));
  EXPECT_EQ(reject(json::parse(R"({"reasoning_effort":"extreme"})")).param, "reasoning_effort");
}

TEST(AnthropicRequest, ThinkingDropsNonDefaultSamplingAndForbidsForcedTools) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"reasoning_effort":"low","temperature":0.2,"top_k":5})"), ParamPolicy::drop, "claude", &notes);
  EXPECT_TRUE(up.contains("thinking"));
  EXPECT_FALSE(up.contains("temperature"));
  EXPECT_FALSE(up.contains("top_k"));
  auto e = reject(json::parse(R"({"reasoning_effort":"low","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"})"));
  EXPECT_EQ(e.param, "tool_choice");
  // Too small a limit for the minimum budget: thinking is dropped, and noted.
  notes.clear();
  auto small = build(json::parse(R"({"reasoning_effort":"low","max_tokens":500})"), ParamPolicy::drop, "claude", &notes);
  EXPECT_FALSE(small.contains("thinking"));
  EXPECT_FALSE(notes.empty());
}

TEST(AnthropicRequest, ThinkingBlocksAreReplayedBeforeToolUse) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"reasoning_content":"hmm","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"SIG"},{"type":"redacted_thinking","data":"XYZ"}],"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"t1","content":"ok"}],"tools":[{"type":"function","function":{"name":"f"}}],"reasoning_effort":"low"})"));
  EXPECT_EQ(up["messages"][1]["content"], json::parse(R"([{"type":"thinking","thinking":"hmm","signature":"SIG"},{"type":"redacted_thinking","data":"XYZ"},{"type":"tool_use","id":"t1","name":"f","input":{}}])"));
  EXPECT_FALSE(up["messages"][1].contains("reasoning_content"));
}

TEST(AnthropicRequest, ToolHistoryWithoutToolsDeclaresTheToolsUsed) {
  std::vector<std::string> notes;
  auto up = build(json::parse(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"wx","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"18C"}]})"),
                  ParamPolicy::drop, "claude", &notes);
  ASSERT_EQ(up["tools"].size(), 1u);
  EXPECT_EQ(up["tools"][0]["name"], "wx");
  EXPECT_EQ(up["tool_choice"], json::parse(R"({"type":"none"})"));
}

TEST(AnthropicRequest, ToolResultsKeepStructuredContentAndNamesAreDropped) {
  auto up = build(json::parse(R"({"messages":[{"role":"user","name":"bob","content":"q"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"line 1"},{"type":"text","text":""}]}],"tools":[{"type":"function","function":{"name":"f"}}]})"));
  EXPECT_EQ(up["messages"][0], json::parse(R"({"role":"user","content":[{"type":"text","text":"q"}]})"));
  EXPECT_EQ(up["messages"][2]["content"][0], json::parse(R"({"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"line 1"}]})"));
}

TEST(AnthropicRequest, LegacyFunctionsBecomeTools) {
  auto up = build(json::parse(R"({"functions":[{"name":"f","parameters":{"type":"object","properties":{}}}],"function_call":{"name":"f"}})"));
  EXPECT_EQ(up["tools"][0]["name"], "f");
  EXPECT_EQ(up["tool_choice"], json::parse(R"({"type":"tool","name":"f"})"));
}

// A client may send any JSON type where a string or an object belongs. Each
// such body is a 400 naming the field, or the field is ignored; nothing
// throws (an exception answers 500). Read from a tree and, as in production,
// from the parsed text: both must agree.
TEST(AnthropicRequest, MembersOfUnexpectedTypesAre400sNeverExceptions) {
  auto param_of = [](const json& in, const std::string& model = "claude") {
    const json body = with_messages(in);
    const RequestBody tape = testing::parsed_body(body);
    std::string out;
    for (const JsonView view : {JsonView(body), tape.view()}) {
      std::vector<std::string> notes;
      RequestOptions options;
      options.model = model;
      Result<json> r = json();
      EXPECT_NO_THROW(r = build_messages_body(view, options, notes)) << body.dump();
      if (!r.ok()) EXPECT_EQ(r.error().status, 400) << body.dump();
      EXPECT_NO_THROW(expects_json_tool(view));
      const std::string got = r.ok() ? std::string("ok") : r.error().param;
      if (!out.empty()) EXPECT_EQ(got, out) << "tree and tape differ for " << body.dump();
      out = got;
    }
    return out;
  };
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":5,"content":"q"}])")}}), "messages[0].role");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":"user","content":[{"type":{},"text":"q"}]}])")}}),
            "messages[0].content[0].type");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]}])")}}),
            "messages[0].content[0].image_url");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":"user","content":"q"},{"role":"assistant","tool_calls":[
                         {"id":"c","type":"function","function":{"name":[],"arguments":"{}"}}]}])")}}),
            "messages[1].tool_calls[0]");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":"user","content":"q"},{"role":"tool","tool_call_id":7,"content":"r"}])")}}),
            "messages[1].tool_call_id");
  EXPECT_EQ(param_of({{"tools", json::parse(R"([{"type":5,"function":{"name":"f"}}])")}}), "tools[0].type");
  EXPECT_EQ(param_of({{"tools", json::parse(R"([{"type":"function","function":{"name":[]}}])")}}), "tools[0].function.name");
  EXPECT_EQ(param_of({{"tools", json::parse(R"([{"type":"function","function":{"name":"f"}}])")}, {"tool_choice", {{"type", 3}}}}),
            "tool_choice");
  EXPECT_EQ(param_of({{"tools", json::parse(R"([{"type":"function","function":{"name":"f"}}])")},
                      {"tool_choice", json::parse(R"({"type":"function","function":{"name":5}})")}}),
            "tool_choice");
  EXPECT_EQ(param_of({{"functions", json::parse(R"([{"name":"f"}])")}, {"function_call", {{"name", 5}}}}), "tool_choice");
  EXPECT_EQ(param_of({{"response_format", {{"type", "json_schema"}}}}), "response_format.json_schema.schema");
  EXPECT_EQ(param_of({{"response_format", {{"type", "json_schema"}}}}, "claude-sonnet-4-5"),
            "response_format.json_schema.schema");
  EXPECT_EQ(param_of({{"response_format", {{"type", {{"a", 1}}}}}}), "response_format.type");
  EXPECT_EQ(param_of({{"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", 5}}}}}}}}),
            "response_format.json_schema.schema");
  EXPECT_EQ(param_of({{"reasoning_effort", 5}}), "reasoning_effort");
  EXPECT_EQ(param_of({{"n", "2"}}), "n");
  // Ignored: values of the wrong type for fields that only ever refine a request.
  EXPECT_EQ(param_of({{"user", 5}, {"temperature", "hot"}, {"top_k", "5"}, {"stream", "yes"}, {"parallel_tool_calls", 0}}), "ok");
}

TEST(AnthropicRequest, CompletionsWrapThePromptInAUserMessage) {
  auto chat = completion_to_chat(json::parse(R"({"model":"claude","prompt":"Say hi","max_tokens":20,"stream":true})"));
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ((*chat)["messages"].to_json(), json::parse(R"([{"role":"user","content":"Say hi"}])"));
  EXPECT_FALSE(chat->contains("prompt"));
  for (const char* bad : {R"({"prompt":[1,2,3]})", R"({"prompt":["a","b"]})", R"({"prompt":"x","echo":true})",
                          R"({"prompt":"x","suffix":"y"})", R"({"prompt":"x","best_of":2})", R"({"prompt":"x","logprobs":1})"}) {
    auto r = completion_to_chat(json::parse(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().status, 400);
  }
}

}  // namespace
}  // namespace tollgate::anthropic

namespace tollgate {
namespace {

using nlohmann::json;

ProviderConfig anthropic_config() {
  ProviderConfig c;
  c.name = "claude-up";
  c.type = ProviderType::anthropic;
  c.base_url = "https://api.anthropic.com";
  c.api_key = "sk-ant-secret";
  c.api_version = "2023-06-01";
  c.headers = {{"anthropic-beta", "some-feature"}};
  return c;
}

RequestContext chat_ctx(json body, Endpoint e = Endpoint::chat_completions) {
  RequestContext ctx;
  ctx.endpoint = e;
  ctx.requested_model = body.value("model", "");
  ctx.stream = body.value("stream", false);
  ctx.body = std::move(body);
  return ctx;
}

std::string header(const NativeRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.request.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST(AnthropicAdapter, BuildsAMessagesRequestWithItsHeaders) {
  const auto config = anthropic_config();
  AnthropicAdapter adapter(config);
  EXPECT_EQ(adapter.kind(), "anthropic");
  std::vector<std::string> notes;
  auto r = adapter.build_request(chat_ctx(json::parse(R"({"model":"c","stream":true,"messages":[{"role":"user","content":"hi"}]})")),
                                 {"claude-up", "claude-sonnet-4-5-20250929", 1}, notes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->url.host, "api.anthropic.com");
  EXPECT_EQ(r->request.target, "/v1/messages");
  EXPECT_EQ(header(*r, "x-api-key"), "sk-ant-secret");
  EXPECT_EQ(header(*r, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*r, "content-type"), "application/json");
  EXPECT_EQ(header(*r, "anthropic-beta"), "some-feature");
  EXPECT_EQ(header(*r, "authorization"), "");
  auto body = json::parse(r->request.body);
  EXPECT_EQ(body["model"], "claude-sonnet-4-5-20250929");
  EXPECT_EQ(body["stream"], true);
  // The bundled price table knows this model's output limit.
  EXPECT_EQ(body["max_tokens"], 64000);
  EXPECT_FALSE(body.contains("stream_options"));
}

TEST(AnthropicAdapter, BaseUrlEndingInV1IsNotDoubled) {
  auto config = anthropic_config();
  config.base_url = "http://127.0.0.1:9/proxy/v1";
  AnthropicAdapter adapter(config);
  std::vector<std::string> notes;
  auto r = adapter.build_request(chat_ctx(json::parse(R"({"model":"c","messages":[{"role":"user","content":"hi"}]})")),
                                 {"claude-up", "claude", 1}, notes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request.target, "/proxy/v1/messages");
}

TEST(AnthropicAdapter, EmbeddingsAreA400NamingTheEndpoint) {
  const auto config = anthropic_config();
  AnthropicAdapter adapter(config);
  std::vector<std::string> notes;
  auto r = adapter.build_request(chat_ctx(json::parse(R"({"model":"c","input":"hi"})"), Endpoint::embeddings),
                                 {"claude-up", "claude", 1}, notes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_NE(r.error().message.find("/v1/embeddings"), std::string::npos);
  EXPECT_EQ(r.error().code, "unsupported_endpoint");
}

TEST(AnthropicAdapter, CompletionsAreEmulated) {
  const auto config = anthropic_config();
  AnthropicAdapter adapter(config);
  std::vector<std::string> notes;
  auto r = adapter.build_request(chat_ctx(json::parse(R"({"model":"c","prompt":"Say hi","max_tokens":16})"), Endpoint::completions),
                                 {"claude-up", "claude", 1}, notes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto body = json::parse(r->request.body);
  EXPECT_EQ(body["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"Say hi"}]}])"));
  EXPECT_EQ(body["max_tokens"], 16);
}

TEST(AnthropicAdapter, FactoryBuildsIt) {
  const auto config = anthropic_config();
  auto adapter = make_anthropic_adapter(config);
  ASSERT_NE(adapter, nullptr);
  EXPECT_EQ(adapter->kind(), "anthropic");
}

}  // namespace
}  // namespace tollgate
