// OpenAI request -> Gemini request (wire formats §3.2, §3.6; conformance
// cases T20, T21, T22 follow-up, T26).
#include "providers/gemini/gemini_request.h"

#include <gtest/gtest.h>

#include "providers/gemini/gemini_contents.h"
#include "providers/gemini/gemini_schema.h"
#include "providers/gemini/thought_signatures.h"
#include "support/parsed_body.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

json translate(const json& body, std::vector<std::string>* notes_out = nullptr, const std::string& model = "gemini-2.5-flash",
               const ThoughtSignatureStore* signatures = nullptr, ParamPolicy policy = ParamPolicy::drop) {
  std::vector<std::string> notes;
  RequestOptions options{model, policy, signatures};
  auto r = generate_request(Endpoint::chat_completions, body, options, notes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (notes_out) *notes_out = notes;
  return r.ok() ? r.value() : json();
}

ApiError translate_error(const json& body, ParamPolicy policy = ParamPolicy::drop) {
  std::vector<std::string> notes;
  RequestOptions options{"gemini-2.5-flash", policy, nullptr};
  auto r = generate_request(Endpoint::chat_completions, body, options, notes);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ApiError{} : r.error();
}

json user(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

TEST(GeminiRequest, T20_SystemHoistedTurnsMergedGenerationConfig) {
  json in = {{"messages", json::array({{{"role", "system"}, {"content", "S"}}, user("a"), user("b"),
                                       {{"role", "assistant"}, {"content", "c"}}})},
             {"temperature", 0.3}, {"top_p", 0.8}, {"max_tokens", 64}, {"stop", json::array({"X"})}, {"n", 2}, {"seed", 7}};
  json expected = json::parse(R"({"systemInstruction":{"parts":[{"text":"S"}]},
    "contents":[{"role":"user","parts":[{"text":"a"},{"text":"b"}]},{"role":"model","parts":[{"text":"c"}]}],
    "generationConfig":{"temperature":0.3,"topP":0.8,"maxOutputTokens":64,"stopSequences":["X"],"candidateCount":2,"seed":7}})");
  EXPECT_EQ(translate(in), expected);
}

TEST(GeminiRequest, SystemAndDeveloperConcatenatedInOrder) {
  json in = {{"messages", json::array({{{"role", "system"}, {"content", "A"}}, user("hi"),
                                       {{"role", "developer"}, {"content", json::array({{{"type", "text"}, {"text", "B"}}})}}})}};
  auto up = translate(in);
  EXPECT_EQ(up["systemInstruction"], json::parse(R"({"parts":[{"text":"A"},{"text":"B"}]})"));
  EXPECT_EQ(up["contents"], json::parse(R"([{"role":"user","parts":[{"text":"hi"}]}])"));
}

TEST(GeminiRequest, MaxCompletionTokensWinsAndStopStringBecomesArray) {
  auto up = translate({{"messages", json::array({user("x")})}, {"max_tokens", 50}, {"max_completion_tokens", 100},
                       {"stop", "END"}, {"n", 1}, {"presence_penalty", 0.5}, {"frequency_penalty", 0.25}});
  EXPECT_EQ(up["generationConfig"], json::parse(R"({"maxOutputTokens":100,"stopSequences":["END"],
                                                    "presencePenalty":0.5,"frequencyPenalty":0.25})"));
}

TEST(GeminiRequest, T21_ToolResultsNamedFromTheirCallsAndGroupedInOneContent) {
  json in = json::parse(R"({"messages":[
    {"role":"user","content":"weather and time?"},
    {"role":"assistant","tool_calls":[
      {"id":"c1","type":"function","function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"c2","type":"function","function":{"name":"tm","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"18C"},
    {"role":"tool","tool_call_id":"c2","content":"14:05"}]})");
  json expected = json::parse(R"([
    {"role":"user","parts":[{"text":"weather and time?"}]},
    {"role":"model","parts":[{"functionCall":{"name":"wx","args":{"city":"Paris"}}},{"functionCall":{"name":"tm","args":{}}}]},
    {"role":"user","parts":[{"functionResponse":{"name":"wx","response":{"output":"18C"}}},
                            {"functionResponse":{"name":"tm","response":{"output":"14:05"}}}]}])");
  EXPECT_EQ(translate(in)["contents"], expected);
}

