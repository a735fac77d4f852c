#include "accounting/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tollgate {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool value() {
    // Iterative: an open container is one byte on `open`, so nesting costs
    // no stack however deep it goes.
    std::string open;
    for (;;) {
      skip_space();
      if (at_end()) return false;
      const char c = s_[i_];
      bool closed_empty = false;
      if (c == '{' || c == '[') {
        ++i_;
        skip_space();
        if (!at_end() && s_[i_] == (c == '{' ? '}' : ']')) {
          ++i_;
          closed_empty = true;
        } else {
          open.push_back(c);
          if (c == '{' && !key()) return false;
          continue;  // the first member's value, or the first element
        }
      }
      if (!closed_empty && !scalar()) return false;
      // After a value: close containers, or go on to the next member.
      for (;;) {
        skip_space();
        if (open.empty()) return true;
        if (at_end()) return false;
        const char top = open.back();
        if (s_[i_] == ',') {
          ++i_;
          if (top == '{' && !key()) return false;
          break;
        }
        if (s_[i_] != (top == '{' ? '}' : ']')) return false;
        ++i_;
        open.pop_back();
      }
    }
  }

  bool string_array() {
    skip_space();
    if (at_end() || s_[i_] != '[') return false;
    ++i_;
    skip_space();
    if (!at_end() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      skip_space();
      if (at_end() || s_[i_] != '"' || !string()) return false;
      skip_space();
      if (at_end()) return false;
      if (s_[i_] == ']') {
        ++i_;
        return true;
      }
      if (s_[i_] != ',') return false;
      ++i_;
    }
  }

  void skip_space() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool at_end() const { return i_ >= s_.size(); }

 private:
  // "name" : (the value follows)
  bool key() {
    skip_space();
    if (at_end() || s_[i_] != '"' || !string()) return false;
    skip_space();
    if (at_end() || s_[i_] != ':') return false;
    ++i_;
    return true;
  }

  bool scalar() {
    switch (s_[i_]) {
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool digits() {
    const std::size_t start = i_;
    while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  bool number() {
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (at_end()) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else if (s_[i_] < '1' || s_[i_] > '9' || !digits()) {
      return false;
    }
    if (!at_end() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    bool exponent = false;
    if (!at_end() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      exponent = true;
      ++i_;
      if (!at_end() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    // Fewer than 309 digits and no exponent cannot reach DBL_MAX.
    if (!exponent && i_ - start < 300) return true;
    return finite_as_double(s_.substr(start, i_ - start));
  }

  // nlohmann::json refuses a number whose double is infinite ("number
  // overflow", 1e400 or 400 digits) and reads one too small for a double as
  // 0 or a subnormal; the stores read tags and metadata back with it.
  static bool finite_as_double(std::string_view token) {
    double d = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
    if (ec == std::errc() && end == token.data() + token.size()) return std::isfinite(d);
    // Out of range: too large, or too small (accepted). The sign of the
    // decimal exponent of the first significant digit tells which.
    std::size_t i = token[0] == '-' ? 1 : 0;
    int64_t magnitude = 0;
    std::size_t int_digits = 0;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i, ++int_digits;
    const bool int_zero = int_digits == 1 && token[i - 1] == '0';
    if (!int_zero) {
      magnitude = static_cast<int64_t>(int_digits) - 1;
    } else {
      magnitude = -1;
      if (i < token.size() && token[i] == '.') {
        std::size_t k = i + 1;
        while (k < token.size() && token[k] == '0') ++k;
        if (k == token.size() || token[k] < '1' || token[k] > '9') return true;  // zero
        magnitude = -static_cast<int64_t>(k - i);
      } else {
        return true;  // zero
      }
    }
    while (i < token.size() && token[i] != 'e' && token[i] != 'E') ++i;
    int64_t exp = 0;
    bool negative = false;
    if (i < token.size()) {
      ++i;
      if (token[i] == '+' || token[i] == '-') negative = token[i++] == '-';
      for (; i < token.size(); ++i) exp = std::min<int64_t>(exp * 10 + (token[i] - '0'), int64_t{1} << 40);
    }
    return magnitude + (negative ? -exp : exp) < 0;
  }

  // Four hex digits at i_ (after "\u"), as a code unit; -1 if they are not.
  long hex4() {
    if (s_.size() - i_ < 4) return -1;
    long v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_ + k];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    i_ += 4;
    return v;
  }

  bool string() {  // at the opening quote
    ++i_;
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const std::size_t n = utf8_sequence(s_.substr(i_));
        if (n == 0) return false;
        i_ += n;
        continue;
      }
      ++i_;
      if (c != '\\') continue;
      if (at_end()) return false;
      const char e = s_[i_++];
      if (e == 'u') {
        const long unit = hex4();
        if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff)) return false;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (s_.substr(i_, 2) != "\\u") return false;
          i_ += 2;
          const long low = hex4();
          if (low < 0xdc00 || low > 0xdfff) return false;
        }
      } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
        return false;
      }
    }
    return false;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::size_t utf8_sequence(std::string_view s) {
  auto byte = [&](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) { return byte(i) >= lo && byte(i) <= hi; };
  const unsigned c = byte(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

namespace {

// Appends the UTF-8 sequence that starts at s[i] (a byte above 0x7f), or
// U+FFFD when none does; returns how many bytes of s it took.
std::size_t append_non_ascii(std::string& out, std::string_view s, std::size_t i) {
  if (const std::size_t n = utf8_sequence(s.substr(i))) {
    out.append(s.data() + i, n);
    return n;
  }
  out.append("\xef\xbf\xbd");  // U+FFFD
  return 1;
}

}  // namespace

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  // Eight ASCII bytes at a time: spend rows are nearly all ASCII.
  for (uint64_t word; s.size() - i >= 8; i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ull) break;
  }
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else if (std::size_t n = utf8_sequence(s.substr(i))) {
      i += n;
    } else {
      return false;
    }
  }
  return true;
}

std::string to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      out.push_back(s[i++]);
    } else {
      i += append_non_ascii(out, s, i);
    }
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      std::size_t j = i + 1;
      while (j < s.size()) {
        const auto d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
    } else if (c < 0x80) {
      out.push_back('\\');
      switch (c) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '\n': out.push_back('n'); break;
        case '\r': out.push_back('r'); break;
        case '\t': out.push_back('t'); break;
        case '\b': out.push_back('b'); break;
        case '\f': out.push_back('f'); break;
        default: out.append("u00"), out.push_back(kHex[c >> 4]), out.push_back(kHex[c & 15]);
      }
      ++i;
    } else {
      i += append_non_ascii(out, s, i);
    }
  }
  out.push_back('"');
}

bool is_json(std::string_view text) {
  Scanner s(text);
  if (!s.value()) return false;
  s.skip_space();
  return s.at_end();
}

bool is_json_string_array(std::string_view text) {
  if (text == "[]") return true;
  Scanner s(text);
  if (!s.string_array()) return false;
  s.skip_space();
  return s.at_end();
}

}  // namespace tollgate
