// The translating adapters read the client's body through views. The body
// they see in production is the parser's tape (document order, simdjson's
// number types, the gateway's changes as a patch); what they saw before was
// that body copied into an nlohmann tree (sorted keys). Both must translate
// to the same bytes, notes and errors.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/anthropic_messages_request.h"
#include "providers/anthropic/anthropic_request.h"
#include "providers/bedrock/bedrock_embeddings.h"
#include "providers/bedrock/bedrock_request.h"
#include "providers/cohere/cohere_translate.h"
#include "providers/gemini/gemini_request.h"
#include "providers/mock/mock_provider.h"
#include "tollgate/json_document.h"
#include "tollgate/request_body.h"

namespace tollgate {
namespace {

using nlohmann::json;

RequestBody parsed(std::string_view text) {
  auto doc = JsonDocument::parse(std::string(text), JsonLimits{});
  EXPECT_TRUE(doc.ok()) << text;
  return doc.ok() ? RequestBody(std::move(doc.value())) : RequestBody();
}

// What a translation produced, as text, so that number types count too.
std::string outcome(const Result<json>& r, const std::vector<std::string>& notes) {
  std::string out = r.ok() ? r->dump() : r.error().body() + " status " + std::to_string(r.error().status);
  for (const auto& n : notes) out += "\nnote: " + n;
  return out;
}

using Translate = std::function<std::string(JsonView)>;

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The same body read from its tape and from its copy as a tree must give the
// same upstream bytes, notes and error. Returns what the tape gave, for the
// caller to check that the translation did what a client would expect.
std::string expect_same(const RequestBody& body, const Translate& translate) {
  const RequestBody tree(body.to_json());
  EXPECT_NE(body.document(), nullptr) << "not read from a tape";
  const std::string from_tape = translate(body.view());
  EXPECT_EQ(from_tape, translate(tree.view())) << body.serialize();
  return from_tape;
}

// Keys out of order, numbers of every kind, nested objects whose key order a
// copy would change, legacy and unknown members.
constexpr std::string_view kChat = R"({"zeta":1,"model":"m","messages":[
  {"role":"system","content":"Be brief."},
  {"role":"developer","content":[{"type":"text","text":"Dev note","cache_control":{"type":"ephemeral","ttl":"5m"}}]},
  {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR","detail":"high"}}]},
  {"role":"assistant","content":"Calling.","tool_calls":[{"type":"function","id":"call_1","function":{"name":"lookup","arguments":"{\"q\":\"x\",\"a\":[1,2.5,-3]}"}}]},
  {"role":"tool","tool_call_id":"call_1","content":"{\"z\":1,\"a\":2}"},
  {"role":"user","content":"Thanks \u00e9"}],
 "tools":[{"type":"function","function":{"strict":true,"name":"lookup","description":"Find","parameters":{"type":"object",
   "properties":{"q":{"type":"string","enum":["x","y",null]},"a":{"type":["array","null"],"items":{"type":"number"},"description":"nums"},
   "r":{"$ref":"#/$defs/R","description":"ref"},"s":{"$ref":"#/$defs/R"},"t":{"type":["string","integer"],"minimum":1}},
   "required":["q","missing"],"additionalProperties":false,
   "$defs":{"R":{"type":"object","properties":{"y":{"type":"integer","format":"int64","default":-9223372036854775808}}}}}}}],
 "tool_choice":{"function":{"name":"lookup"},"type":"function"},
 "temperature":0.7,"top_p":0.9,"max_tokens":300,"stop":["END"," "],"seed":18446744073709551615,
 "logit_bias":{"50256":-100,"11":5},"user":"u-1","stream":false,"aardvark":true,"n":1,"frequency_penalty":-0.5,
 "response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"number"}}}}},
 "parallel_tool_calls":false,"logprobs":false,"mm":{"b":1,"a":[{"d":1,"c":2}]}})";