TEST(GeminiRequest, ToolResultsOutOfOrderAreSentInCallOrderAndMergedWithFollowingUserText) {
  json in = json::parse(R"({"messages":[
    {"role":"user","content":"q"},
    {"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"c1","type":"function","function":{"name":"wx","arguments":""}},
      {"id":"c2","type":"function","function":{"name":"tm","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c2","content":"{\"time\":\"14:05\"}"},
    {"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"18C"}]},
    {"role":"user","content":"and now?"}]})");
  auto contents = translate(in)["contents"];
  ASSERT_EQ(contents.size(), 3u);
  EXPECT_EQ(contents[1], json::parse(R"({"role":"model","parts":[{"text":"Checking."},
      {"functionCall":{"name":"wx","args":{}}},{"functionCall":{"name":"tm","args":{}}}]})"));
  // A JSON-object tool result is passed parsed; text is wrapped as output.
  EXPECT_EQ(contents[2], json::parse(R"({"role":"user","parts":[
      {"functionResponse":{"name":"wx","response":{"output":"18C"}}},
      {"functionResponse":{"name":"tm","response":{"time":"14:05"}}},
      {"text":"and now?"}]})"));
}

TEST(GeminiRequest, UnknownToolCallIdIsA400NamingTheMessage) {
  auto e = translate_error(json::parse(R"({"messages":[{"role":"user","content":"q"},
      {"role":"tool","tool_call_id":"nope","content":"x"}]})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[1].tool_call_id");
}

TEST(GeminiRequest, InvalidToolArgumentsAreA400) {
  auto e = translate_error(json::parse(R"({"messages":[{"role":"user","content":"q"},
      {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{bad"}}]}]})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[1].tool_calls[0].function.arguments");
}

TEST(GeminiRequest, T22_FollowUpReplaysTheStoredThoughtSignatureForTheSameModelOnly) {
  ThoughtSignatureStore store;
  store.put("call_abc", "gemini-3-pro-preview", "SIG");
  json in = json::parse(R"({"messages":[{"role":"user","content":"q"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}}]},
      {"role":"tool","tool_call_id":"call_abc","content":"18C"}]})");
  auto same = translate(in, nullptr, "gemini-3-pro-preview", &store);
  EXPECT_EQ(same["contents"][1]["parts"][0],
            json::parse(R"({"functionCall":{"name":"wx","args":{"city":"Paris"}},"thoughtSignature":"SIG"})"));
  auto other = translate(in, nullptr, "gemini-2.5-flash", &store);
  EXPECT_FALSE(other["contents"][1]["parts"][0].contains("thoughtSignature"));
}

TEST(GeminiRequest, ImagesBecomeInlineDataOrFileData) {
  json in = json::parse(R"({"messages":[{"role":"user","content":[
      {"type":"text","text":"see"},
      {"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/4AAQ","detail":"high"}},
      {"type":"image_url","image_url":{"url":"gs://bucket/a.png"}}]}]})");
  EXPECT_EQ(translate(in)["contents"][0]["parts"], json::parse(R"([{"text":"see"},
      {"inlineData":{"mimeType":"image/jpeg","data":"/9j/4AAQ"}},
      {"fileData":{"mimeType":"image/png","fileUri":"gs://bucket/a.png"}}])"));
}

