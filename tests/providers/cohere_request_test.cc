// OpenAI request -> Cohere Chat v2 / Embed v2 request, as fixtures.
#include <gtest/gtest.h>

#include "providers/cohere/cohere_adapter.h"
#include "providers/cohere/cohere_translate.h"
#include "support/parsed_body.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;

json translate(const json& in, std::vector<std::string>* notes_out = nullptr) {
  std::vector<std::string> notes;
  auto r = chat_request(in, "command-a-03-2025", notes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (notes_out) *notes_out = notes;
  return r.ok() ? r.value() : json();
}

TEST(CohereRequest, MessagesOfEveryRole) {
  json in = json::parse(R"({"model":"c","messages":[
    {"role":"system","content":"Be brief."},
    {"role":"developer","content":[{"type":"text","text":"Use metric units."}]},
    {"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]},
    {"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"tm","arguments":""}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18C"},
    {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"14:05"}]},
    {"role":"assistant","content":"It is 18C.","name":"bot"},
    {"role":"assistant","content":null}
  ]})");
  json expected = json::parse(R"([
    {"role":"system","content":"Be brief."},
    {"role":"system","content":"Use metric units."},
    {"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]},
    {"role":"assistant","tool_plan":"Let me check.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"tm","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18C"},
    {"role":"tool","tool_call_id":"call_2","content":"14:05"},
    {"role":"assistant","content":"It is 18C."}
  ])");
  auto up = translate(in);
  EXPECT_EQ(up["model"], "command-a-03-2025");
  EXPECT_EQ(up["messages"], expected) << up["messages"].dump(1);
  EXPECT_FALSE(up.contains("stream"));
}

TEST(CohereRequest, SamplingAndLimits) {
  auto up = translate(json::parse(R"({"messages":[],"max_tokens":50,"max_completion_tokens":100,"stop":"END",
      "temperature":0.3,"top_p":0.8,"top_k":40,"seed":7,"frequency_penalty":0.1,"presence_penalty":0.2,
      "user":"u-1","stream":true,"stream_options":{"include_usage":true}})"));
  EXPECT_EQ(up["max_tokens"], 100) << "max_completion_tokens wins";
  EXPECT_EQ(up["stop_sequences"], json::array({"END"}));
  EXPECT_EQ(up["temperature"], 0.3);
  EXPECT_EQ(up["p"], 0.8);
  EXPECT_EQ(up["k"], 40);
  EXPECT_EQ(up["seed"], 7);
  EXPECT_EQ(up["frequency_penalty"], 0.1);
  EXPECT_EQ(up["presence_penalty"], 0.2);
  EXPECT_EQ(up["stream"], true);
  for (const char* absent : {"top_p", "top_k", "stop", "user", "stream_options", "max_completion_tokens"}) {
    EXPECT_FALSE(up.contains(absent)) << absent;
  }
  auto arr = translate(json::parse(R"({"messages":[],"stop":["A","B"]})"));
  EXPECT_EQ(arr["stop_sequences"], json::array({"A", "B"}));
}