// No response_format (Anthropic's forced json tool would refuse tool_choice),
// legacy functions instead of tools, reasoning.
constexpr std::string_view kLegacy = R"({"model":"m","messages":[{"role":"user","content":"q"}],
  "functions":[{"parameters":{"type":"object","properties":{"k":{"type":"string"}}},"name":"f"}],
  "function_call":{"name":"f","x":1},"reasoning_effort":"high","max_completion_tokens":50000,"zz":[1],"aa":{"k":true}})";

constexpr std::string_view kEmbed = R"({"model":"e","input":["b","a"],"dimensions":256,"encoding_format":"base64","input_type":"search_query"})";

// The gateway's changes to a parsed body: replaced, added and removed members.
RequestBody patched(std::string_view text) {
  RequestBody body = parsed(text);
  body.set("model", "upstream-model");
  body.set("top_k", 40);
  body.set("tool_choice", "auto");
  body.erase("seed");
  body.erase("aardvark");
  body.erase("response_format");
  return body;
}

// What the client's tool call, tool schema and cache breakpoint become must
// not depend on how the body was held: the tape keeps document order and
// simdjson's number types, a tree sorts keys.
TEST(RequestViews, AnthropicTranslatesATapeAsItsTree) {
  for (const ParamPolicy policy : {ParamPolicy::drop, ParamPolicy::reject}) {
    for (const char* model : {"claude-sonnet-4-5", "claude-3-5-sonnet-20241022"}) {
      SCOPED_TRACE(std::string(model) + (policy == ParamPolicy::reject ? " reject" : " drop"));
      auto translate = [&](JsonView body) {
        anthropic::RequestOptions options;
        options.model = model;
        options.policy = policy;
        std::vector<std::string> notes;
        auto r = anthropic::build_messages_body(body, options, notes);
        return outcome(r, notes) + (anthropic::expects_json_tool(body) ? "\njson tool" : "");
      };
      const std::string chat = expect_same(parsed(kChat), translate);
      const std::string changed = expect_same(patched(kChat), translate);
      const std::string legacy = expect_same(parsed(kLegacy), translate);
      // Legacy functions with reasoning_effort: forcing the function is refused either way.
      EXPECT_THAT(legacy, HasSubstr(R"("param":"tool_choice")"));
      EXPECT_THAT(legacy, HasSubstr("status 400"));
      if (policy == ParamPolicy::reject) {
        // temperature and top_p together: the first parameter the policy refuses.
        EXPECT_THAT(chat, StartsWith(R"({"error":)"));
        EXPECT_THAT(chat, HasSubstr(R"("param":"top_p")"));
        EXPECT_THAT(changed, HasSubstr(R"("param":"top_p")"));
        continue;
      }
      const bool native = anthropic::supports_structured_outputs(model);
      if (native) {
        EXPECT_THAT(chat, HasSubstr(R"("output_config":{"format":{"schema":{"properties":{"a":{"type":"number"},)"));
        EXPECT_THAT(chat, HasSubstr(R"("model":")" + std::string(model) + "\""));
        EXPECT_THAT(chat, HasSubstr("note: dropped aardvark"));
        EXPECT_THAT(chat, HasSubstr("note: dropped zeta"));
      } else {
        // The emulated json tool cannot be forced next to the client's forced tool.
        EXPECT_THAT(chat, HasSubstr(R"("param":"tool_choice")"));
        EXPECT_THAT(chat, HasSubstr("status 400"));
      }
      for (const std::string& out : native ? std::vector<std::string>{chat, changed} : std::vector<std::string>{changed}) {
        EXPECT_THAT(out, HasSubstr(R"({"id":"call_1","input":{"a":[1,2.5,-3],"q":"x"},"name":"lookup","type":"tool_use"})"));
        EXPECT_THAT(out, HasSubstr(R"({"cache_control":{"ttl":"5m","type":"ephemeral"},"text":"Dev note","type":"text"})"));
        EXPECT_THAT(out, HasSubstr(R"("default":-9223372036854775808)"));
        EXPECT_THAT(out, HasSubstr(R"("metadata":{"user_id":"u-1"})"));
        EXPECT_THAT(out, HasSubstr("note: dropped top_p"));
        EXPECT_THAT(out, HasSubstr(native ? R"("name":"lookup","strict":true)" : "note: dropped tools[].strict"));
      }
      // The gateway's changes are what the adapter reads: seed and aardvark
      // erased, top_k added, tool_choice replaced.
      EXPECT_THAT(changed, HasSubstr(R"("top_k":40)"));
      EXPECT_THAT(changed, HasSubstr(R"("tool_choice":{"disable_parallel_tool_use":true,"type":"auto"})"));
      EXPECT_THAT(changed, Not(HasSubstr("dropped seed")));
      EXPECT_THAT(changed, Not(HasSubstr("dropped aardvark")));
      EXPECT_THAT(changed, Not(HasSubstr("json tool")));
    }
  }
}

