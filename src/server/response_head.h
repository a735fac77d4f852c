#pragma once
// A response's status line and headers, serialised by hand into one string
// that goes out in the same write as the body: Beast's generic serializer
// costs more than the rest of a small response. Each name appears once; a
// later set() replaces an earlier value (case-insensitively), as
// http::fields::set does. Values are made safe with header_value() (no
// CR/LF/NUL, bounded), names are the gateway's own.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate {

class ResponseHead {
 public:
  explicit ResponseHead(int status) : status_(status) {}

  void set(std::string_view name, std::string_view value);

  // "HTTP/1.1 <status> <reason>\r\n<name>: <value>\r\n...\r\n", appended to `out`.
  void serialize_to(std::string& out) const;

 private:
  int status_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace tollgate
