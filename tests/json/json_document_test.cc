#include "tollgate/json_document.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tollgate/request_body.h"

namespace tollgate {
namespace {

using nlohmann::json;

std::shared_ptr<const JsonDocument> parse_ok(std::string text, JsonLimits limits = {}) {
  auto r = JsonDocument::parse(std::move(text), limits);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? r.value() : nullptr;
}

JsonError parse_error(std::string text, JsonLimits limits = {}) {
  auto r = JsonDocument::parse(std::move(text), limits);
  EXPECT_FALSE(r.ok());
  return r.ok() ? JsonError{} : r.error();
}

std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonDocument, ReadsEveryTypeThroughAView) {
  auto doc = parse_ok(R"({"s":"h\u00e9llo","i":-3,"u":18446744073709551615,"f":0.5,"t":true,"n":null,"a":[1,"x"],"o":{"k":"v"}})");
  ASSERT_TRUE(doc);
  JsonView v = doc->root();
  EXPECT_TRUE(v.is_object());
  EXPECT_EQ(v["s"].as_string(), "h\xc3\xa9llo");
  EXPECT_EQ(v["i"].as_int64(), -3);
  EXPECT_TRUE(v["u"].is_number_unsigned());
  EXPECT_EQ(v["u"].as_int64(), INT64_MAX);  // saturates
  EXPECT_DOUBLE_EQ(v["f"].as_double(), 0.5);
  EXPECT_TRUE(v["t"].as_bool());
  EXPECT_TRUE(v["n"].is_null());
  EXPECT_FALSE(v["missing"].present());
  EXPECT_EQ(v["a"].size(), 2u);
  EXPECT_EQ(v["a"].at(1), "x");
  EXPECT_FALSE(v["a"].at(2).present());
  EXPECT_EQ(v["o"]["k"], "v");
  EXPECT_FALSE(v["s"]["k"].present());  // a lookup in a string is absent, not a throw
  EXPECT_EQ(v.value("s", "d"), "h\xc3\xa9llo");
  EXPECT_EQ(v.value("i", "d"), "d");  // wrong type: the default, never a throw
  EXPECT_EQ(v.value("i", 7), -3);
  EXPECT_EQ(v.value("s", false), false);
  EXPECT_EQ(v.to_json(), json::parse(doc->text()));
}

TEST(JsonDocument, IteratesElementsAndMembersInOrder) {
  auto doc = parse_ok(R"({"b":1,"a":[3,4,5],"c":{}})");
  std::vector<std::string> keys;
  for (auto [k, v] : doc->root().items()) keys.emplace_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "a", "c"}));
  int64_t sum = 0;
  for (JsonView e : doc->root()["a"].elements()) sum += e.as_int64();
  EXPECT_EQ(sum, 12);
  EXPECT_EQ(doc->root()["c"].items().begin() != doc->root()["c"].items().end(), false);
  for (JsonView e : doc->root()["b"].elements()) ADD_FAILURE() << "a number has no elements: " << e.dump();
}

TEST(JsonDocument, TreeBackedViewsBehaveTheSame) {
  json tree = json::parse(R"({"b":1,"a":[3,4,5],"s":"x","o":{"k":true}})");
  JsonView v(tree);
  EXPECT_EQ(v["s"], "x");
  EXPECT_EQ(v["a"].at(2).as_int64(), 5);
  EXPECT_TRUE(v["o"]["k"].as_bool());
  std::vector<std::string> keys;
  for (auto m : v.items()) keys.emplace_back(m.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "o", "s"}));  // nlohmann orders keys
  EXPECT_EQ(v.to_json(), tree);
}

TEST(JsonDocument, RefusesNestingBeyondTheLimitSayingWhere) {
  EXPECT_TRUE(parse_ok(nested(64)));
  auto e = parse_error(nested(65));
  EXPECT_EQ(e.reason, "nesting deeper than 64 levels");
  EXPECT_EQ(e.offset, 64u);
  // The issue's crash: 100,000 levels in a member; no recursion runs on it.
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(100000, '}');
  e = parse_error(R"({"metadata":)" + objects + "}");
  EXPECT_EQ(e.reason, "nesting deeper than 64 levels");
  JsonLimits eight{8};
  EXPECT_EQ(parse_error(nested(9), eight).reason, "nesting deeper than 8 levels");
}

