// Native pass-through of the Anthropic Messages API, its pure parts: the
// request the Anthropic adapter builds from the client's body, and what the
// meter reads from the relayed stream (native_messages.h).
#include "providers/native_messages.h"

#include <gtest/gtest.h>

#include "providers/anthropic/anthropic_adapter.h"
#include "support/parsed_body.h"

namespace tollgate {
namespace {

using nlohmann::json;

ProviderConfig config() {
  ProviderConfig c;
  c.name = "claude-up";
  c.type = ProviderType::anthropic;
  c.base_url = "https://api.anthropic.com";
  c.api_key = "sk-ant-secret";
  c.api_version = "2023-06-01";
  c.headers = {{"anthropic-beta", "files-api-2025-04-14, effort-2025-11-24"}, {"x-team", "a"}};
  return c;
}

std::string header(const NativeRequest& r, const std::string& name) {
  std::string out;
  int n = 0;
  for (const auto& [k, v] : r.request.headers) {
    if (k == name) {
      out = v;
      ++n;
    }
  }
  EXPECT_LE(n, 1) << name;
  return out;
}

// The client's bytes, only the model spliced; key order and unknown
// members as the client wrote them.
constexpr const char* kClientBody =
    R"({"model":"sonnet", "max_tokens":100,"stream":true,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"hi"},)"
    R"({"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"sig=="},{"type":"text","text":"x"}]}],"future_field":{"a":1}})";

RequestContext messages_ctx(bool count_tokens = false) {
  RequestContext ctx;
  ctx.endpoint = Endpoint::chat_completions;
  ctx.stream = !count_tokens;
  ctx.anthropic_body = testing::parsed_body(std::string(kClientBody));
  ctx.anthropic_count_tokens = count_tokens;
  ctx.anthropic_version = "2023-06-01";
  ctx.anthropic_beta = "claude-code-20250219,effort-2025-11-24";
  return ctx;
}

TEST(NativeMessages, TheAdapterSendsTheClientsBodyWithOnlyTheModelChanged) {
  const auto c = config();
  AnthropicAdapter adapter(c);
  ASSERT_TRUE(adapter.accepts_native_messages());
  auto r = adapter.build_native_messages(messages_ctx(), {"claude-up", "claude-sonnet-4-5-20250929", 1});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->request.target, "/v1/messages");
  json expected = json::parse(kClientBody);
  expected["model"] = "claude-sonnet-4-5-20250929";
  EXPECT_EQ(json::parse(r->request.body), expected);
  // Every other member is the client's bytes, in its order.
  const std::string client = kClientBody;
  EXPECT_EQ(r->request.body.substr(r->request.body.find("\"max_tokens\"")), client.substr(client.find("\"max_tokens\"")));
  EXPECT_EQ(header(*r, "x-api-key"), "sk-ant-secret");
  EXPECT_EQ(header(*r, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*r, "accept"), "text/event-stream");
  // One header: the client's betas, then the configured ones it lacks.
  EXPECT_EQ(header(*r, "anthropic-beta"), "claude-code-20250219,effort-2025-11-24,files-api-2025-04-14");
  EXPECT_EQ(header(*r, "x-team"), "a");

  auto count = adapter.build_native_messages(messages_ctx(true), {"claude-up", "claude-sonnet-4-5-20250929", 1});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->request.target, "/v1/messages/count_tokens");
  EXPECT_EQ(header(*count, "accept"), "application/json");

  // No client version: the provider's.
  auto ctx = messages_ctx();
  ctx.anthropic_version.clear();
  ctx.anthropic_beta.clear();
  auto plain = adapter.build_native_messages(ctx, {"claude-up", "m", 1});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(header(*plain, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*plain, "anthropic-beta"), "files-api-2025-04-14,effort-2025-11-24");
}

SseEvent ev(std::string name, std::string data) { return SseEvent{std::move(name), std::move(data), {}}; }

TEST(NativeMessages, TheMeterReadsUsageFromMessageStartAndDelta) {
  NativeMessagesMeter meter;
  EXPECT_EQ(meter.usage().source, UsageSource::none);
  EXPECT_FALSE(meter.on_event(ev("message_start", R"({"type":"message_start","message":{"usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":20,"output_tokens":1}}})")));
  EXPECT_FALSE(meter.on_event(ev("ping", R"({"type":"ping"})")));
  EXPECT_FALSE(meter.on_event(ev("content_block_delta", "not even json: relayed as it is")));
  EXPECT_FALSE(meter.on_event(ev("message_delta", R"({"type":"message_delta","usage":{"output_tokens":40}})")));
  EXPECT_FALSE(meter.on_event(ev("message_delta", R"({"type":"message_delta","usage":{"output_tokens":50}})")));
  EXPECT_FALSE(meter.complete());
  EXPECT_FALSE(meter.on_event(ev("message_stop", R"({"type":"message_stop"})")));
  EXPECT_TRUE(meter.complete());
  const Usage u = meter.usage();
  EXPECT_EQ(u.prompt_tokens, 1120);
  EXPECT_EQ(u.cached_tokens, 1000);
  EXPECT_EQ(u.cache_write_tokens, 20);
  EXPECT_EQ(u.completion_tokens, 50);  // running totals, not summed
  EXPECT_EQ(u.source, UsageSource::provider_final);
}

TEST(NativeMessages, ErrorEventsAndMalformedUsageEndTheAttempt) {
  NativeMessagesMeter meter;
  auto e = meter.on_event(ev("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("Overloaded"), std::string::npos);
  EXPECT_TRUE(NativeMessagesMeter().on_event(ev("message_start", "{oops")));
  EXPECT_TRUE(NativeMessagesMeter().on_event(ev("message_delta", "[1]")));
  // Usage of an unexpected type reads as none, never throws.
  NativeMessagesMeter odd;
  EXPECT_FALSE(odd.on_event(ev("message_start", R"({"message":{"usage":"lots"}})")));
  EXPECT_FALSE(odd.on_event(ev("message_delta", R"({"usage":{"output_tokens":"many"}})")));
  EXPECT_GE(odd.usage().completion_tokens, 0);
}

TEST(NativeMessages, UsageOfAWholeMessage) {
  const Usage u = native_messages_usage(json::parse(
      R"({"type":"message","usage":{"input_tokens":7,"cache_read_input_tokens":3,"cache_creation_input_tokens":0,"output_tokens":5}})"));
  EXPECT_EQ(u.prompt_tokens, 10);
  EXPECT_EQ(u.cached_tokens, 3);
  EXPECT_EQ(u.completion_tokens, 5);
  EXPECT_EQ(native_messages_usage(json::parse(R"({"input_tokens":4242})")).source, UsageSource::none);
  EXPECT_EQ(native_messages_usage(json::array()).source, UsageSource::none);
}

}  // namespace
}  // namespace tollgate
