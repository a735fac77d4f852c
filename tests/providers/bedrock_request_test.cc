// OpenAI request -> Bedrock Converse / InvokeModel request (wire formats
// §4.1, §4.4; conformance T27, T27b).
#include "providers/bedrock/bedrock_embeddings.h"
#include "providers/bedrock/bedrock_request.h"

#include <gtest/gtest.h>

#include "support/parsed_body.h"

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

json converse(const json& body, std::vector<std::string>* notes_out = nullptr, ConverseOptions options = {}) {
  std::vector<std::string> notes;
  auto r = to_converse_request(body, options, notes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (notes_out) *notes_out = notes;
  return r.ok() ? *r : json();
}

// Named apart from converse_error: a braced list would also convert to a
// view (of an array).
ApiError view_error(JsonView body, ConverseOptions options = {}) {
  std::vector<std::string> notes;
  auto r = to_converse_request(body, options, notes);
  EXPECT_FALSE(r.ok()) << (r.ok() ? r->dump() : "");
  return r.ok() ? ApiError{} : r.error();
}

ApiError converse_error(const json& body, ConverseOptions options = {}) { return view_error(body, options); }

json user(const json& content) { return {{"role", "user"}, {"content", content}}; }

json tool_call(const std::string& id, const std::string& name, const std::string& args) {
  return {{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", args}}}};
}

json weather_tool() {
  return {{"type", "function"},
          {"function", {{"name", "get_weather"}, {"description", "Current weather"},
                        {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}, {"required", {"city"}}}},
                        {"strict", true}}}};
}

TEST(BedrockRequest, T27_SystemStopMaxTokensAndToolChoiceNoneWithoutHistory) {
  auto up = converse({{"model", "bedrock/anthropic.claude-x-v1:0"},
                      {"messages", json::array({{{"role", "system"}, {"content", "S"}}, user("q")})},
                      {"max_tokens", 100},
                      {"stop", json::array({"Z"})},
                      {"tool_choice", "none"},
                      {"tools", json::array({weather_tool()})}});
  EXPECT_EQ(up, json::parse(R"({"system":[{"text":"S"}],"messages":[{"role":"user","content":[{"text":"q"}]}],
                                "inferenceConfig":{"maxTokens":100,"stopSequences":["Z"]}})"));
  EXPECT_FALSE(up.contains("toolConfig"));
  EXPECT_EQ(model_path("anthropic.claude-x-v1:0", "converse"), "/model/anthropic.claude-x-v1%3A0/converse");
  EXPECT_EQ(model_path("arn:aws:bedrock:us-east-1:123:inference-profile/us.x", "converse-stream"),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x/converse-stream");
}

json tool_history() {
  return json::array({user("q"),
                      {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({tool_call("c1", "f", "{}")})}},
                      {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "r"}}});
}

TEST(BedrockRequest, T27b_ToolChoiceNoneWithToolHistoryKeepsToolsWithoutChoice) {
  auto up = converse({{"messages", tool_history()},
                      {"tool_choice", "none"},
                      {"tools", json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}})}});
  EXPECT_EQ(up["toolConfig"], json::parse(R"({"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}]})"));
}

TEST(BedrockRequest, T27b_ToolHistoryWithoutToolsDeclaresTheHistorysTools) {
  std::vector<std::string> notes;
  auto up = converse({{"messages", tool_history()}}, &notes);
  EXPECT_EQ(up["toolConfig"], json::parse(R"({"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}]})"));
  EXPECT_FALSE(notes.empty());
}

TEST(BedrockRequest, ToolCallsAndResultsBecomeToolUseAndToolResultBlocks) {
  auto up = converse({{"messages", json::array({user("q"),
                                                {{"role", "assistant"}, {"content", "Checking."},
                                                 {"tool_calls", json::array({tool_call("c1", "f", R"({"a":1})"), tool_call("c2", "g", "")})}},
                                                {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "r1"}},
                                                {{"role", "tool"}, {"tool_call_id", "c2"}, {"content", json::array({{{"type", "text"}, {"text", "r2"}}})}},
                                                user("and now?")})},
                      {"tools", json::array({weather_tool()})}});
  EXPECT_EQ(up["messages"], json::parse(R"([
    {"role":"user","content":[{"text":"q"}]},
    {"role":"assistant","content":[{"text":"Checking."},
      {"toolUse":{"toolUseId":"c1","name":"f","input":{"a":1}}},
      {"toolUse":{"toolUseId":"c2","name":"g","input":{}}}]},
    {"role":"user","content":[
      {"toolResult":{"toolUseId":"c1","content":[{"text":"r1"}],"status":"success"}},
      {"toolResult":{"toolUseId":"c2","content":[{"text":"r2"}],"status":"success"}},
      {"text":"and now?"}]}])"));
}

