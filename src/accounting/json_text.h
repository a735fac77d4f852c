#pragma once
// JSON text without a tree: writing strings, and checking text the spool
// carries to the database. The checks accept exactly what
// nlohmann::json::accept does (RFC 8259; strings are UTF-8 and control
// characters escaped; a \u escape of a surrogate is a high one followed by
// a low one; no number whose double would be infinite), except a leading
// UTF-8 byte order mark (nlohmann skips it, PostgreSQL refuses it) and a
// NUL byte after the value (nlohmann reads it as the end of the text; a
// database would keep or cut what follows). They build no tree. Pure
// functions, thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace tollgate {

// Length of the well-formed UTF-8 sequence at the start of s (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF); 0 if there is none.
std::size_t utf8_sequence(std::string_view s);

// True when s is well-formed UTF-8 throughout (NUL included: it is UTF-8).
bool is_utf8(std::string_view s);
// s with each byte that starts no UTF-8 sequence replaced by U+FFFD.
std::string to_utf8(std::string_view s);

// Appends s as a JSON string: quotes, escapes, and U+FFFD for each byte
// that starts no UTF-8 sequence (JSON text must be UTF-8).
void append_json_string(std::string& out, std::string_view s);

// One JSON value, optionally surrounded by whitespace.
bool is_json(std::string_view text);
// A JSON array whose elements are strings ("[]" included).
bool is_json_string_array(std::string_view text);

}  // namespace tollgate
