// AWS Signature Version 4 (wire formats §4.3, conformance T27), checked
// against AWS's published signature test suite.
#include "providers/bedrock/sigv4.h"

#include <gtest/gtest.h>

#include <map>

namespace tollgate::sigv4 {
namespace {

// The credentials and date of AWS's sigv4 test suite (aws-sig-v4-test-suite).
const Credentials kSuiteCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kSuiteDate = "20150830T123600Z";

Signature suite_sign(std::string_view method, std::string_view target, std::string_view body = {}) {
  Request r{method, target, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}}, body};
  return sign(r, kSuiteCreds, "us-east-1", "service", kSuiteDate);
}

TEST(BedrockSigV4, AwsSuiteGetVanilla) {
  auto s = suite_sign("GET", "/");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(BedrockSigV4, AwsSuiteQueryOrderAndPostVanilla) {
  // get-vanilla-query-order-key-case: parameters are sorted before signing.
  EXPECT_EQ(suite_sign("GET", "/?Param2=value2&Param1=value1").signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  // post-vanilla: an empty body hashes as the empty string.
  EXPECT_EQ(suite_sign("POST", "/").signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(BedrockSigV4, T27_ModelIdIsDoubleEncodedInTheCanonicalUri) {
  EXPECT_EQ(canonical_uri("/model/anthropic.claude-x-v1%3A0/converse"), "/model/anthropic.claude-x-v1%253A0/converse");
  EXPECT_EQ(canonical_uri("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse"),
            "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A1%253Ainference-profile%252Fus.x/converse");
  EXPECT_EQ(canonical_uri(""), "/");

  Request r{"POST", "/model/anthropic.claude-x-v1%3A0/converse",
            {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}, {"x-amz-date", "20250101T000000Z"}}, "{}"};
  auto s = sign(r, kSuiteCreds, "us-east-1", "bedrock", "20250101T000000Z");
  EXPECT_EQ(s.canonical_request,
            "POST\n/model/anthropic.claude-x-v1%253A0/converse\n\n"
            "host:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20250101T000000Z\n\n"
            "host;x-amz-date\n" + sha256_hex("{}"));
  EXPECT_EQ(s.string_to_sign, "AWS4-HMAC-SHA256\n20250101T000000Z\n20250101/us-east-1/bedrock/aws4_request\n" +
                                  sha256_hex(s.canonical_request));
}

TEST(BedrockSigV4, EncodingAndCanonicalQuery) {
  EXPECT_EQ(uri_encode("a-b_c.d~e f:g/h"), "a-b_c.d~e%20f%3Ag%2Fh");
  EXPECT_EQ(uri_encode("a/b", false), "a/b");
  EXPECT_EQ(uri_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(canonical_query("b=2&a=%3A&c"), "a=%3A&b=2&c=");
  EXPECT_EQ(canonical_query(""), "");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(BedrockSigV4, HeaderValuesAreTrimmedAndNamesSorted) {
  Request r{"GET", "/", {{"X-Amz-Date", kSuiteDate}, {"My-Header", "  a   b  "}, {"Host", "example.amazonaws.com"}}, ""};
  auto s = sign(r, kSuiteCreds, "us-east-1", "service", kSuiteDate);
  EXPECT_EQ(s.signed_headers, "host;my-header;x-amz-date");
  EXPECT_NE(s.canonical_request.find("my-header:a b\n"), std::string::npos);
}

TEST(BedrockSigV4, AmzDateIsUtc) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  EXPECT_EQ(amz_date(t), "20150830T123600Z");
}

TEST(BedrockSigV4, SignRequestAddsDateTokenAndAuthorization) {
  UpstreamRequest req;
  req.target = "/model/m%3A0/converse";
  req.body = R"({"messages":[]})";
  req.headers.emplace_back("content-type", "application/json");
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  const Credentials temp{"ASIAEXAMPLE", "secret", "session-token-value"};
  sign_request(req, "bedrock-runtime.eu-west-3.amazonaws.com", temp, "eu-west-3", "bedrock", t);

  std::map<std::string, std::string> h(req.headers.begin(), req.headers.end());
  EXPECT_EQ(h["x-amz-date"], "20150830T123600Z");
  EXPECT_EQ(h["x-amz-security-token"], "session-token-value");
  const std::string auth = h["authorization"];
  EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/eu-west-3/bedrock/aws4_request, "
                               "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="))
      << auth;
  EXPECT_EQ(auth.find("secret"), std::string::npos);

  // The same request signed by hand gives the same header.
  Request r{"POST", req.target,
            {{"host", "bedrock-runtime.eu-west-3.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"},
             {"x-amz-security-token", "session-token-value"}},
            req.body};
  EXPECT_EQ(auth, sign(r, temp, "eu-west-3", "bedrock", "20150830T123600Z").authorization);

  // Any change to the body changes the signature.
  UpstreamRequest other = req;
  other.headers.clear();
  other.body = R"({"messages":[1]})";
  sign_request(other, "bedrock-runtime.eu-west-3.amazonaws.com", temp, "eu-west-3", "bedrock", t);
  EXPECT_NE(other.headers.back().second, auth);
}

}  // namespace
}  // namespace tollgate::sigv4