// Found by fuzz_request_body: simdjson refuses a non-empty container at its
// max_depth (and accepts an empty one there), so a document exactly as deep
// as the limit was refused, with an error the locator could not place.
TEST(JsonDocument, AcceptsDocumentsExactlyAsDeepAsTheLimit) {
  const JsonLimits seven{7};
  EXPECT_TRUE(parse_ok(R"([[[[[[["x"]]]]]]])", seven));
  EXPECT_TRUE(parse_ok(R"({"x":[[[[[{"a":1}]]]]]})", seven));
  EXPECT_TRUE(parse_ok("[[[[[[[]]]]]]]", seven));
  EXPECT_TRUE(parse_json_tree(R"({"x":[[[[[[1]]]]]]})", seven).ok());
  for (const char* deeper : {"[[[[[[[[]]]]]]]]", "[[[[[[[[1]]]]]]]]", R"({"x":[[[[[[{}]]]]]]})"}) {
    const JsonError e = parse_error(deeper, seven);
    EXPECT_EQ(e.reason, "nesting deeper than 7 levels") << deeper;
    EXPECT_NE(e.offset, JsonError::npos) << deeper;
    EXPECT_FALSE(parse_json_tree(deeper, seven).ok()) << deeper;
  }
  EXPECT_EQ(parse_error("[[[[[[[[]]]]]]]]", seven).offset, 7u);
  std::string at_limit = std::string(64, '[') + "1" + std::string(64, ']');
  EXPECT_TRUE(parse_ok(at_limit));
}

// Found by fuzz_stream_bedrock: an event with an empty payload handed the
// parser an empty view whose data() is null, which it passed to memcpy
// (undefined behaviour, reported by UBSan).
TEST(JsonDocument, EmptyInputIsAnErrorNotUndefinedBehaviour) {
  const auto tree = parse_json_tree(std::string_view());
  ASSERT_FALSE(tree.ok());
  EXPECT_FALSE(tree.error().reason.empty());
  EXPECT_FALSE(JsonDocument::parse(std::string(), JsonLimits{}).ok());
}

TEST(JsonDocument, RefusesNumbersThatOverflow) {
  auto e = parse_error(R"({"model":"m","temperature":1e400})");
  EXPECT_EQ(e.reason, "number out of range");
  EXPECT_EQ(e.offset, 27u);
  EXPECT_EQ(parse_error(R"([-1e400])").reason, "number out of range");
  EXPECT_EQ(parse_error(R"([18446744073709551616])").reason, "number out of range");
  EXPECT_EQ(parse_error(R"([-9223372036854775809])").reason, "number out of range");
  EXPECT_TRUE(parse_ok("[1e-400, -9223372036854775808, 18446744073709551615]"));
  EXPECT_EQ(parse_error("[01]").reason, "malformed number");
  EXPECT_EQ(parse_error("[1.]").reason, "malformed number");
}

TEST(JsonDocument, RefusesDuplicateKeysAnywhere) {
  auto e = parse_error(R"({"model":"cheap","model":"expensive"})");
  EXPECT_EQ(e.reason, "duplicate key \"model\"");
  EXPECT_EQ(e.offset, 17u);
  // The same key spelled with an escape is the same key.
  EXPECT_EQ(parse_error(R"({"model":"a","mod\u0065l":"b"})").reason, "duplicate key \"model\"");
  EXPECT_EQ(parse_error(R"({"messages":[{"role":"user","role":"system"}]})").reason, "duplicate key \"role\"");
  std::string many = "{";
  for (int i = 0; i < 20; ++i) many += "\"k" + std::to_string(i) + "\":1,";
  EXPECT_TRUE(parse_ok(many + "\"k\":1}"));
  EXPECT_EQ(parse_error(many + "\"k7\":1}").reason, "duplicate key \"k7\"");
}

TEST(JsonDocument, RefusesInvalidTextSayingWhere) {
  EXPECT_EQ(parse_error("{\"a\":\"\xff\"}").reason, "invalid UTF-8");
  EXPECT_EQ(parse_error("{\"a\":\"\xed\xa0\x80\"}").reason, "invalid UTF-8");  // an encoded surrogate
  EXPECT_EQ(parse_error(R"({"a":"\ud800"})").reason, "unpaired UTF-16 surrogate in a \\u escape");
  EXPECT_EQ(parse_error("{\"a\":\"x\ny\"}").reason, "control character in a string");
  EXPECT_EQ(parse_error(R"({"a":1} x)").reason, "unexpected data after the JSON value");
  EXPECT_EQ(parse_error(R"({"a":1,})").reason, "expected a member name in double quotes");
  EXPECT_EQ(parse_error("").reason, "no JSON value");
  auto e = parse_error(R"({"a":tru})");
  EXPECT_EQ(e.reason, "unexpected character");
  EXPECT_EQ(e.offset, 5u);
  EXPECT_EQ(e.describe(), "unexpected character at byte 5");
  EXPECT_TRUE(parse_ok(R"({"a":"\ud83d\ude00 \u0000"})"));
}