TEST(RequestViews, AnthropicUnknownParametersAreReportedInKeyOrder) {
  anthropic::RequestOptions options;
  options.model = "claude-sonnet-4-5";
  std::vector<std::string> notes;
  const RequestBody body = parsed(R"({"zz":1,"model":"m","messages":[{"role":"user","content":"q"}],"aa":2,"mm":null})");
  ASSERT_TRUE(anthropic::build_messages_body(body.view(), options, notes).ok());
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped aa", "dropped zz"}));
  options.policy = ParamPolicy::reject;
  auto r = anthropic::build_messages_body(body.view(), options, notes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "aa");
}

TEST(RequestViews, AnthropicCompletionIsThePatchedClientBody) {
  const RequestBody completion =
      parsed(R"({"zz":1,"model":"m","prompt":["Say hi"],"max_tokens":20,"suffix":"","best_of":1,"echo":false,"aa":{"b":1}})");
  auto chat = anthropic::completion_to_chat(completion);
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat->document(), completion.document());  // shared, not copied
  EXPECT_EQ(chat->to_json(), json::parse(R"({"zz":1,"model":"m","max_tokens":20,"aa":{"b":1},
                                             "messages":[{"role":"user","content":"Say hi"}]})"));
  EXPECT_EQ(completion["prompt"].dump(), R"(["Say hi"])") << "the client's body is left as it was";
  auto translate = [](JsonView body) {
    anthropic::RequestOptions options;
    options.model = "claude-sonnet-4-5";
    std::vector<std::string> notes;
    return outcome(anthropic::build_messages_body(body, options, notes), notes);
  };
  EXPECT_EQ(expect_same(*chat, translate),
            R"({"max_tokens":20,"messages":[{"content":[{"text":"Say hi","type":"text"}],"role":"user"}],)"
            R"("model":"claude-sonnet-4-5"})"
            "\nnote: dropped aa\nnote: dropped zz");
}