TEST(BedrockRequest, ToolsAndToolChoiceVariants) {
  json base = {{"messages", json::array({user("q")})}, {"tools", json::array({weather_tool()})}};
  auto up = converse(base);
  EXPECT_EQ(up["toolConfig"], json::parse(R"({"tools":[{"toolSpec":{"name":"get_weather","description":"Current weather",
      "inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}}]})"))
      << "strict is dropped; no toolChoice means Bedrock's default (auto)";
  base["tool_choice"] = "auto";
  EXPECT_EQ(converse(base)["toolConfig"]["toolChoice"], json::parse(R"({"auto":{}})"));
  base["tool_choice"] = "required";
  EXPECT_EQ(converse(base)["toolConfig"]["toolChoice"], json::parse(R"({"any":{}})"));
  base["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  EXPECT_EQ(converse(base)["toolConfig"]["toolChoice"], json::parse(R"({"tool":{"name":"get_weather"}})"));
}

TEST(BedrockRequest, ConsecutiveSameRoleTurnsAreMergedAndSystemHoisted) {
  auto up = converse({{"messages", json::array({{{"role", "system"}, {"content", "A"}}, user("a"), user("b"),
                                                {{"role", "developer"}, {"content", json::array({{{"type", "text"}, {"text", "B"}}})}},
                                                {{"role", "assistant"}, {"content", "c"}}, {{"role", "assistant"}, {"content", "d"}},
                                                user("")})}});
  EXPECT_EQ(up["system"], json::parse(R"([{"text":"A"},{"text":"B"}])"));
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"text":"a"},{"text":"b"}]},
                                            {"role":"assistant","content":[{"text":"c"},{"text":"d"}]}])"))
      << "empty user text produces no block and no turn";
}

TEST(BedrockRequest, ConversationOpeningWithAssistantGetsAPlaceholderUserTurn) {
  std::vector<std::string> notes;
  auto up = converse({{"messages", json::array({{{"role", "assistant"}, {"content", "Hi, how can I help?"}}, user("q")})}}, &notes);
  ASSERT_EQ(up["messages"].size(), 3u);
  EXPECT_EQ(up["messages"][0]["role"], "user");
  EXPECT_EQ(up["messages"][1]["role"], "assistant");
  ASSERT_EQ(notes.size(), 1u);
}

TEST(BedrockRequest, FinalAssistantPrefillLosesTrailingWhitespace) {
  auto up = converse({{"messages", json::array({user("q"), {{"role", "assistant"}, {"content", "{\"a\": "}}})}});
  EXPECT_EQ(up["messages"][1]["content"][0]["text"], "{\"a\":");
}

