// Anthropic-shaped request -> the gateway's OpenAI chat request (wire formats
// §2.12; the §7 Anthropic cases T01-T10 read in the reverse direction).
#include "accounting/token_estimate.h"
#include "api/anthropic_messages_request.h"

#include <gtest/gtest.h>

#include "support/parsed_body.h"
#include "tollgate/usage.h"

namespace tollgate {
namespace {

using nlohmann::json;

json base(json extra = json::object()) {
  json b = {{"model", "claude-x"}, {"max_tokens", 256}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  for (auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

json translate(const json& body, MessagesCall call = MessagesCall::create, std::vector<std::string>* notes = nullptr) {
  auto r = translate_messages_request(body, call);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return json();
  if (notes) *notes = r->notes;
  return r->body;
}

ApiError reject(const json& body, MessagesCall call = MessagesCall::create) {
  auto r = translate_messages_request(body, call);
  EXPECT_FALSE(r.ok()) << (r.ok() ? r->body.dump() : "");
  return r.ok() ? ApiError{} : r.error();
}

TEST(AnthropicMessagesRequest, MinimalRequest) {
  EXPECT_EQ(translate(base()),
            json::parse(R"({"model":"claude-x","max_tokens":256,"messages":[{"role":"user","content":"hi"}]})"));
}

// Reverse of T01: the top-level system (string or blocks) becomes the first system message.
TEST(AnthropicMessagesRequest, SystemBecomesFirstSystemMessage) {
  auto up = translate(base({{"system", "Be brief."}}));
  EXPECT_EQ(up["messages"][0], json::parse(R"({"role":"system","content":"Be brief."})"));
  EXPECT_EQ(up["messages"][1]["role"], "user");

  up = translate(base({{"system", json::parse(R"([{"type":"text","text":"A","cache_control":{"type":"ephemeral"}},
                                                  {"type":"text","text":"B"}])")}}));
  EXPECT_EQ(up["messages"][0], json::parse(R"({"role":"system","content":"A\nB"})"));

  up = translate(base({{"system", ""}}));
  EXPECT_EQ(up["messages"].size(), 1u);
}

// Reverse of T02: stop_sequences -> stop, generation parameters carried over.
TEST(AnthropicMessagesRequest, GenerationParameters) {
  std::vector<std::string> notes;
  auto up = translate(base({{"stop_sequences", {"END", "STOP"}}, {"temperature", 0.5}, {"top_p", 0.9}, {"top_k", 40},
                            {"metadata", {{"user_id", "u_7f3a"}}}}),
                      MessagesCall::create, &notes);
  EXPECT_EQ(up["stop"], json({"END", "STOP"}));
  EXPECT_EQ(up["temperature"], 0.5);
  EXPECT_EQ(up["top_p"], 0.9);
  EXPECT_FALSE(up.contains("top_k"));
  EXPECT_EQ(up["user"], "u_7f3a");
  EXPECT_EQ(up["max_tokens"], 256);
  EXPECT_EQ(notes, std::vector<std::string>{"dropped top_k"});
}

TEST(AnthropicMessagesRequest, StreamAsksForUsage) {
  auto up = translate(base({{"stream", true}}));
  EXPECT_EQ(up["stream"], true);
  EXPECT_EQ(up["stream_options"], json::parse(R"({"include_usage":true})"));
  EXPECT_FALSE(translate(base({{"stream", false}})).contains("stream"));
}

// Reverse of T03/T04: tools and every tool_choice variant.
TEST(AnthropicMessagesRequest, ToolsAndToolChoice) {
  json tools = json::parse(R"([{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
                               {"name":"now","input_schema":{"type":"object","properties":{}},"cache_control":{"type":"ephemeral"}}])");
  auto up = translate(base({{"tools", tools}, {"tool_choice", {{"type", "any"}, {"disable_parallel_tool_use", true}}}}));
  EXPECT_EQ(up["tools"], json::parse(R"([
    {"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
    {"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}])"));
  EXPECT_EQ(up["tool_choice"], "required");
  EXPECT_EQ(up["parallel_tool_calls"], false);

  EXPECT_EQ(translate(base({{"tools", tools}, {"tool_choice", {{"type", "auto"}}}}))["tool_choice"], "auto");
  EXPECT_EQ(translate(base({{"tools", tools}, {"tool_choice", {{"type", "none"}}}}))["tool_choice"], "none");
  EXPECT_EQ(translate(base({{"tools", tools}, {"tool_choice", {{"type", "tool"}, {"name", "now"}}}}))["tool_choice"],
            json::parse(R"({"type":"function","function":{"name":"now"}})"));
  EXPECT_FALSE(translate(base({{"tools", tools}})).contains("parallel_tool_calls"));
}

TEST(AnthropicMessagesRequest, ToolChoiceWithoutTools) {
  auto up = translate(base({{"tool_choice", {{"type", "auto"}}}}));
  EXPECT_FALSE(up.contains("tool_choice"));
  EXPECT_FALSE(up.contains("tools"));
  EXPECT_EQ(reject(base({{"tool_choice", {{"type", "any"}}}})).param, "tool_choice");
}

TEST(AnthropicMessagesRequest, ServerToolsAreRejected) {
  auto e = reject(base({{"tools", json::parse(R"([{"type":"web_search_20250305","name":"web_search"}])")}}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "tools[0].type");
  EXPECT_EQ(e.code, "unsupported_tool");
}

// Reverse of T05/T06: tool_use -> tool_calls with JSON-string arguments;
// tool_result -> tool messages, placed before the rest of the user turn.
TEST(AnthropicMessagesRequest, ToolUseRoundTrip) {
  json messages = json::parse(R"([
    {"role":"user","content":"Weather in Paris and the time?"},
    {"role":"assistant","content":[
      {"type":"thinking","thinking":"...","signature":"sig"},
      {"type":"text","text":"Checking."},
      {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
      {"type":"tool_use","id":"toolu_2","name":"now","input":{}}]},
    {"role":"user","content":[
      {"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
      {"type":"text","text":"and now?"},
      {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"14:05"},{"type":"text","text":"CET"}],"is_error":false}]}])");
  auto up = translate(base({{"messages", messages}}));
  EXPECT_EQ(up["messages"], json::parse(R"([
    {"role":"user","content":"Weather in Paris and the time?"},
    {"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
    {"role":"tool","tool_call_id":"toolu_2","content":"14:05\nCET"},
    {"role":"user","content":"and now?"}])"));
}

TEST(AnthropicMessagesRequest, AssistantWithOnlyToolUseHasNullContent) {
  json messages = json::parse(R"([{"role":"user","content":"q"},
    {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":[1,2]}}]},
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"}]}])");
  auto up = translate(base({{"messages", messages}}));
  ASSERT_EQ(up["messages"].size(), 3u);
  EXPECT_TRUE(up["messages"][1]["content"].is_null());
  EXPECT_EQ(up["messages"][1]["tool_calls"][0]["function"]["arguments"], R"({"a":[1,2]})");
  EXPECT_EQ(up["messages"][2], json::parse(R"({"role":"tool","tool_call_id":"t1","content":""})"));
}

// Reverse of T07: base64 images become data URLs, URL images stay URLs.
TEST(AnthropicMessagesRequest, ImagesAndDocuments) {
  json messages = json::parse(R"([{"role":"user","content":[
    {"type":"text","text":"see"},
    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo"}},
    {"type":"image","source":{"type":"url","url":"https://x.test/a.png"}},
    {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBER"}},
    {"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain doc"}}]}])");
  auto up = translate(base({{"messages", messages}}));
  EXPECT_EQ(up["messages"][0]["content"], json::parse(R"([
    {"type":"text","text":"see"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo"}},
    {"type":"image_url","image_url":{"url":"https://x.test/a.png"}},
    {"type":"file","file":{"filename":"document.pdf","file_data":"data:application/pdf;base64,JVBER"}},
    {"type":"text","text":"plain doc"}])"));
}

TEST(AnthropicMessagesRequest, ImagesInToolResultsFollowInTheUserTurn) {
  json messages = json::parse(R"([{"role":"user","content":[
    {"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"screenshot"},
      {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}]},
    {"type":"text","text":"what do you see?"}]}])");
  auto up = translate(base({{"messages", messages}}));
  EXPECT_EQ(up["messages"], json::parse(R"([
    {"role":"tool","tool_call_id":"t1","content":"screenshot"},
    {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}},
                              {"type":"text","text":"what do you see?"}]}])"));
}

// Reverse of T08: unsupported image types are a 400 naming the field.
TEST(AnthropicMessagesRequest, UnsupportedImageTypeIsRejected) {
  json messages = json::parse(R"([{"role":"user","content":[
    {"type":"image","source":{"type":"base64","media_type":"image/tiff","data":"AAAA"}}]}])");
  auto e = reject(base({{"messages", messages}}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "unsupported_image_type");
  EXPECT_EQ(e.param, "messages[0].content[0].source.media_type");
  EXPECT_TRUE(e.message.starts_with("messages[0].content[0].source.media_type: ")) << e.message;
}

