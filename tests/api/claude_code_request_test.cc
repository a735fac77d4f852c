// The request Claude Code 2.1.337 really sent (tests/data, captured against a
// loopback recorder), translated for an OpenAI-shaped upstream as
// BodyParser translates it: parsed once, read through the tape.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "api/anthropic_messages_request.h"
#include "support/parsed_body.h"

namespace tollgate {
namespace {

using nlohmann::json;

json capture() {
  std::ifstream in(TOLLGATE_TEST_DATA_DIR "/claude_code_messages_request.json");
  EXPECT_TRUE(in) << "missing fixture";
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST(ClaudeCodeRequest, CapturedRequestTranslatesForOpenAIShapedUpstreams) {
  const json c = capture();
  ASSERT_EQ(c["url"], "/v1/messages?beta=true");
  const RequestBody body = testing::parsed_body(c["body"]);
  auto r = translate_messages_request(body.view(), MessagesCall::create);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json& up = r->body;
  EXPECT_EQ(up["model"], "gw-model");
  EXPECT_EQ(up["stream"], true);
  EXPECT_EQ(up["stream_options"], json({{"include_usage", true}}));
  // Adaptive thinking with effort high; 32000 as max_completion_tokens.
  EXPECT_EQ(up["reasoning_effort"], "high");
  EXPECT_EQ(up["max_completion_tokens"], 32000);
  EXPECT_FALSE(up.contains("max_tokens"));
  // Every one of Claude Code's tools, as function tools.
  ASSERT_EQ(up["tools"].size(), c["body"]["tools"].size());
  EXPECT_EQ(up["tools"][1]["function"]["name"], "Bash");
  EXPECT_EQ(up["tools"][1]["function"]["parameters"], c["body"]["tools"][1]["input_schema"]);
  // system prompt, user, the system turn in place, assistant (thinking
  // dropped, tool call kept), then the tool result.
  const json& m = up["messages"];
  ASSERT_EQ(m.size(), 5u) << m.dump().substr(0, 2000);
  EXPECT_EQ(m[0]["role"], "system");
  EXPECT_NE(m[0]["content"].get<std::string>().find("Claude Agent SDK"), std::string::npos);
  EXPECT_EQ(m[1]["role"], "user");
  EXPECT_EQ(m[2]["role"], "system");
  EXPECT_EQ(m[2]["content"].get<std::string>().rfind("# Environment", 0), 0u);
  EXPECT_EQ(m[3]["role"], "assistant");
  EXPECT_TRUE(m[3]["content"].is_null());
  EXPECT_EQ(m[3]["tool_calls"][0]["function"]["name"], "Bash");
  EXPECT_EQ(json::parse(m[3]["tool_calls"][0]["function"]["arguments"].get<std::string>())["command"], "echo hi > file.txt");
  EXPECT_EQ(m[4], json({{"role", "tool"}, {"tool_call_id", "toolu_01"}, {"content", "(Bash completed with no output)"}}));
  EXPECT_EQ(up.dump().find("signature"), std::string::npos);
  EXPECT_EQ(up.dump().find("cache_control"), std::string::npos);
  EXPECT_EQ(r->notes, std::vector<std::string>{"ignored context_management"});
}

}  // namespace
}  // namespace tollgate