TEST(CohereRequest, ToolsAndToolChoice) {
  json tools = json::parse(R"([
    {"type":"function","function":{"name":"wx","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},
    {"type":"function","function":{"name":"now"}}])");
  auto up = translate({{"messages", json::array()}, {"tools", tools}, {"tool_choice", "required"}});
  EXPECT_EQ(up["tools"], json::parse(R"([
    {"type":"function","function":{"name":"wx","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
    {"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}])"));
  EXPECT_EQ(up["strict_tools"], true);
  EXPECT_EQ(up["tool_choice"], "REQUIRED");

  EXPECT_EQ(translate({{"messages", json::array()}, {"tools", tools}, {"tool_choice", "none"}})["tool_choice"], "NONE");
  EXPECT_FALSE(translate({{"messages", json::array()}, {"tools", tools}, {"tool_choice", "auto"}}).contains("tool_choice"));

  std::vector<std::string> notes;
  auto named = translate({{"messages", json::array()}, {"tools", tools},
                          {"tool_choice", {{"type", "function"}, {"function", {{"name", "now"}}}}}}, &notes);
  ASSERT_EQ(named["tools"].size(), 1u);
  EXPECT_EQ(named["tools"][0]["function"]["name"], "now");
  EXPECT_EQ(named["tool_choice"], "REQUIRED");
  ASSERT_EQ(notes.size(), 1u);

  std::vector<std::string> n2;
  auto r = chat_request(json{{"messages", json::array()}, {"tools", tools},
                         {"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}}, "m", n2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "tool_choice");
}

// Found by fuzz_request_cohere: nlohmann's value() throws when a member has
// another type than its default, so fields the validator does not check
// (and "stream": null, which it accepts) escaped as exceptions (a 500)
// instead of being read as absent or refused as a 400. Each body is read
// from a tree and, as in production, from its parsed text.
TEST(CohereRequest, MembersOfUnexpectedTypesAreReadAsAbsentNotThrown) {
  json body = json::parse(R"({"messages":[
      {"role":"user","content":[{"type":"text","text":{"not":"a string"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":7,"type":"function","function":{"name":["x"],"arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"7","content":"ok"}],
    "tools":[{"type":"function","function":{"name":"wx","strict":"yes"}}],
    "tool_choice":{"type":"function","function":"wx"},
    "response_format":{"type":1},
    "stream":null})");
  auto both = [](const json& in, auto check) {
    const RequestBody tape = testing::parsed_body(in);
    for (const JsonView view : {JsonView(in), tape.view()}) {
      std::vector<std::string> notes;
      Result<json> r = json();
      EXPECT_NO_THROW(r = chat_request(view, "command-a-03-2025", notes)) << in.dump();
      check(r);
    }
  };
  both(body, [](const Result<json>& r) {
    ASSERT_FALSE(r.ok());  // the tool_choice names no function of tools
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().param, "tool_choice");
  });

  body.erase("tool_choice");
  both(body, [](const Result<json>& r) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    const json& up = r.value();
    EXPECT_EQ(up["messages"][0]["content"], json::parse(R"([{"type":"text","text":""}])"));
    EXPECT_EQ(up["messages"][1]["tool_calls"][0]["id"], "");
    EXPECT_EQ(up["messages"][1]["tool_calls"][0]["function"]["name"], "");
    EXPECT_FALSE(up.contains("strict_tools"));
    EXPECT_FALSE(up.contains("response_format"));
    EXPECT_FALSE(up.contains("stream"));
  });

  for (const char* tools : {R"([{"type":5,"function":{"name":"wx"}}])", R"([{"type":{},"function":{"name":"wx"}}])",
                            R"([{"type":"function","function":[]}])"}) {
    both(json{{"messages", json::array()}, {"tools", json::parse(tools)}}, [&](const Result<json>& r) {
      ASSERT_FALSE(r.ok()) << tools;
      EXPECT_EQ(r.error().status, 400);
      EXPECT_EQ(r.error().param, "tools[0]") << tools;
    });
  }
  both(json::parse(R"({"messages":[{"role":5,"content":"q"}]})"), [](const Result<json>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().param, "messages[0].role");
  });
}

TEST(CohereRequest, ResponseFormat) {
  EXPECT_EQ(translate({{"messages", json::array()}, {"response_format", {{"type", "json_object"}}}})["response_format"],
            json({{"type", "json_object"}}));
  auto schema = translate(json::parse(R"({"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}}}}}})"));
  EXPECT_EQ(schema["response_format"], json::parse(R"({"type":"json_object","json_schema":{"type":"object","properties":{"a":{"type":"string"}}}})"));
  EXPECT_FALSE(translate({{"messages", json::array()}, {"response_format", {{"type", "text"}}}}).contains("response_format"));
}