TEST(RequestViews, GeminiTranslatesATapeAsItsTree) {
  for (const ParamPolicy policy : {ParamPolicy::drop, ParamPolicy::reject}) {
    for (const Endpoint endpoint : {Endpoint::chat_completions, Endpoint::completions}) {
      const bool chat_endpoint = endpoint == Endpoint::chat_completions;
      SCOPED_TRACE(std::string(chat_endpoint ? "chat" : "completions") + (policy == ParamPolicy::reject ? " reject" : " drop"));
      auto translate = [&](JsonView body) {
        gemini::RequestOptions options{"gemini-2.5-pro", policy, nullptr};
        std::vector<std::string> notes;
        return outcome(gemini::generate_request(endpoint, body, options, notes), notes);
      };
      const std::string chat = expect_same(parsed(kChat), translate);
      const std::string changed = expect_same(patched(kChat), translate);
      const std::string legacy = expect_same(parsed(kLegacy), translate);
      const std::string prompt = expect_same(parsed(R"({"model":"m","prompt":["p"],"echo":false,"best_of":1,"n":2})"), translate);
      if (!chat_endpoint) {
        // A completion reads only its prompt.
        EXPECT_EQ(prompt, R"({"contents":[{"parts":[{"text":"p"}],"role":"user"}],"generationConfig":{"candidateCount":2}})");
        if (policy == ParamPolicy::drop) EXPECT_THAT(chat, HasSubstr(R"("param":"messages")"));
        continue;
      }
      EXPECT_THAT(prompt, HasSubstr(R"("param":"messages")"));
      EXPECT_THAT(legacy, HasSubstr(R"("functionDeclarations":[{"name":"f","parameters":{"properties":{"k":{"type":"string"}},"type":"object"}}])"));
      EXPECT_THAT(legacy, HasSubstr(R"("allowedFunctionNames":["f"],"mode":"ANY")"));
      EXPECT_THAT(legacy, HasSubstr(R"("maxOutputTokens":50000,"thinkingConfig":{"thinkingBudget":4096})"));
      if (policy == ParamPolicy::reject) {
        EXPECT_THAT(chat, HasSubstr(R"("param":"logit_bias")"));
        continue;
      }
      for (const std::string& out : {chat, changed}) {
        EXPECT_THAT(out, HasSubstr(R"({"functionCall":{"args":{"a":[1,2.5,-3],"q":"x"},"name":"lookup"}})"));
        EXPECT_THAT(out, HasSubstr(R"({"functionResponse":{"name":"lookup","response":{"a":2,"z":1}}})"));
        // $ref resolved with its sibling description, a type union folded.
        EXPECT_THAT(out, HasSubstr(R"("r":{"description":"ref","properties":{"y":{"default":-9223372036854775808,"format":"int64","type":"integer"}},"type":"object"})"));
        EXPECT_THAT(out, HasSubstr(R"("a":{"description":"nums","items":{"type":"number"},"nullable":true,"type":"array"})"));
        EXPECT_THAT(out, HasSubstr("note: dropped logit_bias"));
      }
      EXPECT_THAT(chat, HasSubstr(R"("seed":18446744073709551615)"));
      EXPECT_THAT(chat, HasSubstr(R"("responseJsonSchema":{"properties":{"a":{"type":"number"},"b":{"type":"string"}},"type":"object"})"));
      EXPECT_THAT(changed, Not(HasSubstr(R"("seed")")));
      EXPECT_THAT(changed, Not(HasSubstr("responseJsonSchema")));
      EXPECT_THAT(changed, HasSubstr(R"("topK":40)"));
      EXPECT_THAT(changed, HasSubstr(R"("functionCallingConfig":{"mode":"AUTO"})"));
    }
  }
  for (const bool vertex : {false, true}) {
    const std::string out = expect_same(parsed(kEmbed), [&](JsonView body) {
      auto r = gemini::embed_request(body, "text-embedding-005", vertex);
      return r.ok() ? r->method + r->body.dump() : r.error().body();
    });
    EXPECT_EQ(out, vertex ? R"(:predict{"instances":[{"content":"b"},{"content":"a"}],"parameters":{"outputDimensionality":256}})"
                          : R"(:batchEmbedContents{"requests":[)"
                            R"({"content":{"parts":[{"text":"b"}]},"model":"models/text-embedding-005","outputDimensionality":256},)"
                            R"({"content":{"parts":[{"text":"a"}]},"model":"models/text-embedding-005","outputDimensionality":256}]})");
  }
}