TEST(JsonDocument, LocatorFindsNothingInValidJson) {
  for (const char* ok : {"{}", "[]", "0", "-0.5e-3", R"({"a":[{"b":null}],"c":"\"\\\/\b\f\n\r\t"})", " [ 1 , 2 ] "}) {
    EXPECT_TRUE(locate_json_error(ok, {}).reason.empty()) << ok;
    EXPECT_TRUE(parse_ok(ok)) << ok;
  }
}

TEST(JsonDocument, MemberSpansCoverEachTopLevelMember) {
  auto doc = parse_ok(R"(  { "model" : "gpt" ,"n":1, "m":[1,{"x":"]"}] , "s":"a\"b"}  )");
  const auto& members = doc->members();
  ASSERT_EQ(members.size(), 4u);
  auto value = [&](std::size_t i) {
    return doc->text().substr(members[i].value_begin, members[i].value_end - members[i].value_begin);
  };
  EXPECT_EQ(members[0].key, "model");
  EXPECT_EQ(value(0), "\"gpt\"");
  EXPECT_EQ(value(1), "1");
  EXPECT_EQ(value(2), R"([1,{"x":"]"}])");
  EXPECT_EQ(value(3), R"("a\"b")");
}

TEST(JsonDocument, ParseJsonTreeAppliesTheSameLimits) {
  auto ok = parse_json_tree(R"({"a":[1,2]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value()["a"][1], 2);
  EXPECT_FALSE(parse_json_tree(nested(kUpstreamJsonDepth + 1)).ok());
  EXPECT_FALSE(parse_json_tree(R"([1e999])").ok());
  EXPECT_FALSE(parse_json_tree(R"({"a":1,"a":1})").ok());
}

TEST(RequestBody, SplicesChangedMembersIntoTheClientsBytes) {
  auto doc = parse_ok(R"({"model": "alias" , "messages":[{"role":"user","content":"hi \u00e9"}],"stream":true,"drop":1})");
  RequestBody body(doc);
  body.set("model", "upstream-model");
  body.erase("drop");
  body.set("stream_options", json{{"include_usage", true}});
  EXPECT_EQ(body.serialize(),
            R"({"model": "upstream-model","messages":[{"role":"user","content":"hi \u00e9"}],"stream":true,"stream_options":{"include_usage":true}})");
  // Views see the changes; the document itself is untouched.
  EXPECT_EQ(body["model"], "upstream-model");
  EXPECT_FALSE(body["drop"].present());
  EXPECT_TRUE(body["stream_options"]["include_usage"].as_bool());
  EXPECT_EQ(doc->root()["model"], "alias");
  std::vector<std::string> keys;
  for (auto [k, v] : body.view().items()) keys.emplace_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"messages", "stream", "model", "stream_options"}));
  EXPECT_EQ(body.view().size(), 4u);
  EXPECT_EQ(json::parse(body.serialize()), body.to_json());
  // A copy changes on its own (an attempt's parameter policy).
  RequestBody attempt = body;
  attempt.erase("stream");
  EXPECT_FALSE(attempt["stream"].present());
  EXPECT_TRUE(body["stream"].as_bool());
}

TEST(RequestBody, UnchangedBodyIsForwardedByteForByte) {
  const std::string text = R"({"model":"m","messages":[],"temperature":0.70})";
  RequestBody body(parse_ok(text));
  EXPECT_EQ(body.serialize(), text);
  EXPECT_EQ(body.member_bytes("temperature"), 4u);
}

TEST(RequestBody, GatewayBuiltBodies) {
  RequestBody body(json{{"model", "m"}, {"max_tokens", 5}});
  body.set("max_tokens", 7);
  EXPECT_EQ(body["max_tokens"].as_int64(), 7);
  EXPECT_EQ(json::parse(body.serialize()), (json{{"model", "m"}, {"max_tokens", 7}}));
  RequestBody array(json::array({1, 2}));
  array.set("x", 1);  // not an object: ignored
  EXPECT_EQ(array.serialize(), "[1,2]");
}

}  // namespace
}  // namespace tollgate