TEST(CohereRequest, UntranslatableParameters) {
  std::vector<std::string> notes;
  auto up = translate({{"messages", json::array()}, {"logit_bias", {{"50256", -100}}}, {"logprobs", true}, {"top_logprobs", 2},
                       {"parallel_tool_calls", false}, {"n", 1}},
                      &notes);
  for (const char* absent : {"logit_bias", "logprobs", "top_logprobs", "parallel_tool_calls", "n"}) EXPECT_FALSE(up.contains(absent)) << absent;
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped logit_bias", "dropped logprobs", "dropped top_logprobs", "dropped parallel_tool_calls"}));
  std::vector<std::string> quiet;
  translate({{"messages", json::array()}, {"logprobs", false}, {"parallel_tool_calls", true}}, &quiet);
  EXPECT_TRUE(quiet.empty()) << "false/default values ask for nothing";

  std::vector<std::string> n2;
  auto r = chat_request(json{{"messages", json::array()}, {"n", 2}}, "m", n2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().param, "n");
  auto audio = chat_request(json::parse(R"({"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]})"), "m", n2);
  ASSERT_FALSE(audio.ok());
  EXPECT_EQ(audio.error().param, "messages[0].content");
}

TEST(CohereRequest, Embeddings) {
  auto one = embed_request(json{{"model", "e"}, {"input", "hello"}}, "embed-english-v3.0");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, json::parse(R"({"model":"embed-english-v3.0","texts":["hello"],"input_type":"search_document","embedding_types":["float"]})"));
  auto many = embed_request(json{{"input", {"a", "b"}}, {"dimensions", 512}, {"input_type", "search_query"}, {"encoding_format", "base64"}}, "embed-v4.0");
  ASSERT_TRUE(many.ok());
  EXPECT_EQ((*many)["texts"], json::array({"a", "b"}));
  EXPECT_EQ((*many)["output_dimension"], 512);
  EXPECT_EQ((*many)["input_type"], "search_query");
  EXPECT_EQ((*many)["embedding_types"], json::array({"float"})) << "base64 is packed by the gateway";
  auto tokens = embed_request(json{{"input", {1, 2, 3}}}, "e");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().param, "input");
}

TEST(CohereRequest, AdapterTargetsAndHeaders) {
  ProviderConfig config;
  config.name = "co";
  config.type = ProviderType::cohere;
  config.base_url = "https://api.cohere.com";
  config.api_key = "co-secret-key";
  CohereAdapter adapter(config);
  EXPECT_EQ(adapter.kind(), "cohere");
  RequestContext ctx;
  ctx.endpoint = Endpoint::chat_completions;
  ctx.stream = true;
  ctx.body = json{{"model", "alias"}, {"stream", true}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  std::vector<std::string> notes;
  auto built = adapter.build_request(ctx, {"co", "command-r-08-2024", 1}, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.target, "/v2/chat");
  bool auth = false;
  for (const auto& [k, v] : built->request.headers) {
    if (k == "authorization") auth = v == "Bearer co-secret-key";
  }
  EXPECT_TRUE(auth);
  EXPECT_EQ(json::parse(built->request.body)["model"], "command-r-08-2024");
  ctx.endpoint = Endpoint::embeddings;
  ctx.stream = false;
  ctx.body = json{{"model", "alias"}, {"input", "x"}};
  built = adapter.build_request(ctx, {"co", "embed-english-v3.0", 1}, notes);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.target, "/v2/embed");
  ctx.endpoint = Endpoint::completions;
  ctx.body = json{{"model", "alias"}, {"prompt", "x"}};
  auto legacy = adapter.build_request(ctx, {"co", "command-r", 1}, notes);
  ASSERT_FALSE(legacy.ok());
  EXPECT_EQ(legacy.error().status, 400);
}

}  // namespace
}  // namespace tollgate::cohere
