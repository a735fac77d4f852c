#include "support/service_account.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace tollgate::test {
namespace {

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string base64url_decode(std::string s) {
  for (auto& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4) s += '=';
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) return {};
  std::size_t pad = 0;
  for (auto it = s.rbegin(); it != s.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace

TestServiceAccount make_test_service_account() {
  TestServiceAccount sa;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  if (!key) throw std::runtime_error("RSA key generation failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub.get(), key.get());
  sa.private_pem = bio_string(priv.get());
  sa.public_pem = bio_string(pub.get());
  sa.json_text = nlohmann::json{{"type", "service_account"},
                                {"project_id", "project-x"},
                                {"private_key_id", sa.key_id},
                                {"private_key", sa.private_pem},
                                {"client_email", sa.client_email},
                                {"token_uri", "https://oauth2.googleapis.com/token"}}
                     .dump(2);
  char tmpl[] = "/tmp/tollgate-sa-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  sa.file = std::string(tmpl) + "/key.json";
  std::ofstream(sa.file) << sa.json_text;
  return sa;
}

DecodedJwt verify_rs256_jwt(const std::string& jwt, const std::string& public_pem) {
  DecodedJwt out;
  const auto dot1 = jwt.find('.');
  const auto dot2 = dot1 == std::string::npos ? std::string::npos : jwt.find('.', dot1 + 1);
  if (dot2 == std::string::npos) return out;
  out.header = nlohmann::json::parse(base64url_decode(jwt.substr(0, dot1)), nullptr, false);
  out.claims = nlohmann::json::parse(base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)), nullptr, false);
  const std::string signed_part = jwt.substr(0, dot2);
  const std::string sig = base64url_decode(jwt.substr(dot2 + 1));

  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return out;
  out.signature_ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                      reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
  return out;
}

std::string form_value(const std::string& body, const std::string& key) {
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      std::string raw = eq == std::string::npos ? "" : pair.substr(eq + 1), out;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '+') {
          out += ' ';
        } else if (raw[i] == '%' && i + 2 < raw.size()) {
          out += static_cast<char>(std::strtol(raw.substr(i + 1, 2).c_str(), nullptr, 16));
          i += 2;
        } else {
          out += raw[i];
        }
      }
      return out;
    }
    start = end + 1;
  }
  return {};
}

}  // namespace tollgate::test
