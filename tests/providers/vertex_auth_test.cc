// Vertex AI service-account auth: JWT assertion, token exchange against a
// fake token endpoint, caching and refresh on an injected clock.
#include "providers/gemini/vertex_auth.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "support/fake_upstream.h"
#include "support/service_account.h"

namespace tollgate::gemini {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::system_clock;
using test::FakeResponse;

const test::TestServiceAccount& account() {
  static const test::TestServiceAccount sa = test::make_test_service_account();
  return sa;
}

TEST(VertexAuth, Base64Url) {
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
}

TEST(VertexAuth, ServiceAccountParsingNamesMissingFieldsNeverValues) {
  auto ok = ServiceAccount::parse(account().json_text);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->client_email, account().client_email);
  EXPECT_EQ(ok->private_key_id, account().key_id);

  auto no_email = ServiceAccount::parse(json{{"private_key", account().private_pem}}.dump());
  ASSERT_FALSE(no_email.ok());
  EXPECT_NE(no_email.error().message.find("client_email"), std::string::npos);
  EXPECT_EQ(no_email.error().message.find("PRIVATE KEY"), std::string::npos);

  auto bad_key = ServiceAccount::parse(json{{"client_email", "a@b"}, {"private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n"}}.dump());
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().message.find("AAAA"), std::string::npos);
  EXPECT_FALSE(ServiceAccount::parse("not json").ok());
}

TEST(VertexAuth, AssertionIsAnRs256JwtVerifiableWithThePublicKey) {
  auto sa = ServiceAccount::parse(account().json_text);
  ASSERT_TRUE(sa.ok());
  const auto now = system_clock::time_point(std::chrono::seconds(1700000000));
  auto jwt = make_jwt_assertion(*sa, "https://oauth2.test/token", kCloudPlatformScope, now);
  ASSERT_TRUE(jwt.ok());
  auto decoded = test::verify_rs256_jwt(*jwt, account().public_pem);
  EXPECT_TRUE(decoded.signature_ok);
  EXPECT_EQ(decoded.header, json::parse(R"({"alg":"RS256","typ":"JWT","kid":"kid-0123456789"})"));
  EXPECT_EQ(decoded.claims, (json{{"iss", account().client_email}, {"scope", kCloudPlatformScope},
                                  {"aud", "https://oauth2.test/token"}, {"iat", 1700000000}, {"exp", 1700003600}}));
  // A tampered payload no longer verifies.
  std::string tampered = *jwt;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(test::verify_rs256_jwt(tampered, account().public_pem).signature_ok);
}