TEST(GeminiRequest, ImageUrlWithoutAKnownTypeIsA400) {
  auto e = translate_error(json::parse(R"({"messages":[{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"https://cdn.test/image?id=7"}}]}]})"));
  EXPECT_EQ(e.param, "messages[0].content[0].image_url");
}

TEST(GeminiRequest, EmptyTextIsSkippedAndAnEmptyAssistantTurnDisappears) {
  json in = json::parse(R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},
                                         {"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"b"}]}]})");
  EXPECT_EQ(translate(in)["contents"], json::parse(R"([{"role":"user","parts":[{"text":"a"},{"text":"b"}]}])"));
}

TEST(GeminiRequest, SystemOnlyConversationIsAskedAsTheUser) {
  auto up = translate({{"messages", json::array({{{"role", "system"}, {"content", "Say hi"}}})}});
  EXPECT_FALSE(up.contains("systemInstruction"));
  EXPECT_EQ(up["contents"], json::parse(R"([{"role":"user","parts":[{"text":"Say hi"}]}])"));
}

TEST(GeminiRequest, ToolsBecomeCleanedFunctionDeclarations) {
  json in = json::parse(R"({"messages":[{"role":"user","content":"q"}],
    "tools":[{"type":"function","function":{"name":"wx","description":"Weather","strict":true,
               "parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
                             "properties":{"city":{"type":"string","format":"uri"},"unit":{"type":["string","null"],"enum":["c","f"]}},
                             "required":["city","missing"]}}},
             {"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}],
    "tool_choice":"required"})");
  auto up = translate(in);
  EXPECT_EQ(up["tools"], json::parse(R"([{"functionDeclarations":[
      {"name":"wx","description":"Weather","parameters":{"type":"object",
        "properties":{"city":{"type":"string"},"unit":{"type":"string","nullable":true,"enum":["c","f"]}},"required":["city"]}},
      {"name":"now"}]}])"));
  EXPECT_EQ(up["toolConfig"], json::parse(R"({"functionCallingConfig":{"mode":"ANY"}})"));
}

TEST(GeminiRequest, ToolChoiceVariants) {
  json base = json::parse(R"({"messages":[{"role":"user","content":"q"}],
    "tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]})");
  auto with = [&](const json& choice) {
    json in = base;
    in["tool_choice"] = choice;
    return translate(in);
  };
  EXPECT_EQ(with("auto")["toolConfig"]["functionCallingConfig"], json::parse(R"({"mode":"AUTO"})"));
  EXPECT_EQ(with("none")["toolConfig"]["functionCallingConfig"], json::parse(R"({"mode":"NONE"})"));
  EXPECT_EQ(with(json::parse(R"({"type":"function","function":{"name":"b"}})"))["toolConfig"]["functionCallingConfig"],
            json::parse(R"({"mode":"ANY","allowedFunctionNames":["b"]})"));
  auto allowed = with(json::parse(R"({"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"a"}}]}})"));
  EXPECT_EQ(allowed["tools"], json::parse(R"([{"functionDeclarations":[{"name":"a"}]}])"));
  EXPECT_EQ(allowed["toolConfig"]["functionCallingConfig"], json::parse(R"({"mode":"AUTO"})"));
}

