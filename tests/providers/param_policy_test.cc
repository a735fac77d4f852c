// The per-model capability table (data/model_capabilities.json) and the
// drop/reject parameter policy.
#include "providers/param_policy.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tollgate {
namespace {

using nlohmann::json;

TEST(ParamPolicy, GlobMatching) {
  EXPECT_TRUE(glob_match("o1*", "o1"));
  EXPECT_TRUE(glob_match("o1*", "o1-mini-2024-09-12"));
  EXPECT_FALSE(glob_match("o1*", "gpt-4o1"));
  EXPECT_TRUE(glob_match("*anthropic.claude-*", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"));
  EXPECT_TRUE(glob_match("claude-?-haiku*", "Claude-3-Haiku-20240307")) << "case-insensitive";
  EXPECT_TRUE(glob_match("deepseek-reasoner", "deepseek-reasoner"));
  EXPECT_FALSE(glob_match("deepseek-reasoner", "deepseek-reasoner-x"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "a-xx-b-yy-c"));
  EXPECT_FALSE(glob_match("a*b*c", "a-xx-b-yy-d"));
}

TEST(ParamPolicy, BundledTableKnowsTheFamilies) {
  const auto& table = ModelCapabilityTable::bundled();
  ASSERT_GT(table.size(), 0u);
  auto unsupported = [&](const std::string& model, const std::string& p) {
    const auto* caps = table.find(model);
    if (!caps) return false;
    return std::find(caps->unsupported.begin(), caps->unsupported.end(), p) != caps->unsupported.end();
  };
  for (const char* p : {"temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs"}) {
    EXPECT_TRUE(unsupported("o1-mini", p)) << p;
    EXPECT_TRUE(unsupported("o3-2025-04-16", p)) << p;
  }
  EXPECT_EQ(table.find("o4-mini")->rename.at("max_tokens"), "max_completion_tokens");
  for (const char* p : {"logit_bias", "logprobs", "presence_penalty", "frequency_penalty", "seed"}) {
    EXPECT_TRUE(unsupported("claude-sonnet-4-5", p)) << p;
    EXPECT_TRUE(unsupported("anthropic.claude-3-5-haiku-20241022-v1:0", p)) << p;
  }
  EXPECT_EQ(table.find("claude-3-opus")->max.at("n"), 1);
  EXPECT_TRUE(unsupported("gemini-2.0-flash", "logit_bias"));
  EXPECT_TRUE(unsupported("google/gemini-2.5-pro", "logit_bias")) << "the part after the last '/' matches too";
  EXPECT_TRUE(unsupported("deepseek-reasoner", "logprobs"));
  EXPECT_FALSE(unsupported("deepseek-reasoner", "temperature")) << "accepted and ignored";
  EXPECT_FALSE(unsupported("gpt-5-chat-latest", "temperature")) << "first matching rule wins";
  EXPECT_TRUE(unsupported("gpt-5-mini", "temperature"));
  EXPECT_EQ(table.find("gpt-4o"), nullptr);
  EXPECT_EQ(table.find("upstream-model"), nullptr);
}

TEST(ParamPolicy, DropRemovesAndNotes) {
  RequestBody body = json{{"model", "x"}, {"temperature", 0.2}, {"top_p", 0.9}, {"max_tokens", 100}, {"messages", json::array()}};
  std::vector<std::string> notes;
  auto err = apply_param_policy(body, "o1-mini", ParamPolicy::drop, notes);
  ASSERT_FALSE(err);
  EXPECT_EQ(body.to_json(), json({{"model", "x"}, {"max_completion_tokens", 100}, {"messages", json::array()}}));
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped temperature (not supported by o1-mini)",
                                             "dropped top_p (not supported by o1-mini)",
                                             "renamed max_tokens to max_completion_tokens for o1-mini"}));
  // A second attempt does not repeat notes.
  RequestBody again = json{{"temperature", 1}};
  apply_param_policy(again, "o1-mini", ParamPolicy::drop, notes);
  EXPECT_EQ(notes.size(), 3u);
}