TEST(RequestViews, BedrockTranslatesATapeAsItsTree) {
  for (const ParamPolicy policy : {ParamPolicy::drop, ParamPolicy::reject}) {
    SCOPED_TRACE(policy == ParamPolicy::reject ? "reject" : "drop");
    auto translate = [&](JsonView body) {
      std::vector<std::string> notes;
      return outcome(bedrock::to_converse_request(body, {policy, 4096}, notes), notes) + "\n" +
             bedrock::structured_output_tool(body);
    };
    const std::string chat = expect_same(parsed(kChat), translate);
    const std::string changed = expect_same(patched(kChat), translate);
    const std::string legacy = expect_same(parsed(kLegacy), translate);
    // json_schema output and tools cannot be combined on Bedrock.
    EXPECT_THAT(chat, HasSubstr(R"("param":"response_format")"));
    EXPECT_THAT(chat, HasSubstr("status 400\nout"));
    if (policy == ParamPolicy::reject) {
      EXPECT_THAT(changed, HasSubstr(R"("param":"logit_bias")"));
      EXPECT_THAT(legacy, HasSubstr(R"("param":"reasoning_effort")"));
    } else {
      EXPECT_THAT(changed, HasSubstr(R"({"toolUse":{"input":{"a":[1,2.5,-3],"q":"x"},"name":"lookup","toolUseId":"call_1"}})"));
      EXPECT_THAT(changed, HasSubstr(R"("inferenceConfig":{"maxTokens":300,"stopSequences":["END"],"temperature":0.7,"topP":0.9})"));
      EXPECT_THAT(changed, HasSubstr(R"("toolChoice":{"auto":{}})"));
      EXPECT_THAT(changed, HasSubstr(R"("system":[{"text":"Be brief."},{"text":"Dev note"}])"));
      EXPECT_THAT(changed, HasSubstr("note: dropped logit_bias"));
      EXPECT_THAT(legacy, StartsWith(R"({"inferenceConfig":{"maxTokens":50000},"messages":[{"content":[{"text":"q"}],"role":"user"}]})"));
      EXPECT_THAT(legacy, HasSubstr("note: dropped reasoning_effort"));
    }
    for (const char* model : {"cohere.embed-v4:0", "amazon.titan-embed-text-v2:0"}) {
      const std::string out = expect_same(parsed(kEmbed), [&](JsonView body) {
        std::vector<std::string> notes;
        Usage usage;
        const json native = json::parse(R"({"embeddings":[[0.5,1],[2,0.25]]})");
        return outcome(bedrock::to_embedding_request(body, model, policy, notes), notes) +
               outcome(bedrock::from_embedding_response(native, body, model, usage), {});
      });
      // Input order kept, base64 as the client asked.
      EXPECT_THAT(out, HasSubstr(R"({"embedding":"AAAAPwAAgD8=","index":0,"object":"embedding"},{"embedding":"AAAAQAAAgD4=","index":1,)"));
      if (std::string_view(model).starts_with("cohere")) {
        EXPECT_THAT(out, StartsWith(R"({"input_type":"search_query","output_dimension":256,"texts":["b","a"]})"));
      } else {
        EXPECT_THAT(out, HasSubstr(R"("param":"input")"));  // Titan embeds one input per request
      }
    }
  }
}

