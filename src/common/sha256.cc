#include "common/sha256.h"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace tollgate {
namespace {

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

const EVP_MD* algorithm() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) throw std::runtime_error("OpenSSL has no SHA-256");
  return md.get();
}

}  // namespace

Sha256Digest sha256(std::string_view data) {
  static thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  Sha256Digest out{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

std::string sha256_hex_of(const Sha256Digest& d) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(2 * d.size(), '0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  return out;
}

}  // namespace tollgate
