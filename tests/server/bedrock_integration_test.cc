// Client -> gateway -> fake Bedrock Runtime speaking the native protocol:
// Converse JSON, ConverseStream binary event-stream frames, SigV4 checked on
// the fake's side by recomputing the signature from the recorded request.
#include "server/gateway_fixture.h"

#include "providers/bedrock/eventstream.h"
#include "providers/bedrock/sigv4.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

constexpr const char* kModel = "anthropic.claude-3-5-haiku-20241022-v1:0";
constexpr const char* kModelPath = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kEventStream = "application/vnd.amazon.eventstream";

class BedrockGatewayTest : public GatewayTest {
 protected:
  void start_bedrock(const std::string& auth = "", int retries = 0) {
    const std::string credentials =
        auth.empty() ? std::string("aws_access_key_id: AKIDEXAMPLE\n    aws_secret_access_key: \"") + kSecret +
                           "\"\n    aws_session_token: session-token-1"
                     : auth;
    start(R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - name: aws
    type: bedrock
    base_url: ")" + upstream.base_url() + R"("
    region: us-east-1
    )" + credentials + R"(
  - {name: local-mock, type: mock, mock: {chunks: 2}}
models:
  - name: claude
    deployments: [{provider: aws, model: ")" + kModel + R"("}]
  - name: claude-ha
    deployments: [{provider: aws, model: ")" + kModel + R"("}]
    fallbacks: [backup]
  - name: titan
    deployments: [{provider: aws, model: "amazon.titan-embed-text-v2:0"}]
  - name: cohere-embed
    deployments: [{provider: aws, model: "cohere.embed-english-v3"}]
  - name: backup
    deployments: [{provider: local-mock, model: mock-gpt}]
router: {circuit_breaker: {failures: 0}, retries: )" + std::to_string(retries) + R"(, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)");
  }

  static json chat(bool stream = false) {
    json b = {{"model", "claude"}, {"messages", json::array({{{"role", "system"}, {"content", "Be terse."}},
                                                             {{"role", "user"}, {"content", "Weather in Paris?"}}})}};
    if (stream) b["stream"] = true;
    return b;
  }

  // The fake's side of SigV4: the signature recomputed from what arrived.
  static void expect_valid_signature(const RecordedRequest& r) {
    const std::string auth = r.header("authorization");
    EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    EXPECT_NE(auth.find("/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="),
              std::string::npos)
        << auth;
    EXPECT_EQ(auth.find(kSecret), std::string::npos);
    EXPECT_EQ(r.header("x-amz-security-token"), "session-token-1");
    const std::string date = r.header("x-amz-date");
    ASSERT_EQ(date.size(), 16u) << date;
    EXPECT_NE(auth.find("Credential=AKIDEXAMPLE/" + date.substr(0, 8) + "/"), std::string::npos);
    sigv4::Request req{r.method, r.target,
                       {{"host", r.header("host")}, {"x-amz-date", date}, {"x-amz-security-token", r.header("x-amz-security-token")}},
                       r.body};
    const sigv4::Credentials creds{"AKIDEXAMPLE", kSecret, "session-token-1"};
    EXPECT_EQ(auth, sigv4::sign(req, creds, "us-east-1", "bedrock", date).authorization)
        << "the signature does not cover the bytes that arrived";
  }

  static std::string ev(const char* type, const json& payload) { return bedrock::encode_bedrock_event(type, payload.dump()); }
};

json converse_answer() {
  return json::parse(R"({"output":{"message":{"role":"assistant","content":[{"text":"18C and cloudy."}]}},
    "stopReason":"end_turn",
    "usage":{"inputTokens":100,"outputTokens":50,"totalTokens":150,"cacheReadInputTokens":1000,"cacheWriteInputTokens":200},
    "metrics":{"latencyMs":300}})");
}

TEST_F(BedrockGatewayTest, NonStreamingChatIsSignedTranslatedAndPriced) {
  start_bedrock();
  upstream.enqueue(FakeResponse::json(200, converse_answer()).header("x-amzn-RequestId", "aws-req-1"));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat());
  ASSERT_EQ(res.status, 200) << res.body;
  const json out = res.json();
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "18C and cloudy.");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":1300,"completion_tokens":50,"total_tokens":1350,
                                          "prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":200}})"));
  EXPECT_EQ(res.header("x-upstream-request-id"), "aws-req-1");
  // Haiku 3.5 on Bedrock: 100 fresh input at $0.80/M, 1000 cache reads at
  // $0.08/M, 200 cache writes at $1.00/M, 50 output at $4.00/M.
  EXPECT_NEAR(std::stod(res.header("x-tollgate-cost-usd")), 0.00056, 1e-12);

  ASSERT_EQ(upstream.request_count(), 1u);
  const auto up = upstream.requests()[0];
  EXPECT_EQ(up.method, "POST");
  EXPECT_EQ(up.target, std::string(kModelPath) + "/converse");
  EXPECT_EQ(up.header("content-type"), "application/json");
  expect_valid_signature(up);
  EXPECT_EQ(up.json(), json::parse(R"({"system":[{"text":"Be terse."}],
      "messages":[{"role":"user","content":[{"text":"Weather in Paris?"}]}],
      "inferenceConfig":{"maxTokens":8192}})"))
      << "maxTokens defaults to the model's output limit from the price table";
}

