#include "server/header_values.h"

namespace tollgate {

std::string header_value(std::string_view value) {
  std::size_t n = std::min(value.size(), kMaxHeaderValueBytes);
  // Do not cut a UTF-8 sequence in two.
  while (n < value.size() && n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  std::string out(value.substr(0, n));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) c = ' ';
  }
  return out;
}

void set_header(boost::beast::http::fields& h, std::string_view name, std::string_view value) {
  h.set(name, header_value(value));
}

}  // namespace tollgate
