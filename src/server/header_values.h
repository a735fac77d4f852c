#pragma once
// Response header values that carry client or upstream text (notes naming a
// client's tool, an upstream's request id, rate-limit scopes) must never
// split a header or smuggle one: CR, LF, NUL and the other control bytes
// become spaces, and a value is cut at a length that no proxy refuses.

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace tollgate {

inline constexpr std::size_t kMaxHeaderValueBytes = 2048;

// `value` made safe for a header: control bytes (except tab) replaced by
// spaces, at most kMaxHeaderValueBytes bytes (cut at a UTF-8 boundary).
std::string header_value(std::string_view value);

// Sets `name` to header_value(value).
void set_header(boost::beast::http::fields& h, std::string_view name, std::string_view value);

}  // namespace tollgate