TEST_F(BedrockGatewayTest, SignatureFollowsTheBody) {
  start_bedrock();
  upstream.enqueue(FakeResponse::json(200, converse_answer()));
  upstream.enqueue(FakeResponse::json(200, converse_answer()));
  TestClient client(port);
  auto second = chat();
  second["messages"][1]["content"] = "Weather in Lyon?";
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat()).status, 200);
  ASSERT_EQ(client.post_json("/v1/chat/completions", second).status, 200);
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) expect_valid_signature(r);
  auto sig = [](const RecordedRequest& r) { return r.header("authorization").substr(r.header("authorization").rfind('=') + 1); };
  // Same second, different body: only the body can make them differ.
  if (reqs[0].header("x-amz-date") == reqs[1].header("x-amz-date")) {
    EXPECT_NE(sig(reqs[0]), sig(reqs[1]));
  }
}

TEST_F(BedrockGatewayTest, StreamingTextFromBinaryFramesSplitAcrossWrites) {
  start_bedrock();
  const std::string body = ev("messageStart", {{"role", "assistant"}}) +
                           ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hel"}}}}) +
                           ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "lo"}}}}) +
                           ev("contentBlockStop", {{"contentBlockIndex", 0}}) + ev("messageStop", {{"stopReason", "end_turn"}}) +
                           ev("metadata", {{"usage", {{"inputTokens", 12}, {"outputTokens", 2}, {"totalTokens", 14}}}, {"metrics", {{"latencyMs", 9}}}});
  auto script = FakeResponse::chunked(200, kEventStream);
  // Writes that cut frames anywhere: inside a prelude, a header, a payload.
  for (std::size_t at = 0; at < body.size(); at += 23) script.send(body.substr(at, 23));
  upstream.enqueue(script);
  TestClient client(port);
  auto req = chat(true);
  req["stream_options"] = {{"include_usage", true}};
  auto res = client.post_json("/v1/chat/completions", req);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 6u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(json::parse(events[3])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(events[4])["usage"], json::parse(R"({"prompt_tokens":12,"completion_tokens":2,"total_tokens":14})"));
  EXPECT_TRUE(json::parse(events[4])["choices"].empty());
  EXPECT_EQ(events[5], "[DONE]");

  const auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, std::string(kModelPath) + "/converse-stream");
  EXPECT_EQ(up.header("accept"), kEventStream);
  expect_valid_signature(up);
}

TEST_F(BedrockGatewayTest, StreamingToolCallsWithCacheUsage) {
  start_bedrock();
  const std::string body =
      ev("messageStart", {{"role", "assistant"}}) +
      ev("contentBlockStart", {{"contentBlockIndex", 0}, {"start", {{"toolUse", {{"toolUseId", "tooluse_a1"}, {"name", "get_weather"}}}}}}) +
      ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"toolUse", {{"input", "{\"city\":"}}}}}}) +
      ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"toolUse", {{"input", "\"Paris\"}"}}}}}}) +
      ev("contentBlockStop", {{"contentBlockIndex", 0}}) + ev("messageStop", {{"stopReason", "tool_use"}}) +
      ev("metadata", {{"usage", {{"inputTokens", 20}, {"outputTokens", 15}, {"cacheReadInputTokens", 300}, {"cacheWriteInputTokens", 0}}}});
  upstream.enqueue(FakeResponse::chunked(200, kEventStream).send(body));
  TestClient client(port);
  auto req = chat(true);
  req["stream_options"] = {{"include_usage", true}};
  req["tools"] = json::array({{{"type", "function"},
                               {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}}});
  req["tool_choice"] = "required";
  auto res = client.post_json("/v1/chat/completions", req);
  ASSERT_EQ(res.status, 200) << res.body;
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 7u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["tool_calls"],
            json::parse(R"([{"index":0,"id":"tooluse_a1","type":"function","function":{"name":"get_weather","arguments":""}}])"));
  EXPECT_EQ(json::parse(events[2])["choices"][0]["delta"]["tool_calls"], json::parse(R"([{"index":0,"function":{"arguments":"{\"city\":"}}])"));
  EXPECT_EQ(json::parse(events[3])["choices"][0]["delta"]["tool_calls"], json::parse(R"([{"index":0,"function":{"arguments":"\"Paris\"}"}}])"));
  EXPECT_EQ(json::parse(events[4])["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(json::parse(events[5])["usage"], json::parse(R"({"prompt_tokens":320,"completion_tokens":15,"total_tokens":335,
                                                             "prompt_tokens_details":{"cached_tokens":300}})"));
  EXPECT_EQ(events[6], "[DONE]");
  const json sent = upstream.requests()[0].json();
  EXPECT_EQ(sent["toolConfig"]["toolChoice"], json::parse(R"({"any":{}})"));
  EXPECT_EQ(sent["toolConfig"]["tools"][0]["toolSpec"]["name"], "get_weather");
}

TEST_F(BedrockGatewayTest, ExceptionFrameMidStreamEndsWithAnErrorEvent) {
  start_bedrock();
  auto script = FakeResponse::chunked(200, kEventStream);
  script.send(ev("messageStart", {{"role", "assistant"}}) + ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Par"}}}}));
  script.send(bedrock::encode_bedrock_exception("serviceUnavailableException", R"({"message":"Bedrock is unable to process your request."})"));
  upstream.enqueue(script);
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat(true));
  ASSERT_EQ(res.status, 200);
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 3u) << res.body;
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Par");
  const json err = json::parse(events[2]);
  EXPECT_EQ(err["error"]["code"], "service_unavailable");
  EXPECT_EQ(err["error"]["type"], "server_error");
  for (const auto& e : events) EXPECT_NE(e, "[DONE]");
  EXPECT_EQ(res.body.find("finish_reason\":\"stop"), std::string::npos) << "no fake finish";
}