// The value() class fuzz_request_cohere found (nlohmann's value() throws
// when a member has another type than its default), in the Gemini
// translation: fields of unexpected types are read as absent or refused with
// a 400 naming them, never thrown (which answered 500). Each body is read
// from a tree and, as in production, from its parsed text; both must agree.
TEST(GeminiRequest, MembersOfUnexpectedTypesAre400sOrAbsentNeverExceptions) {
  const json q = json::array({user("q")});
  auto error_of = [&](json body) {
    if (!body.contains("messages")) body["messages"] = q;
    const RequestBody tape = testing::parsed_body(body);
    std::string out;
    for (const JsonView view : {JsonView(body), tape.view()}) {
      std::vector<std::string> notes;
      RequestOptions options{"gemini-2.5-flash", ParamPolicy::drop, nullptr};
      Result<json> r = json();
      EXPECT_NO_THROW(r = generate_request(Endpoint::chat_completions, view, options, notes)) << body.dump();
      if (!r.ok()) EXPECT_EQ(r.error().status, 400) << body.dump();
      const std::string got = r.ok() ? std::string("ok") : r.error().param;
      if (!out.empty()) EXPECT_EQ(got, out) << "tree and tape differ for " << body.dump();
      out = got;
    }
    return out;
  };
  EXPECT_EQ(error_of({{"response_format", {{"type", 5}}}}), "response_format.type");
  EXPECT_EQ(error_of({{"tools", json::parse(R"([{"type":5,"function":{"name":"a"}}])")}}), "tools[0].type");
  EXPECT_EQ(error_of({{"tool_choice", {{"type", 3}}}}), "tool_choice.type");
  EXPECT_EQ(error_of({{"tool_choice", json::parse(R"({"type":"function","function":{"name":5}})")}}), "tool_choice");
  EXPECT_EQ(error_of({{"tools", json::parse(R"([{"type":"function","function":{"name":"a"}}])")},
                      {"tool_choice", json::parse(R"({"type":"allowed_tools","allowed_tools":{"tools":"a","mode":1}})")}}),
            "ok");
  EXPECT_EQ(error_of({{"messages", json::parse(R"([{"role":"assistant","content":null,"tool_calls":[
                         {"id":1,"type":"function","function":{"name":2,"arguments":"{}"}}]}])")}}),
            "messages[0].tool_calls[0].function.name");
  EXPECT_EQ(error_of({{"messages", json::parse(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]}])")}}),
            "messages[0].content[0].image_url");
  EXPECT_EQ(error_of({{"messages", json::parse(R"([{"role":"user","content":[{"type":"file","file":{"file_data":5}}]}])")}}),
            "messages[0].content[0].file");
  EXPECT_EQ(error_of({{"messages", json::parse(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":7}}]},
                                                 {"role":"function","name":9,"content":"r"}])")}}),
            "ok");
  // Added here: the brief's other shapes.
  EXPECT_EQ(error_of({{"response_format", {{"type", "json_schema"}}}}), "ok");  // no schema to send: JSON mode only
  EXPECT_EQ(error_of({{"tools", json::parse(R"([{"type":"function","function":{"name":[]}}])")}}), "tools[0].function");
  EXPECT_EQ(error_of({{"messages", json::parse(R"([{"role":5,"content":"q"},{"role":"user","content":[{"type":{},"text":"x"}]}])")}}),
            "messages[1].content[0]");
}

TEST(GeminiRequest, CustomToolsAreRejected) {
  auto e = translate_error(json::parse(R"({"messages":[{"role":"user","content":"q"}],"tools":[{"type":"custom","custom":{"name":"x"}}]})"));
  EXPECT_EQ(e.param, "tools[0].type");
}

TEST(GeminiRequest, T26_JsonSchemaResponseFormat) {
  auto up = translate(json::parse(R"({"messages":[{"role":"user","content":"q"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object"}}}})"));
  EXPECT_EQ(up["generationConfig"], json::parse(R"({"responseMimeType":"application/json","responseJsonSchema":{"type":"object"}})"));
  auto obj = translate(json::parse(R"({"messages":[{"role":"user","content":"q"}],"response_format":{"type":"json_object"}})"));
  EXPECT_EQ(obj["generationConfig"], json::parse(R"({"responseMimeType":"application/json"})"));
}

TEST(GeminiRequest, ReasoningEffortBecomesThinkingConfig) {
  json in = {{"messages", json::array({user("q")})}, {"reasoning_effort", "low"}};
  EXPECT_EQ(translate(in, nullptr, "gemini-2.5-flash")["generationConfig"]["thinkingConfig"], json({{"thinkingBudget", 1024}}));
  EXPECT_EQ(translate(in, nullptr, "gemini-3-pro-preview")["generationConfig"]["thinkingConfig"], json({{"thinkingLevel", "low"}}));
  in["reasoning_effort"] = "none";
  EXPECT_EQ(translate(in, nullptr, "gemini-2.5-flash")["generationConfig"]["thinkingConfig"], json({{"thinkingBudget", 0}}));
  std::vector<std::string> notes;
  EXPECT_EQ(translate(in, &notes, "gemini-2.5-pro")["generationConfig"]["thinkingConfig"], json({{"thinkingBudget", 128}}));
  EXPECT_EQ(notes.size(), 1u);
  notes.clear();
  EXPECT_FALSE(translate(in, &notes, "gemini-2.0-flash").contains("generationConfig"));
  EXPECT_EQ(notes, std::vector<std::string>{"dropped reasoning_effort"});
  in["reasoning_effort"] = "extreme";
  EXPECT_EQ(translate_error(in).param, "reasoning_effort");
}

