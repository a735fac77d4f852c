#include "server/request_id.h"

#include <random>

namespace tollgate {

std::string new_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string id = "req_";
  id.reserve(36);
  for (int w = 0; w < 2; ++w) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) {
      id += digits[v & 0xF];
      v >>= 4;
    }
  }
  return id;
}

}  // namespace tollgate
