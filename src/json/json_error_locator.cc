// The diagnostic pass: when the parser refuses a document, this validator
// walks the same bytes to say where and why. It runs only on the error path
// and is iterative (an explicit stack bounded by the depth limit), so a
// hostile document cannot exhaust the stack here either.

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "tollgate/json_document.h"

namespace tollgate {

namespace {

class Locator {
 public:
  Locator(std::string_view t, const JsonLimits& limits) : t_(t), limits_(limits) {}

  JsonError run() {
    skip_ws();
    if (p_ >= t_.size()) return fail("no JSON value");
    // One frame per open container; objects remember their keys.
    struct Frame {
      char kind;  // '{' or '['
      std::set<std::string> keys;
    };
    std::vector<Frame> stack;
    bool need_value = true;
    for (;;) {
      if (need_value) {
        skip_ws();
        if (p_ >= t_.size()) return fail("unexpected end of input");
        const char c = t_[p_];
        if (c != '{' && c != '[') {
          if (!scalar()) return error_;
          need_value = false;
          continue;
        }
        if (stack.size() + 1 > limits_.max_depth) {
          return fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
        }
        stack.push_back(Frame{c, {}});
        ++p_;
        skip_ws();
        if (p_ < t_.size() && t_[p_] == (c == '{' ? '}' : ']')) {
          ++p_;
          stack.pop_back();
          need_value = false;
        } else if (c == '{' && !member_key(stack.back().keys)) {
          return error_;
        }
        continue;
      }
      if (stack.empty()) break;
      skip_ws();
      if (p_ >= t_.size()) return fail("unexpected end of input");
      const char c = t_[p_];
      Frame& top = stack.back();
      if (c == ',') {
        ++p_;
        if (top.kind == '{' && !member_key(top.keys)) return error_;
        need_value = true;
        continue;
      }
      if ((top.kind == '{' && c == '}') || (top.kind == '[' && c == ']')) {
        ++p_;
        stack.pop_back();
        continue;
      }
      return fail(top.kind == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    skip_ws();
    if (p_ < t_.size()) return fail("unexpected data after the JSON value");
    return {};
  }

 private:
  JsonError fail(std::string reason) {
    error_.offset = p_;
    error_.reason = std::move(reason);
    return error_;
  }

  void skip_ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }

  // `"key" :` of an object member; records the key to find duplicates.
  bool member_key(std::set<std::string>& keys) {
    skip_ws();
    if (p_ >= t_.size() || t_[p_] != '"') {
      fail("expected a member name in double quotes");
      return false;
    }
    const std::size_t at = p_;
    std::string key;
    if (!string(&key)) return false;
    if (!keys.insert(key).second) {
      p_ = at;
      fail("duplicate key \"" + key.substr(0, 64) + "\"");
      return false;
    }
    skip_ws();
    if (p_ >= t_.size() || t_[p_] != ':') {
      fail("expected ':' after a member name");
      return false;
    }
    ++p_;
    return true;
  }

  bool scalar() {
    const char c = t_[p_];
    if (c == '"') return string(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (std::string_view word : {"true", "false", "null"}) {
      if (t_.substr(p_, word.size()) == word) {
        p_ += word.size();
        return true;
      }
    }
    fail("unexpected character");
    return false;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Four hex digits after "\u" at p_; -1 when malformed.
  long code_unit() {
    if (p_ + 4 > t_.size()) return -1;
    long v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(t_[p_ + i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  // One UTF-8 sequence starting at p_ (a byte >= 0x80), appended to out.
  bool utf8(std::string* out) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(t_[i]); };
    const unsigned char lead = b(p_);
    std::size_t n = 0;
    uint32_t cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      n = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      n = 3;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      n = 4;
      cp = lead & 0x07;
    } else {
      fail("invalid UTF-8");
      return false;
    }
    if (p_ + n > t_.size()) {
      fail("invalid UTF-8");
      return false;
    }
    for (std::size_t i = 1; i < n; ++i) {
      if ((b(p_ + i) & 0xC0) != 0x80) {
        fail("invalid UTF-8");
        return false;
      }
      cp = (cp << 6) | (b(p_ + i) & 0x3F);
    }
    const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      fail("invalid UTF-8");
      return false;
    }
    if (out) out->append(t_.substr(p_, n));
    p_ += n;
    return true;
  }

  bool string(std::string* out) {
    ++p_;  // the opening quote
    while (p_ < t_.size()) {
      const auto c = static_cast<unsigned char>(t_[p_]);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) {
        fail("control character in a string");
        return false;
      }
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        if (out) out->push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      const std::size_t at = p_;
      if (++p_ >= t_.size()) break;
      const char e = t_[p_++];
      if (e == 'u') {
        long unit = code_unit();
        if (unit < 0) {
          p_ = at;
          fail("malformed \\u escape");
          return false;
        }
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          long low = -1;
          if (p_ + 1 < t_.size() && t_[p_] == '\\' && t_[p_ + 1] == 'u') {
            p_ += 2;
            low = code_unit();
          }
          if (low < 0xDC00 || low > 0xDFFF) {
            p_ = at;
            fail("unpaired UTF-16 surrogate in a \\u escape");
            return false;
          }
          unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
          p_ = at;
          fail("unpaired UTF-16 surrogate in a \\u escape");
          return false;
        }
        if (out) append_utf8(*out, static_cast<uint32_t>(unit));
        continue;
      }
      static constexpr std::string_view simple = "\"\\/bfnrt";
      static constexpr std::string_view decoded = "\"\\/\b\f\n\r\t";
      const auto k = simple.find(e);
      if (k == std::string_view::npos) {
        p_ = at;
        fail("invalid escape in a string");
        return false;
      }
      if (out) out->push_back(decoded[k]);
    }
    fail("unterminated string");
    return false;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool digits() {
    const std::size_t start = p_;
    while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    return p_ > start;
  }

  bool number() {
    const std::size_t start = p_;
    const bool negative = t_[p_] == '-';
    if (negative) ++p_;
    if (p_ >= t_.size() || t_[p_] < '0' || t_[p_] > '9') return malformed_number(start);
    if (t_[p_] == '0') {
      ++p_;
      if (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') return malformed_number(start);
    } else {
      digits();
    }
    bool integer = true;
    if (p_ < t_.size() && t_[p_] == '.') {
      integer = false;
      ++p_;
      if (!digits()) return malformed_number(start);
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      integer = false;
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (!digits()) return malformed_number(start);
    }
    const std::string text(t_.substr(start, p_ - start));
    if (integer) {
      errno = 0;
      if (negative) {
        (void)std::strtoll(text.c_str(), nullptr, 10);
      } else {
        (void)std::strtoull(text.c_str(), nullptr, 10);
      }
      if (errno == ERANGE) return out_of_range(start);
      return true;
    }
    const double v = std::strtod(text.c_str(), nullptr);
    if (std::isinf(v)) return out_of_range(start);
    return true;
  }

  bool malformed_number(std::size_t start) {
    p_ = start;
    fail("malformed number");
    return false;
  }

  bool out_of_range(std::size_t start) {
    p_ = start;
    fail("number out of range");
    return false;
  }

  std::string_view t_;
  JsonLimits limits_;
  std::size_t p_ = 0;
  JsonError error_;
};

}  // namespace

JsonError locate_json_error(std::string_view text, const JsonLimits& limits) { return Locator(text, limits).run(); }

}  // namespace tollgate