TEST(GeminiRequest, UnsupportedParametersFollowThePolicy) {
  json in = {{"messages", json::array({user("q")})}, {"logit_bias", {{"50256", -100}}}, {"parallel_tool_calls", false},
             {"user", "u-1"}, {"metadata", {{"k", "v"}}}};
  std::vector<std::string> notes;
  auto up = translate(in, &notes);
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped logit_bias", "dropped parallel_tool_calls"}));
  EXPECT_FALSE(up.contains("logit_bias"));
  auto e = translate_error(in, ParamPolicy::reject);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "logit_bias");
}

TEST(GeminiRequest, LegacyCompletionPromptIsOneUserTurn) {
  std::vector<std::string> notes;
  auto r = generate_request(Endpoint::completions, json{{"prompt", "Say done"}, {"max_tokens", 5}}, {"gemini-2.5-flash"}, notes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["contents"], json::parse(R"([{"role":"user","parts":[{"text":"Say done"}]}])"));
  EXPECT_EQ((*r)["generationConfig"]["maxOutputTokens"], 5);
  auto tokens = generate_request(Endpoint::completions, json{{"prompt", json::array({1, 2, 3})}}, {"m"}, notes);
  EXPECT_FALSE(tokens.ok());
}

TEST(GeminiRequest, EmbeddingsSingleBatchAndVertex) {
  auto one = embed_request(json{{"input", "hello"}, {"dimensions", 256}}, "text-embedding-004", false);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->method, ":embedContent");
  EXPECT_EQ(one->body, json::parse(R"({"content":{"parts":[{"text":"hello"}]},"outputDimensionality":256})"));
  auto batch = embed_request(json{{"input", {"a", "b"}}}, "text-embedding-004", false);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->method, ":batchEmbedContents");
  EXPECT_EQ(batch->body, json::parse(R"({"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}},
                                                     {"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]}}]})"));
  auto vertex = embed_request(json{{"input", {"a", "b"}}, {"dimensions", 64}}, "text-embedding-005", true);
  ASSERT_TRUE(vertex.ok());
  EXPECT_EQ(vertex->method, ":predict");
  EXPECT_EQ(vertex->body, json::parse(R"({"instances":[{"content":"a"},{"content":"b"}],"parameters":{"outputDimensionality":64}})"));
  EXPECT_FALSE(embed_request(json{{"input", json::array({json::array({1, 2})})}}, "m", false).ok());
}

TEST(GeminiSchema, RefsInlinedNullableAnyOfAndUnsupportedKeywordsDropped) {
  json schema = json::parse(R"({"type":"object","$defs":{"Addr":{"type":"object","properties":{"zip":{"type":"string"}},"additionalProperties":false}},
    "properties":{"home":{"$ref":"#/$defs/Addr","description":"Home"},
                  "age":{"anyOf":[{"type":"integer","exclusiveMinimum":0},{"type":"null"}]},
                  "kind":{"const":"x"},
                  "tags":{"type":"array","items":{"type":"string"},"uniqueItems":true}}})");
  EXPECT_EQ(clean_schema(schema), json::parse(R"({"type":"object","properties":{
      "home":{"type":"object","description":"Home","properties":{"zip":{"type":"string"}}},
      "age":{"type":"integer","nullable":true},
      "kind":{"type":"string","enum":["x"]},
      "tags":{"type":"array","items":{"type":"string"}}}})"));
}

TEST(GeminiSchema, RecursiveRefsAreCut) {
  json schema = json::parse(R"({"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"})");
  json cleaned = clean_schema(schema);
  EXPECT_EQ(cleaned["type"], "object");
  EXPECT_TRUE(cleaned["properties"]["next"].is_object());
}

TEST(GeminiContents, DataUrls) {
  std::string mime, data;
  EXPECT_TRUE(parse_data_url("data:image/PNG;base64,AAAA", mime, data));
  EXPECT_EQ(mime, "image/png");
  EXPECT_EQ(data, "AAAA");
  EXPECT_FALSE(parse_data_url("data:text/plain,hello", mime, data));
}

}  // namespace
}  // namespace tollgate::gemini