TEST(VertexAuth, TokenRequestBodyIsTheJwtBearerGrant) {
  const std::string body = token_request_body("a.b.c");
  EXPECT_EQ(test::form_value(body, "grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_EQ(test::form_value(body, "assertion"), "a.b.c");
}

// Runs the token source against a fake token endpoint on one io_context.
class TokenSourceTest : public ::testing::Test {
 protected:
  TokenSourceTest()
      : pool(ioc.get_executor(), nullptr),
        source(*ServiceAccount::parse(account().json_text), upstream.base_url() + "/token", [this] { return now; }) {}

  std::vector<Result<std::string>> tokens(int concurrent) {
    std::vector<Result<std::string>> out;
    for (int i = 0; i < concurrent; ++i) {
      asio::co_spawn(
          ioc,
          [this, &out]() -> asio::awaitable<void> {
            auto r = co_await source.token(pool);
            out.push_back(std::move(r));
          },
          [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
          });
    }
    ioc.restart();
    ioc.run();
    return out;
  }

  static FakeResponse token_response(const std::string& token, int expires_in = 3600) {
    return FakeResponse::json(200, {{"access_token", token}, {"expires_in", expires_in}, {"token_type", "Bearer"}});
  }

  test::FakeUpstream upstream;
  asio::io_context ioc;
  UpstreamPool pool;
  system_clock::time_point now = system_clock::time_point(std::chrono::seconds(1700000000));
  VertexTokenSource source;
};

TEST_F(TokenSourceTest, FetchesOnceCachesAndSendsAVerifiableAssertion) {
  upstream.enqueue(token_response("ya29.first"));
  auto first = tokens(1);
  ASSERT_TRUE(first[0].ok()) << first[0].error().message;
  EXPECT_EQ(*first[0], "ya29.first");
  now += std::chrono::minutes(30);
  auto second = tokens(1);
  ASSERT_TRUE(second[0].ok());
  EXPECT_EQ(*second[0], "ya29.first");
  EXPECT_EQ(source.fetches(), 1u);

  ASSERT_EQ(upstream.request_count(), 1u);
  auto req = upstream.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/token");
  EXPECT_EQ(req.header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(test::form_value(req.body, "grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
  auto jwt = test::verify_rs256_jwt(test::form_value(req.body, "assertion"), account().public_pem);
  EXPECT_TRUE(jwt.signature_ok);
  EXPECT_EQ(jwt.claims["aud"], upstream.base_url() + "/token");
  EXPECT_EQ(jwt.claims["iat"], 1700000000);
}

TEST_F(TokenSourceTest, RefreshesFiveMinutesBeforeExpiry) {
  upstream.enqueue(token_response("ya29.first"));
  upstream.enqueue(token_response("ya29.second"));
  ASSERT_TRUE(tokens(1)[0].ok());
  now += std::chrono::seconds(3600 - 301);
  EXPECT_EQ(*tokens(1)[0], "ya29.first");
  now += std::chrono::seconds(2);  // inside the 5-minute margin
  EXPECT_EQ(*tokens(1)[0], "ya29.second");
  EXPECT_EQ(source.fetches(), 2u);
  auto jwt = test::verify_rs256_jwt(test::form_value(upstream.requests()[1].body, "assertion"), account().public_pem);
  EXPECT_EQ(jwt.claims["iat"], 1700000000 + 3600 - 299);
}

TEST_F(TokenSourceTest, ShortLivedTokensRefreshAtHalfLife) {
  upstream.enqueue(token_response("short", 120));
  upstream.enqueue(token_response("next", 120));
  ASSERT_TRUE(tokens(1)[0].ok());
  now += std::chrono::seconds(59);
  EXPECT_EQ(*tokens(1)[0], "short");
  now += std::chrono::seconds(1);
  EXPECT_EQ(*tokens(1)[0], "next");
}

TEST_F(TokenSourceTest, ConcurrentCallersShareOneFetch) {
  upstream.enqueue(token_response("ya29.shared"));
  auto all = tokens(3);
  ASSERT_EQ(all.size(), 3u);
  for (auto& t : all) {
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t, "ya29.shared");
  }
  EXPECT_EQ(source.fetches(), 1u);
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(TokenSourceTest, InvalidateForcesANewFetch) {
  upstream.enqueue(token_response("one"));
  upstream.enqueue(token_response("two"));
  ASSERT_TRUE(tokens(1)[0].ok());
  source.invalidate();
  EXPECT_EQ(*tokens(1)[0], "two");
}

TEST_F(TokenSourceTest, RejectedAssertionIsA502WithTheOAuthCodeOnly) {
  upstream.enqueue(FakeResponse::json(400, {{"error", "invalid_grant"},
                                            {"error_description", "Invalid JWT Signature for tollgate-test@project-x"}}));
  auto r = tokens(1);
  ASSERT_FALSE(r[0].ok());
  EXPECT_EQ(r[0].error().status, 502);
  EXPECT_EQ(r[0].error().code, "upstream_auth_error");
  EXPECT_NE(r[0].error().message.find("invalid_grant"), std::string::npos);
  EXPECT_EQ(r[0].error().message.find("tollgate-test"), std::string::npos);
  // Nothing cached: the next call tries again.
  upstream.enqueue(token_response("ok"));
  EXPECT_EQ(*tokens(1)[0], "ok");
}

TEST_F(TokenSourceTest, AnswerWithoutTokenIsAnUpstreamError) {
  upstream.enqueue(FakeResponse::json(200, {{"token_type", "Bearer"}}));
  auto r = tokens(1);
  ASSERT_FALSE(r[0].ok());
  EXPECT_EQ(r[0].error().status, 502);
}

}  // namespace
}  // namespace tollgate::gemini