TEST(AnthropicMessagesRequest, ThinkingBecomesReasoningEffort) {
  auto up = translate(base({{"max_tokens", 20000}, {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}}}));
  EXPECT_EQ(up["reasoning_effort"], "low");
  // Reasoning models take only max_completion_tokens.
  EXPECT_EQ(up["max_completion_tokens"], 20000);
  EXPECT_FALSE(up.contains("max_tokens"));
  EXPECT_EQ(translate(base({{"thinking", {{"type", "enabled"}, {"budget_tokens", 4096}}}}))["reasoning_effort"], "medium");
  EXPECT_EQ(translate(base({{"thinking", {{"type", "enabled"}, {"budget_tokens", 16384}}}}))["reasoning_effort"], "high");
  auto off = translate(base({{"thinking", {{"type", "disabled"}}}}));
  EXPECT_FALSE(off.contains("reasoning_effort"));
  EXPECT_EQ(off["max_tokens"], 256);
  EXPECT_EQ(reject(base({{"thinking", {{"type", "enabled"}}}})).param, "thinking.budget_tokens");
}

// Claude Code sends thinking {type: adaptive} with output_config.effort.
TEST(AnthropicMessagesRequest, AdaptiveThinkingTakesTheEffort) {
  auto up = translate(base({{"thinking", {{"type", "adaptive"}, {"display", "omitted"}}}}));
  EXPECT_EQ(up["reasoning_effort"], "medium");
  EXPECT_EQ(up["max_completion_tokens"], 256);
  EXPECT_FALSE(up.contains("max_tokens"));
  for (const char* effort : {"low", "medium", "high"}) {
    std::vector<std::string> notes;
    auto e = translate(base({{"thinking", {{"type", "adaptive"}}}, {"output_config", {{"effort", effort}}}}),
                       MessagesCall::create, &notes);
    EXPECT_EQ(e["reasoning_effort"], effort);
    EXPECT_TRUE(notes.empty());
  }
  // Efforts beyond what OpenAI-shaped upstreams take become their highest, noted.
  for (const char* effort : {"xhigh", "max"}) {
    std::vector<std::string> notes;
    auto e = translate(base({{"thinking", {{"type", "adaptive"}}}, {"output_config", {{"effort", effort}}}}),
                       MessagesCall::create, &notes);
    EXPECT_EQ(e["reasoning_effort"], "high");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0], std::string("output_config.effort ") + effort + " sent as reasoning_effort high");
  }
  // The effort also wins over an enabled thinking budget.
  EXPECT_EQ(translate(base({{"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                            {"output_config", {{"effort", "high"}}}}))["reasoning_effort"],
            "high");
}

TEST(AnthropicMessagesRequest, HostileThinkingAndEffortAre400sNamingTheField) {
  EXPECT_EQ(reject(base({{"output_config", {{"effort", "extreme"}}}})).param, "output_config.effort");
  EXPECT_EQ(reject(base({{"output_config", {{"effort", 3}}}})).param, "output_config.effort");
  EXPECT_EQ(reject(base({{"thinking", {{"type", "sometimes"}}}})).param, "thinking.type");
  EXPECT_EQ(reject(base({{"thinking", {{"type", "adaptive"}, {"display", 1}}}})).param, "thinking.display");
  EXPECT_EQ(reject(base({{"context_management", "clear"}})).param, "context_management");
  EXPECT_EQ(reject(base({{"context_management", {{"edits", "all"}}}})).param, "context_management.edits");
  const auto e = reject(base({{"thinking", "adaptive"}}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.message, "thinking: expected an object");
}

TEST(AnthropicMessagesRequest, ContextManagementIsIgnoredWithANote) {
  std::vector<std::string> notes;
  auto up = translate(base({{"context_management", json::parse(R"({"edits":[{"type":"clear_thinking_20251015","keep":"all"}]})")}}),
                      MessagesCall::create, &notes);
  EXPECT_FALSE(up.contains("context_management"));
  EXPECT_EQ(notes, std::vector<std::string>{"ignored context_management"});
}

// The mid-conversation-system beta: a system turn stays where it is.
TEST(AnthropicMessagesRequest, SystemMessagesBetweenTurnsStayInPlace) {
  auto up = translate(base({{"system", "Top."},
                            {"messages", json::parse(R"([
    {"role":"user","content":"hi"},
    {"role":"system","content":[{"type":"text","text":"Env: linux","cache_control":{"type":"ephemeral"}},{"type":"text","text":"cwd /w"}]},
    {"role":"assistant","content":"hello"},
    {"role":"system","content":"Be brief now."},
    {"role":"user","content":"go"}])")}}));
  EXPECT_EQ(up["messages"], json::parse(R"([
    {"role":"system","content":"Top."},
    {"role":"user","content":"hi"},
    {"role":"system","content":"Env: linux\ncwd /w"},
    {"role":"assistant","content":"hello"},
    {"role":"system","content":"Be brief now."},
    {"role":"user","content":"go"}])"));
  EXPECT_EQ(reject(base({{"messages", json::parse(R"([{"role":"user","content":"hi"},{"role":"system","content":[{"type":"image"}]}])")}})).param,
            "messages[1].content[0].type");
  EXPECT_EQ(reject(base({{"messages", json::parse(R"([{"role":"user","content":"hi"},{"role":"system","content":[{"type":"text","text":7}]}])")}})).param,
            "messages[1].content[0].text");
}

// cache_control may sit on system blocks, tools and content blocks: ignored.
TEST(AnthropicMessagesRequest, CacheControlAnywhereIsIgnored) {
  const json cc = {{"type", "ephemeral"}, {"ttl", "1h"}};
  auto up = translate(base({{"system", json::array({{{"type", "text"}, {"text", "S"}, {"cache_control", cc}}})},
                            {"tools", json::array({{{"name", "f"}, {"input_schema", {{"type", "object"}}}, {"cache_control", cc}, {"defer_loading", true}}})},
                            {"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "q"}, {"cache_control", cc}}})}}})}}));
  EXPECT_EQ(up.dump().find("cache_control"), std::string::npos);
  EXPECT_EQ(up["messages"][0]["content"], "S");
  EXPECT_EQ(up["tools"][0]["function"]["name"], "f");
}

// Thinking blocks with signatures in the history are checked, then dropped
// for OpenAI-shaped upstreams (which cannot take them back).
TEST(AnthropicMessagesRequest, ThinkingBlocksInHistoryAreCheckedThenDropped) {
  auto up = translate(base({{"messages", json::parse(R"([
    {"role":"user","content":"hi"},
    {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig=="},{"type":"redacted_thinking","data":"opaque"},{"type":"text","text":"ok"}]},
    {"role":"user","content":"go"}])")}}));
  EXPECT_EQ(up["messages"][1], json::parse(R"({"role":"assistant","content":"ok"})"));
  auto bad = [](const char* block) {
    return reject(base({{"messages", json::array({{{"role", "assistant"}, {"content", json::array({json::parse(block)})}}})}})).param;
  };
  EXPECT_EQ(bad(R"({"type":"thinking","signature":"s"})"), "messages[0].content[0].thinking");
  EXPECT_EQ(bad(R"({"type":"thinking","thinking":"t","signature":5})"), "messages[0].content[0].signature");
  EXPECT_EQ(bad(R"({"type":"redacted_thinking"})"), "messages[0].content[0].data");
  EXPECT_EQ(bad(R"({"type":"redacted_thinking","data":{}})"), "messages[0].content[0].data");
}

TEST(AnthropicMessagesRequest, ToolReferencesInToolResultsNameTheTool) {
  auto up = translate(base({{"messages", json::parse(R"([
    {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"ToolSearch","input":{"query":"x"}}]},
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"tool_reference","tool_name":"WebFetch"}]}]}])")}}));
  EXPECT_EQ(up["messages"][1], json::parse(R"({"role":"tool","tool_call_id":"t1","content":"Tool loaded: WebFetch"})"));
  EXPECT_EQ(reject(base({{"messages", json::parse(R"([
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"tool_reference"}]}]}])")}})).param,
            "messages[0].content[0].content[0].tool_name");
}

TEST(AnthropicMessagesRequest, StructuredOutput) {
  auto up = translate(base({{"output_config", {{"format", {{"type", "json_schema"}, {"schema", {{"type", "object"}}}}}}}}));
  EXPECT_EQ(up["response_format"],
            json::parse(R"({"type":"json_schema","json_schema":{"name":"output","schema":{"type":"object"}}})"));
}

// Anthropic's API requires max_tokens; so does ours (count_tokens does not).
TEST(AnthropicMessagesRequest, RequiredFields) {
  json body = base();
  body.erase("max_tokens");
  auto e = reject(body);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "max_tokens: Field required");
  EXPECT_TRUE(translate_messages_request(body, MessagesCall::count_tokens).ok());

  body = base();
  body.erase("model");
  EXPECT_EQ(reject(body).message, "model: Field required");
  EXPECT_EQ(reject(base({{"messages", json::array()}})).param, "messages");
  EXPECT_EQ(reject(base({{"messages", json::parse(R"([{"role":"tool","content":"x"}])")}})).param, "messages[0].role");
  EXPECT_EQ(reject(base({{"messages", json::parse(R"([{"role":"user","content":[{"type":"audio"}]}])")}})).param,
            "messages[0].content[0].type");
  EXPECT_EQ(reject(base({{"temperature", 1.5}})).param, "temperature");
  EXPECT_EQ(reject(base({{"max_tokens", 0}})).param, "max_tokens");
  EXPECT_EQ(reject(base({{"stop_sequences", {"a", "b", "c", "d", "e"}}})).param, "stop_sequences");
  EXPECT_EQ(reject(json::array()).status, 400);
}

// A client may send any JSON type where a string or an object belongs. Each
// such body is a 400 whose param names the field, or the field is ignored;
// nothing throws (an exception answers 500). Read from a tree and, as in
// production, from the parsed text: both must agree.
TEST(AnthropicMessagesRequest, MembersOfUnexpectedTypesAre400sNeverExceptions) {
  auto outcome = [](const json& body) {
    const RequestBody tape = testing::parsed_body(body);
    std::string out;
    for (const JsonView view : {JsonView(body), tape.view()}) {
      Result<TranslatedMessagesRequest> r = ApiError{};
      EXPECT_NO_THROW(r = translate_messages_request(view, MessagesCall::create)) << body.dump();
      if (!r.ok()) {
        EXPECT_EQ(r.error().status, 400) << body.dump();
        EXPECT_EQ(r.error().message.rfind(r.error().param + ": ", 0), 0u) << r.error().message;
      }
      const std::string got = r.ok() ? std::string("ok") : r.error().param;
      if (!out.empty()) EXPECT_EQ(got, out) << "tree and tape differ for " << body.dump();
      out = got;
    }
    return out;
  };
  EXPECT_EQ(outcome(base({{"messages", json::parse(R"([{"role":5,"content":"hi"}])")}})), "messages[0].role");
  EXPECT_EQ(outcome(base({{"messages", json::parse(R"([{"role":"user","content":[{"type":{},"text":"x"}]}])")}})),
            "messages[0].content[0].type");
  EXPECT_EQ(outcome(base({{"messages", json::parse(R"([{"role":"user","content":[{"type":"text","text":[]}]}])")}})),
            "messages[0].content[0].text");
  EXPECT_EQ(outcome(base({{"messages", json::parse(R"([{"role":"user","content":[
                             {"type":"document","source":{"type":"base64","media_type":5,"data":"JVBER"}}]}])")}})),
            "messages[0].content[0].source");
  EXPECT_EQ(outcome(base({{"messages", json::parse(R"([{"role":"user","content":"q"},{"role":"assistant","content":[
                             {"type":"tool_use","id":"t","name":[],"input":{}}]}])")}})),
            "messages[1].content[0].name");
  EXPECT_EQ(outcome(base({{"tools", json::parse(R"([{"name":[],"input_schema":{"type":"object"}}])")}})), "tools[0].name");
  EXPECT_EQ(outcome(base({{"tools", json::parse(R"([{"type":5,"name":"f","input_schema":{}}])")}})), "tools[0].type");
  EXPECT_EQ(outcome(base({{"tool_choice", {{"type", 3}}}})), "tool_choice.type");
  EXPECT_EQ(outcome(base({{"tool_choice", {{"type", "tool"}, {"name", {{"n", 1}}}}}})), "tool_choice.name");
  EXPECT_EQ(outcome(base({{"thinking", {{"type", 1}}}})), "thinking.type");
  EXPECT_EQ(outcome(base({{"output_config", {{"format", {{"type", 5}, {"schema", json::object()}}}}}})),
            "output_config.format");
  EXPECT_EQ(outcome(base({{"output_config", {{"effort", json::array()}}}})), "output_config.effort");
  EXPECT_EQ(outcome(base({{"system", json::parse(R"([{"type":"text","text":7}])")}})), "system[0].text");
  // Ignored: an id that is not a string, a flag that is not a boolean.
  EXPECT_EQ(outcome(base({{"metadata", {{"user_id", 5}}}})), "ok");
  EXPECT_EQ(outcome(base({{"tool_choice", {{"type", "auto"}, {"disable_parallel_tool_use", "yes"}}}})), "ok");
}

// max_tokens beyond any count is a 400, whichever way the integer was read
// (a tree holds every non-negative integer as unsigned; the parser only the
// ones above INT64_MAX).
TEST(AnthropicMessagesRequest, MaxTokensBeyondInt64IsA400AndInt64MaxIsNot) {
  for (const char* text : {R"({"model":"m","max_tokens":18446744073709551615,"messages":[{"role":"user","content":"q"}]})",
                           R"({"model":"m","max_tokens":9223372036854775808,"messages":[{"role":"user","content":"q"}]})"}) {
    const RequestBody tape = testing::parsed_body(std::string(text));
    const json tree = json::parse(text);
    for (const JsonView view : {JsonView(tree), tape.view()}) {
      auto r = translate_messages_request(view, MessagesCall::create);
      ASSERT_FALSE(r.ok()) << text;
      EXPECT_EQ(r.error().param, "max_tokens");
    }
  }
  const char* largest = R"({"model":"m","max_tokens":9223372036854775807,"messages":[{"role":"user","content":"q"}]})";
  const RequestBody tape = testing::parsed_body(std::string(largest));
  const json tree = json::parse(largest);
  for (const JsonView view : {JsonView(tree), tape.view()}) {
    auto r = translate_messages_request(view, MessagesCall::create);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body["max_tokens"].dump(), "9223372036854775807");
  }
}

TEST(AnthropicMessagesRequest, CountTokensIgnoresGenerationFields) {
  auto up = translate(base({{"stream", true}}), MessagesCall::count_tokens);
  EXPECT_FALSE(up.contains("stream"));
  EXPECT_FALSE(up.contains("max_tokens"));
}

TEST(AnthropicMessagesRequest, InputTokenEstimateCountsMessagesAndTools) {
  auto plain = translate(base());
  EXPECT_EQ(estimate_request_input_tokens(plain), estimate_chat_prompt_tokens(plain["messages"]));
  auto with_tools = translate(base({{"tools", json::parse(R"([{"name":"get_weather","description":"Current weather for a city",
      "input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}])")}}));
  const auto tool_tokens = estimate_request_input_tokens(with_tools) - estimate_request_input_tokens(plain);
  EXPECT_EQ(tool_tokens, estimate_tokens(with_tools["tools"][0]["function"].dump()) + 8);
  EXPECT_GT(tool_tokens, 8);
}

}  // namespace
}  // namespace tollgate
