#pragma once
// SHA-256 on the request path (every key is looked up by its digest). OpenSSL
// 3's one-shot SHA256() fetches the algorithm, allocates and takes locks on
// every call; this keeps the fetched algorithm and a context per thread.

#include <array>
#include <string>
#include <string_view>

namespace tollgate {

using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest sha256(std::string_view data);
// Lower-case hex of the digest (64 characters).
std::string sha256_hex_of(const Sha256Digest& digest);

}  // namespace tollgate