TEST(RequestViews, CohereTranslatesATapeAsItsTree) {
  auto translate = [](JsonView body) {
    std::vector<std::string> notes;
    return outcome(cohere::chat_request(body, "command-a", notes), notes);
  };
  const std::string chat = expect_same(parsed(kChat), translate);
  const std::string changed = expect_same(patched(kChat), translate);
  const std::string legacy = expect_same(parsed(kLegacy), translate);
  for (const std::string& out : {chat, changed}) {
    // Tool-call arguments are the client's string, byte for byte.
    EXPECT_THAT(out, HasSubstr(R"("arguments":"{\"q\":\"x\",\"a\":[1,2.5,-3]}")"));
    EXPECT_THAT(out, HasSubstr(R"({"content":[{"text":"Look","type":"text"},{"image_url":{"detail":"high","url":"data:image/png;base64,iVBOR"},"type":"image_url"}],"role":"user"})"));
    EXPECT_THAT(out, HasSubstr(R"("strict_tools":true)"));
  }
  EXPECT_THAT(chat, HasSubstr(R"("seed":18446744073709551615)"));
  EXPECT_THAT(chat, HasSubstr(R"("tool_choice":"REQUIRED")"));
  EXPECT_THAT(chat, HasSubstr("note: tool_choice lookup sent as REQUIRED with only that tool"));
  EXPECT_THAT(changed, HasSubstr(R"("k":40)"));
  EXPECT_THAT(changed, Not(HasSubstr(R"("seed")")));
  EXPECT_THAT(changed, Not(HasSubstr("tool_choice")));
  EXPECT_EQ(legacy, R"({"max_tokens":50000,"messages":[{"content":"q","role":"user"}],"model":"command-a"})"
                    "\nnote: dropped reasoning_effort");
  EXPECT_EQ(expect_same(parsed(kEmbed), [](JsonView body) { return outcome(cohere::embed_request(body, "embed-v4.0"), {}); }),
            R"({"embedding_types":["float"],"input_type":"search_query","model":"embed-v4.0","output_dimension":256,"texts":["b","a"]})");
}

TEST(RequestViews, MockRepliesToATapeAsToItsTree) {
  EXPECT_EQ(expect_same(parsed(kChat), [](JsonView body) { return mock_reply_text(body); }),
            "Hello from the Tollgate mock provider. You said: Thanks \u00e9");
}

TEST(RequestViews, AnthropicInboundTranslatesATapeAsItsTree) {
  constexpr std::string_view kMessages = R"({"stream":true,"model":"claude","max_tokens":1024,
    "system":[{"type":"text","text":"Sys"},{"text":"tem","type":"text"}],
    "messages":[{"role":"user","content":[{"type":"text","text":"hi"},
                 {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]},
                {"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"ok"},
                 {"type":"tool_use","id":"tu_1","name":"f","input":{"z":[1,{"y":2,"x":1}],"a":-1.5}}]},
                {"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_1","content":[{"type":"text","text":"r"}]},
                 {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBER"}}]}],
    "tools":[{"name":"f","input_schema":{"type":"object","properties":{"z":{"type":"array"},"a":{"type":"number"}}},"strict":true}],
    "tool_choice":{"disable_parallel_tool_use":true,"type":"auto"},
    "temperature":0.5,"top_k":5,"stop_sequences":["a","b"],"metadata":{"user_id":"u"},
    "thinking":{"type":"enabled","budget_tokens":4096},"output_config":{"format":{"schema":{"type":"object"},"type":"json_schema"}}})";
  for (const MessagesCall call : {MessagesCall::create, MessagesCall::count_tokens}) {
    const bool create = call == MessagesCall::create;
    SCOPED_TRACE(create ? "create" : "count_tokens");
    const std::string out = expect_same(parsed(kMessages), [&](JsonView body) {
      auto r = translate_messages_request(body, call);
      return r.ok() ? outcome(r->body, r->notes) : outcome(r.error(), {});
    });
    EXPECT_THAT(out, HasSubstr(R"({"content":"Sys\ntem","role":"system"})"));
    EXPECT_THAT(out, HasSubstr(R"({"image_url":{"url":"data:image/png;base64,iVBOR"},"type":"image_url"})"));
    // Tool input as arguments text, keys sorted as they always were written.
    EXPECT_THAT(out, HasSubstr(R"("arguments":"{\"a\":-1.5,\"z\":[1,{\"x\":1,\"y\":2}]}","name":"f"},"id":"tu_1")"));
    EXPECT_THAT(out, HasSubstr(R"("file_data":"data:application/pdf;base64,JVBER")"));
    EXPECT_THAT(out, HasSubstr(R"("parallel_tool_calls":false)"));
    EXPECT_THAT(out, HasSubstr(R"("response_format":{"json_schema":{"name":"output","schema":{"type":"object"}},"type":"json_schema"})"));
    EXPECT_THAT(out, HasSubstr("note: dropped top_k"));
    if (create) {
      EXPECT_THAT(out, HasSubstr(R"("max_completion_tokens":1024)"));
      EXPECT_THAT(out, HasSubstr(R"("stream":true,"stream_options":{"include_usage":true})"));
    } else {
      EXPECT_THAT(out, Not(HasSubstr("max_completion_tokens")));
      EXPECT_THAT(out, Not(HasSubstr("stream")));
    }
  }
  // A max_tokens beyond any count is a 400, not a wrapped negative or a huge limit.
  EXPECT_THAT(
      expect_same(parsed(R"({"model":"m","max_tokens":18446744073709551615,"messages":[{"role":"user","content":"q"}]})"),
                  [](JsonView body) {
                    auto r = translate_messages_request(body, MessagesCall::create);
                    return r.ok() ? outcome(r->body, r->notes) : outcome(r.error(), {});
                  }),
      HasSubstr(R"("param":"max_tokens")"));
}

}  // namespace
}  // namespace tollgate