TEST_F(BedrockGatewayTest, CorruptFrameCrcEndsWithAProtocolError) {
  start_bedrock();
  std::string bad = ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "lo"}}}});
  bad[bad.size() - 1] ^= 0x5a;
  upstream.enqueue(FakeResponse::chunked(200, kEventStream)
                       .send(ev("messageStart", {{"role", "assistant"}}) + ev("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hel"}}}}))
                       .send(bad)
                       .send(ev("messageStop", {{"stopReason", "end_turn"}})));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat(true));
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 3u) << res.body;
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(json::parse(events[2])["error"]["code"], "upstream_protocol_error");
}

struct ErrorCase {
  int status;
  const char* errortype;  // x-amzn-errortype; empty: only __type in the body
  const char* message;
  int client_status;
  const char* client_code;
};

TEST_F(BedrockGatewayTest, EachErrorClassMapsToTheOpenAiStatus) {
  start_bedrock();
  const ErrorCase cases[] = {
      {400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", "Malformed input request: extraneous key [foo]", 400, "upstream_bad_request"},
      {400, "ValidationException", "Input is too long for requested model.", 400, "context_length_exceeded"},
      {403, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/gw is not authorized", 502, "upstream_auth_error"},
      {403, "", "The security token included in the request is invalid.", 502, "upstream_auth_error"},
      {404, "ResourceNotFoundException", "Could not resolve the foundation model.", 502, "upstream_not_found"},
      {429, "ThrottlingException", "Too many requests, please wait before trying again.", 429, "rate_limit_exceeded"},
      {503, "ServiceUnavailableException", "Bedrock is unable to process your request.", 503, "service_unavailable"},
      {408, "ModelTimeoutException", "Model has timed out in processing the request.", 504, "upstream_timeout"},
      {500, "InternalServerException", "Internal server error", 502, "upstream_error"},
      {424, "ModelErrorException", "The model returned an error.", 502, "upstream_error"},
  };
  TestClient client(port);
  for (const auto& c : cases) {
    FakeResponse r = std::string(c.errortype).empty()
                         ? FakeResponse::json(c.status, {{"__type", "com.amazon.coral.service#UnrecognizedClientException"}, {"message", c.message}})
                         : FakeResponse::json(c.status, {{"message", c.message}}).header("x-amzn-ErrorType", c.errortype);
    if (c.status == 429) r.header("retry-after", "7");
    upstream.enqueue(r);
    const std::size_t before = upstream.request_count();
    auto res = client.post_json("/v1/chat/completions", chat());
    EXPECT_EQ(res.status, c.client_status) << c.errortype << " " << res.body;
    const json body = res.json();
    EXPECT_EQ(body["error"]["code"], c.client_code) << c.errortype << " " << res.body;
    for (const char* key : {"message", "type", "param", "code"}) EXPECT_TRUE(body["error"].contains(key)) << key;
    EXPECT_EQ(upstream.request_count(), before + 1) << "retries: 0";
    if (c.client_status == 502 && std::string(c.client_code) == "upstream_auth_error") {
      EXPECT_EQ(res.body.find("security token"), std::string::npos) << res.body;
      EXPECT_EQ(res.body.find("arn:aws"), std::string::npos) << res.body;
    }
    if (c.status == 429) {
      EXPECT_EQ(res.header("retry-after"), "7");
    }
    if (c.status == 503) {
      EXPECT_EQ(res.header("retry-after"), "1");
    }
  }
}

TEST_F(BedrockGatewayTest, ThrottlingIsRetriedAndMissingModelFailsOver) {
  start_bedrock("", /*retries=*/1);
  upstream.enqueue(FakeResponse::json(429, {{"message", "slow down"}}).header("x-amzn-ErrorType", "ThrottlingException").header("retry-after", "2"));
  upstream.enqueue(FakeResponse::json(200, converse_answer()));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(upstream.request_count(), 2u);
  ASSERT_FALSE(recorded_sleeps().empty());
  EXPECT_EQ(recorded_sleeps().back(), std::chrono::milliseconds(2000));

  upstream.set_default_response(FakeResponse::json(404, {{"message", "no such model"}}).header("x-amzn-ErrorType", "ResourceNotFoundException"));
  auto ha = chat();
  ha["model"] = "claude-ha";
  auto failed_over = client.post_json("/v1/chat/completions", ha);
  ASSERT_EQ(failed_over.status, 200) << failed_over.body;
  EXPECT_EQ(failed_over.json()["model"], "mock-gpt");

  upstream.set_default_response(FakeResponse::json(400, {{"message", "bad input"}}).header("x-amzn-ErrorType", "ValidationException"));
  const std::size_t before = upstream.request_count();
  auto client_error = client.post_json("/v1/chat/completions", ha);
  EXPECT_EQ(client_error.status, 400);
  EXPECT_EQ(upstream.request_count(), before + 1) << "a client error is neither retried nor failed over";
}

TEST_F(BedrockGatewayTest, UntranslatableRequestIsA400WithoutAnUpstreamCall) {
  start_bedrock();
  TestClient client(port);
  auto req = chat();
  req["messages"][1]["content"] = json::array({{{"type", "image_url"}, {"image_url", {{"url", "https://x.test/cat.png"}}}}});
  auto res = client.post_json("/v1/chat/completions", req);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["param"], "messages[1].content[0].image_url");
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(BedrockGatewayTest, TitanAndCohereEmbeddings) {
  start_bedrock();
  upstream.enqueue(FakeResponse::json(200, {{"embedding", {0.25, -0.5}}, {"inputTextTokenCount", 2}}));
  upstream.enqueue(FakeResponse::json(200, {{"id", "e1"}, {"embeddings", {{1.0, 0.0}, {0.0, 1.0}}}, {"response_type", "embeddings_floats"}}));
  TestClient client(port);

  auto titan = client.post_json("/v1/embeddings", {{"model", "titan"}, {"input", "hello"}, {"dimensions", 256}});
  ASSERT_EQ(titan.status, 200) << titan.body;
  EXPECT_EQ(titan.json()["data"][0]["embedding"], json::parse("[0.25,-0.5]"));
  EXPECT_EQ(titan.json()["usage"]["prompt_tokens"], 2);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/model/amazon.titan-embed-text-v2%3A0/invoke");
  EXPECT_EQ(up.json(), json::parse(R"({"inputText":"hello","dimensions":256})"));
  expect_valid_signature(up);

  auto cohere = client.post_json("/v1/embeddings", {{"model", "cohere-embed"}, {"input", {"a", "b"}}});
  ASSERT_EQ(cohere.status, 200) << cohere.body;
  ASSERT_EQ(cohere.json()["data"].size(), 2u);
  EXPECT_EQ(cohere.json()["data"][1]["embedding"], json::parse("[0.0,1.0]"));
  EXPECT_EQ(upstream.requests()[1].json(), json::parse(R"({"texts":["a","b"],"input_type":"search_document"})"));

  auto many = client.post_json("/v1/embeddings", {{"model", "titan"}, {"input", {"a", "b"}}});
  EXPECT_EQ(many.status, 400);
  EXPECT_EQ(upstream.request_count(), 2u);
}

TEST_F(BedrockGatewayTest, BedrockApiKeyIsSentAsBearerInsteadOfSigning) {
  start_bedrock("api_key: \"bedrock-api-key-123\"");
  upstream.enqueue(FakeResponse::json(200, converse_answer()));
  TestClient client(port);
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat()).status, 200);
  const auto up = upstream.requests()[0];
  EXPECT_EQ(up.header("authorization"), "Bearer bedrock-api-key-123");
  EXPECT_FALSE(up.has_header("x-amz-date"));
}

}  // namespace
}  // namespace tollgate::test