TEST(ParamPolicy, RejectNamesTheFirstParameterAndLeavesTheBody) {
  RequestBody body = json{{"model", "x"}, {"logprobs", true}, {"seed", 3}, {"n", 2}};
  const json original = body.to_json();
  std::vector<std::string> notes;
  auto err = apply_param_policy(body, "claude-3-5-sonnet-20241022", ParamPolicy::reject, notes);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 400);
  EXPECT_EQ(err->type, "invalid_request_error");
  EXPECT_EQ(err->code, "unsupported_parameter");
  EXPECT_EQ(err->param, "logprobs");
  EXPECT_NE(err->message.find("'logprobs'"), std::string::npos);
  EXPECT_NE(err->message.find("'seed'"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("'n'"), std::string::npos) << err->message;
  EXPECT_EQ(body.to_json(), original);
  EXPECT_TRUE(notes.empty());
}

TEST(ParamPolicy, MaxValues) {
  std::vector<std::string> notes;
  RequestBody one = json{{"n", 1}};
  EXPECT_FALSE(apply_param_policy(one, "claude-3-haiku", ParamPolicy::reject, notes));
  EXPECT_EQ(one["n"].as_int64(), 1);
  RequestBody two = json{{"n", 2}};
  auto err = apply_param_policy(two, "claude-3-haiku", ParamPolicy::reject, notes);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->param, "n");
  // Dropping n would silently return fewer choices: rejected under drop too.
  auto dropped = apply_param_policy(two, "claude-3-haiku", ParamPolicy::drop, notes);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->status, 400);
  EXPECT_EQ(dropped->param, "n");
  EXPECT_EQ(two["n"].as_int64(), 2);
}

TEST(ParamPolicy, NullAndFalseAskForNothing) {
  RequestBody body = json{{"logprobs", false}, {"temperature", nullptr}, {"seed", nullptr}};
  std::vector<std::string> notes;
  EXPECT_FALSE(apply_param_policy(body, "claude-3-haiku", ParamPolicy::reject, notes));
  EXPECT_FALSE(body.contains("logprobs"));
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_TRUE(body.contains("temperature")) << "claude takes temperature";
  EXPECT_TRUE(notes.empty());
}

TEST(ParamPolicy, RenameKeepsAnExplicitNewName) {
  RequestBody body = json{{"max_tokens", 10}, {"max_completion_tokens", 99}};
  std::vector<std::string> notes;
  EXPECT_FALSE(apply_param_policy(body, "o3-mini", ParamPolicy::reject, notes));
  EXPECT_EQ(body.to_json(), json({{"max_completion_tokens", 99}}));
}

TEST(ParamPolicy, UnknownModelsAndAppliesCheck) {
  RequestBody body = json{{"temperature", 0.5}, {"logit_bias", {{"1", 2}}}};
  const json original = body.to_json();
  std::vector<std::string> notes;
  EXPECT_FALSE(apply_param_policy(body, "gpt-4o-mini", ParamPolicy::reject, notes));
  EXPECT_EQ(body.to_json(), original);
  EXPECT_FALSE(param_policy_applies(body.view(), "gpt-4o-mini"));
  EXPECT_TRUE(param_policy_applies(body.view(), "o1"));
  EXPECT_FALSE(param_policy_applies(json{{"messages", json::array()}}, "o1")) << "nothing to change: no copy needed";
  EXPECT_TRUE(param_policy_applies(json{{"max_tokens", 5}}, "o1"));
}

TEST(ParamPolicy, TableParsingRejectsMistakes) {
  auto table = ModelCapabilityTable::parse(R"({"models":[{"match":["m-*"],"unsupported":["x"],"max":{"n":1},"rename":{"a":"b"}}]})");
  ASSERT_NE(table.find("m-1"), nullptr);
  RequestBody body = json{{"x", 1}, {"a", 2}};
  std::vector<std::string> notes;
  EXPECT_FALSE(apply_param_policy(body, "m-1", ParamPolicy::drop, notes, table));
  EXPECT_EQ(body.to_json(), json({{"b", 2}}));
  EXPECT_THROW(ModelCapabilityTable::parse("[]"), std::runtime_error);
  EXPECT_THROW(ModelCapabilityTable::parse(R"({"models":[{"unsupported":["x"]}]})"), std::runtime_error);
  EXPECT_THROW(ModelCapabilityTable::parse(R"({"models":[{"match":["a"],"unsuported":["x"]}]})"), std::runtime_error);
  EXPECT_THROW(ModelCapabilityTable::parse(R"({"models":[{"match":["a"],"max":{"n":"one"}}]})"), std::runtime_error);
}

}  // namespace
}  // namespace tollgate