TEST(BedrockRequest, ImagesFromDataUrlsAndDocuments) {
  auto up = converse({{"messages", json::array({user(json::array({
      {{"type", "text"}, {"text", "see"}},
      {{"type", "image_url"}, {"image_url", {{"url", "data:image/jpg;base64,/9j/4AAQ"}, {"detail", "high"}}}},
      {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;name=x.png;base64,iVBORw0K"}}}},
      {{"type", "file"}, {"file", {{"filename", "Q3 report (final).pdf"}, {"file_data", "data:application/pdf;base64,JVBERi0"}}}}}))})}});
  EXPECT_EQ(up["messages"][0]["content"], json::parse(R"J([{"text":"see"},
      {"image":{"format":"jpeg","source":{"bytes":"/9j/4AAQ"}}},
      {"image":{"format":"png","source":{"bytes":"iVBORw0K"}}},
      {"document":{"format":"pdf","name":"Q3 report (final)","source":{"bytes":"JVBERi0"}}}])J"));
}

TEST(BedrockRequest, UntranslatableContentIsA400NamingThePart) {
  auto remote = converse_error({{"messages", json::array({user(json::array({{{"type", "image_url"}, {"image_url", {{"url", "https://x.test/a.png"}}}}}))})}});
  EXPECT_EQ(remote.status, 400);
  EXPECT_EQ(remote.param, "messages[0].content[0].image_url");
  EXPECT_EQ(remote.code, "unsupported_image_url");
  auto tiff = converse_error({{"messages", json::array({user(json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/tiff;base64,AAAA"}}}}}))})}});
  EXPECT_EQ(tiff.code, "unsupported_image_type");
  auto audio = converse_error({{"messages", json::array({user("x"), user(json::array({{{"type", "input_audio"}, {"input_audio", {{"data", "AA"}}}}}))})}});
  EXPECT_EQ(audio.param, "messages[1].content[0].type");
}

TEST(BedrockRequest, InvalidToolArgumentsAndNGreaterThanOneAre400s) {
  auto bad = converse_error({{"messages", json::array({user("q"), {{"role", "assistant"}, {"tool_calls", json::array({tool_call("c", "f", "{bad")})}}})}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.param, "messages[1].tool_calls[0].function.arguments");
  auto n = converse_error({{"n", 2}, {"messages", json::array({user("x")})}});
  EXPECT_EQ(n.param, "n");
  EXPECT_EQ(converse({{"n", 1}, {"messages", json::array({user("x")})}})["messages"].size(), 1u);
}

TEST(BedrockRequest, InferenceConfigFromSamplingParameters) {
  std::vector<std::string> notes;
  auto up = converse({{"messages", json::array({user("x")})}, {"max_tokens", 50}, {"max_completion_tokens", 100},
                      {"temperature", 1.5}, {"top_p", 0.9}, {"stop", "END"}}, &notes);
  EXPECT_EQ(up["inferenceConfig"], json::parse(R"({"maxTokens":100,"temperature":1,"topP":0.9,"stopSequences":["END"]})"));
  EXPECT_EQ(notes, std::vector<std::string>{"clamped temperature to 1"});

  auto strict = converse_error({{"messages", json::array({user("x")})}, {"temperature", 1.5}}, {ParamPolicy::reject, {}});
  EXPECT_EQ(strict.param, "temperature");
}

TEST(BedrockRequest, MaxTokensDefaultsToTheModelLimitWhenKnown) {
  auto up = converse({{"messages", json::array({user("x")})}}, nullptr, {ParamPolicy::drop, 64000});
  EXPECT_EQ(up["inferenceConfig"]["maxTokens"], 64000);
  EXPECT_FALSE(converse({{"messages", json::array({user("x")})}}).contains("inferenceConfig"));
}

TEST(BedrockRequest, UnsupportedParametersAreDroppedWithANoteOrRejected) {
  json body = {{"messages", json::array({user("x")})}, {"seed", 7}, {"logit_bias", {{"50256", -100}}}, {"logprobs", false},
               {"presence_penalty", 0}, {"frequency_penalty", 0.5}, {"user", "u-1"}};
  std::vector<std::string> notes;
  auto up = converse(body, &notes);
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped logit_bias", "dropped seed", "dropped frequency_penalty"}));
  EXPECT_FALSE(up.contains("seed"));
  auto rejected = converse_error(body, {ParamPolicy::reject, {}});
  EXPECT_EQ(rejected.param, "logit_bias");
  EXPECT_EQ(rejected.code, "unsupported_parameter");
}

TEST(BedrockRequest, JsonSchemaResponseFormatBecomesAForcedTool) {
  json body = {{"messages", json::array({user("x")})},
               {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "person info"}, {"schema", {{"type", "object"}}}}}}}};
  EXPECT_EQ(structured_output_tool(body), "personinfo");
  auto up = converse(body);
  EXPECT_EQ(up["toolConfig"]["toolChoice"], json::parse(R"({"tool":{"name":"personinfo"}})"));
  EXPECT_EQ(up["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"], json::parse(R"({"type":"object"})"));
  body["tools"] = json::array({weather_tool()});
  EXPECT_EQ(converse_error(body).param, "response_format");
  EXPECT_EQ(structured_output_tool(json{{"response_format", {{"type", "text"}}}}), "");
}

// Found by fuzz_request_bedrock: a json_schema response_format without its
// json_schema object read a missing member (an assertion in debug builds,
// undefined behaviour in release ones). Read from the client's parsed body as
// in production, and from a tree.
TEST(BedrockRequest, JsonSchemaResponseFormatWithoutItsSchemaObjectIsA400) {
  for (const json& rf : {json{{"type", "json_schema"}}, json{{"type", "json_schema"}, {"json_schema", "person"}},
                         json{{"type", "json_schema"}, {"json_schema", nullptr}}}) {
    const json body = {{"messages", json::array({user("x")})}, {"response_format", rf}};
    const RequestBody tape = testing::parsed_body(body);
    for (const ApiError& e : {converse_error(body), view_error(tape.view())}) {
      EXPECT_EQ(e.status, 400) << rf.dump();
      EXPECT_EQ(e.param, "response_format.json_schema") << rf.dump();
      EXPECT_EQ(e.type, "invalid_request_error") << rf.dump();
    }
  }
}

// Members of the wrong JSON type are refused with a 400 naming them, never
// forwarded for Bedrock to refuse and never thrown (which answers 500).
TEST(BedrockRequest, MembersOfUnexpectedTypesAre400sNeverExceptions) {
  const json q = json::array({user("q")});
  auto param_of = [&](json body) {
    if (!body.contains("messages")) body["messages"] = q;
    std::string out;
    const RequestBody tape = testing::parsed_body(body);
    for (const JsonView view : {JsonView(body), tape.view()}) {
      std::vector<std::string> notes;
      Result<json> r = json();
      EXPECT_NO_THROW(r = to_converse_request(view, {}, notes)) << body.dump();
      const std::string got = r.ok() ? std::string("ok") : r.error().param;
      if (!out.empty()) EXPECT_EQ(got, out) << "tree and tape differ for " << body.dump();
      out = got;
    }
    return out;
  };
  EXPECT_EQ(param_of({{"tools", json::parse(R"([{"type":5,"function":{"name":"a"}}])")}}), "tools[0].type");
  EXPECT_EQ(param_of({{"tools", json::parse(R"([{"type":"function","function":{"name":[]}}])")}}),
            "tools[0].function.name");
  EXPECT_EQ(param_of({{"tools", json::array({weather_tool()})}, {"tool_choice", {{"type", 3}}}}), "tool_choice");
  EXPECT_EQ(param_of({{"tools", json::array({weather_tool()})},
                      {"tool_choice", json::parse(R"({"type":"function","function":{"name":5}})")}}),
            "tool_choice");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":5,"content":"q"}])")}}), "messages[0].role");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":"user","content":[{"type":{},"text":"q"}]}])")}}),
            "messages[0].content[0].type");
  EXPECT_EQ(param_of({{"messages", json::parse(R"([{"role":"user","content":"q"},{"role":"assistant","tool_calls":[
                         {"id":1,"type":"function","function":{"name":"f","arguments":"{}"}}]}])")}}),
            "messages[1].tool_calls[0]");
  EXPECT_EQ(param_of({{"response_format", {{"type", {{"a", 1}}}}}}), "ok");  // no type Bedrock knows: ignored
}

