#include "server/response_head.h"

#include <boost/beast/http/status.hpp>

#include "server/header_values.h"

namespace tollgate {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

void ResponseHead::set(std::string_view name, std::string_view value) {
  for (auto& [n, v] : fields_) {
    if (same_name(n, name)) {
      v = header_value(value);
      return;
    }
  }
  fields_.emplace_back(std::string(name), header_value(value));
}

void ResponseHead::serialize_to(std::string& out) const {
  const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status_));
  std::size_t size = 32 + reason.size();
  for (const auto& [n, v] : fields_) size += n.size() + v.size() + 4;
  out.reserve(out.size() + size);
  out += "HTTP/1.1 ";
  out += std::to_string(status_);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [n, v] : fields_) {
    out += n;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace tollgate
