#pragma once
// A throw-away Google service-account key for Vertex AI tests, and the check
// a token endpoint makes on the JWT assertion signed with it.

#include <string>

#include <nlohmann/json.hpp>

namespace tollgate::test {

struct TestServiceAccount {
  std::string client_email = "tollgate-test@project-x.iam.gserviceaccount.com";
  std::string key_id = "kid-0123456789";
  std::string private_pem;
  std::string public_pem;
  std::string json_text;  // the key file's content
  std::string file;       // written to a fresh temporary directory
};

// A new 2048-bit RSA key, in Google's key-file JSON shape, written to disk.
TestServiceAccount make_test_service_account();

struct DecodedJwt {
  bool signature_ok = false;
  nlohmann::json header;
  nlohmann::json claims;
};

// Splits an RS256 JWT, decodes header and claims, and verifies the signature
// with `public_pem`.
DecodedJwt verify_rs256_jwt(const std::string& jwt, const std::string& public_pem);

// Value of `key` in an application/x-www-form-urlencoded body, decoded.
std::string form_value(const std::string& body, const std::string& key);

}  // namespace tollgate::test