TEST(BedrockRequest, JsonObjectResponseFormatIsAnInstruction) {
  std::vector<std::string> notes;
  auto up = converse({{"messages", json::array({user("x")})}, {"response_format", {{"type", "json_object"}}}}, &notes);
  ASSERT_EQ(up["system"].size(), 1u);
  EXPECT_NE(up["system"][0]["text"].get<std::string>().find("JSON"), std::string::npos);
  EXPECT_EQ(notes.size(), 1u);
}

TEST(BedrockRequest, NonFunctionToolsAndMissingToolsForChoiceAre400s) {
  auto custom = converse_error({{"messages", json::array({user("x")})}, {"tools", json::array({{{"type", "custom"}, {"custom", {{"name", "x"}}}}})}});
  EXPECT_EQ(custom.param, "tools[0].type");
  auto choice = converse_error({{"messages", json::array({user("x")})}, {"tool_choice", "required"}});
  EXPECT_EQ(choice.param, "tool_choice");
}

TEST(BedrockEmbeddingsRequest, TitanTakesOneInput) {
  std::vector<std::string> notes;
  auto titan = to_embedding_request(json{{"input", "hello"}, {"dimensions", 512}}, "amazon.titan-embed-text-v2:0", ParamPolicy::drop, notes);
  ASSERT_TRUE(titan.ok());
  EXPECT_EQ(*titan, json::parse(R"({"inputText":"hello","dimensions":512})"));
  auto one = to_embedding_request(json{{"input", json::array({"only"})}}, "amazon.titan-embed-text-v2:0", ParamPolicy::drop, notes);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)["inputText"], "only");
  auto many = to_embedding_request(json{{"input", json::array({"a", "b"})}}, "amazon.titan-embed-text-v2:0", ParamPolicy::drop, notes);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().status, 400);
  EXPECT_EQ(many.error().param, "input");
  EXPECT_NE(many.error().message.find("one input per request"), std::string::npos);
  EXPECT_TRUE(notes.empty());
  auto v1 = to_embedding_request(json{{"input", "x"}, {"dimensions", 256}}, "amazon.titan-embed-text-v1", ParamPolicy::drop, notes);
  ASSERT_TRUE(v1.ok());
  EXPECT_FALSE(v1->contains("dimensions"));
  EXPECT_EQ(notes, std::vector<std::string>{"dropped dimensions"});
}

TEST(BedrockEmbeddingsRequest, CohereTakesABatch) {
  std::vector<std::string> notes;
  auto r = to_embedding_request(json{{"input", json::array({"a", "b"})}}, "us.cohere.embed-english-v3", ParamPolicy::drop, notes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json::parse(R"({"texts":["a","b"],"input_type":"search_document"})"));
  auto q = to_embedding_request(json{{"input", "a"}, {"input_type", "search_query"}}, "cohere.embed-multilingual-v3", ParamPolicy::drop, notes);
  EXPECT_EQ((*q)["input_type"], "search_query");
  auto tokens = to_embedding_request(json{{"input", json::array({json::array({1, 2})})}}, "cohere.embed-english-v3", ParamPolicy::drop, notes);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().param, "input");
  auto other = to_embedding_request(json{{"input", "a"}}, "anthropic.claude-x", ParamPolicy::drop, notes);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().param, "model");
}

}  // namespace
}  // namespace tollgate::bedrock
