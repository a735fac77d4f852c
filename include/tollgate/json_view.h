#pragma once
// A read-only view of one JSON value, wherever it lives: in a client or
// upstream body parsed once by parse_json (a simdjson tape, depth-limited),
// or in an nlohmann::json the gateway built itself (a translated request, a
// fixture in a test). Everything on the request path reads client JSON
// through this type, so nothing re-parses or copies it to look at it.
//
// Lookups never throw: a missing key, an index out of range or a value of
// another type gives an absent view (type() == Type::absent), and the typed
// getters return a neutral value (false, 0, "") for anything else than their
// type. Callers check the type first where it matters (validation does).
//
// A view is a small value (copy it freely). It is valid while the document
// or tree it points into lives and is not changed; it is not thread-safe
// beyond that (read-only use from several threads is fine).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include <nlohmann/json_fwd.hpp>

namespace tollgate {

class JsonPatch;

class JsonView {
 public:
  enum class Type : std::uint8_t { absent, null, boolean, integer, unsigned_integer, floating, string, array, object };

  JsonView() noexcept = default;  // absent
  // Views gateway-built JSON; implicit so that functions taking a view also
  // take an nlohmann::json (fixtures, translated requests).
  JsonView(const nlohmann::json& tree) noexcept;  // NOLINT(google-explicit-constructor)

  Type type() const noexcept;
  bool present() const noexcept { return type() != Type::absent; }
  explicit operator bool() const noexcept { return present(); }
  bool is_null() const noexcept { return type() == Type::null; }
  bool is_boolean() const noexcept { return type() == Type::boolean; }
  // Integers are "integer" in nlohmann's sense: signed or unsigned.
  bool is_number_integer() const noexcept {
    return type() == Type::integer || type() == Type::unsigned_integer;
  }
  bool is_number_unsigned() const noexcept { return type() == Type::unsigned_integer; }
  bool is_number_float() const noexcept { return type() == Type::floating; }
  bool is_number() const noexcept { return is_number_integer() || is_number_float(); }
  bool is_string() const noexcept { return type() == Type::string; }
  bool is_array() const noexcept { return type() == Type::array; }
  bool is_object() const noexcept { return type() == Type::object; }
  // "null", "a boolean", "a number", "a string", "an array", "an object" (for messages).
  const char* type_description() const noexcept;

  bool as_bool() const noexcept;            // false unless a boolean
  // Integers as int64 (unsigned ones above INT64_MAX saturate); floats
  // truncate toward zero, saturating; anything else 0.
  std::int64_t as_int64() const noexcept;
  double as_double() const noexcept;         // any number; else 0
  std::string_view as_string() const noexcept;  // "" unless a string
  std::string str() const { return std::string(as_string()); }

  // Object member by key (the first one; parse_json refuses duplicates) or
  // array element by index (O(n) on a tape).
  JsonView operator[](std::string_view key) const noexcept;
  JsonView operator[](const char* key) const noexcept { return (*this)[std::string_view(key)]; }
  JsonView at(std::size_t index) const noexcept;
  bool contains(std::string_view key) const noexcept { return (*this)[key].present(); }
  // Members of an object, elements of an array, else 0.
  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }

  // The member's value when present with the default's type, else the default.
  std::string value(std::string_view key, std::string_view fallback) const;
  std::string value(std::string_view key, const char* fallback) const { return value(key, std::string_view(fallback)); }
  bool value(std::string_view key, bool fallback) const noexcept;
  std::int64_t value(std::string_view key, std::int64_t fallback) const noexcept;
  std::int64_t value(std::string_view key, int fallback) const noexcept { return value(key, std::int64_t{fallback}); }
  double value(std::string_view key, double fallback) const noexcept;

  bool operator==(std::string_view s) const noexcept { return is_string() && as_string() == s; }
  bool operator==(const char* s) const noexcept { return *this == std::string_view(s); }

  // A copy as nlohmann::json, for translators that put client values into
  // what they build. Absent becomes null. Depth is bounded by the parser.
  nlohmann::json to_json() const;
  // Compact JSON text (absent: "null"). Invalid UTF-8 cannot occur in a
  // parsed tape; in a gateway-built tree it is replaced.
  std::string dump() const;
  void dump_to(std::string& out) const;

  // Iteration. Elements of an array (empty for anything else):
  //   for (JsonView item : view.elements()) ...
  // Members of an object (empty for anything else), in document order:
  //   for (auto [key, value] : view.items()) ...   or   m.key(), m.value()
  class Member;
  class Cursor;
  class Elements;
  class Items;
  Elements elements() const noexcept;
  Items items() const noexcept;

 private:
  friend class JsonDocument;
  friend class RequestBody;
  friend struct JsonTapeAccess;  // the parser (json_document.cc)
  enum class Backend : std::uint8_t { none, tape, tree };

  static JsonView from_tape(const void* element) noexcept;  // simdjson::dom::element*
  const void* tape() const noexcept { return storage_; }
  const nlohmann::json* tree() const noexcept;

  // A tape element (16 bytes: simdjson::dom::element) or a tree pointer.
  alignas(8) unsigned char storage_[16]{};
  const JsonPatch* patch_ = nullptr;  // top-level changes (a RequestBody's root only)
  Backend backend_ = Backend::none;
};

class JsonView::Member {
 public:
  Member(std::string_view key, JsonView value) : key_(key), value_(value) {}
  std::string_view key() const noexcept { return key_; }
  JsonView value() const noexcept { return value_; }
  template <std::size_t I>
  auto get() const noexcept {
    if constexpr (I == 0) return key_;
    else return value_;
  }

 private:
  std::string_view key_;
  JsonView value_;
};

// Iteration state over an array or object in either backend.
class JsonView::Cursor {
 public:
  bool operator!=(const Cursor& end) const noexcept { return !done_; }
  void operator++() noexcept { advance(); }

 protected:
  friend class JsonView;
  void advance() noexcept;
  void settle() noexcept;  // skips members a patch replaced or erased
  void current(std::string_view* key, JsonView* value) const noexcept;

  JsonView parent_;
  alignas(8) unsigned char state_[16]{};  // tape iterator, tree index or map iterator
  std::size_t patch_index_ = 0;            // members added by a patch come last
  bool in_patch_ = false;
  bool done_ = true;
};

class JsonView::Elements {
 public:
  class iterator : public Cursor {
   public:
    JsonView operator*() const noexcept {
      JsonView v;
      current(nullptr, &v);
      return v;
    }
  };
  iterator begin() const noexcept { return begin_; }
  iterator end() const noexcept { return {}; }

 private:
  friend class JsonView;
  iterator begin_;
};

class JsonView::Items {
 public:
  class iterator : public Cursor {
   public:
    Member operator*() const noexcept {
      std::string_view k;
      JsonView v;
      current(&k, &v);
      return Member(k, v);
    }
  };
  iterator begin() const noexcept { return begin_; }
  iterator end() const noexcept { return {}; }

 private:
  friend class JsonView;
  iterator begin_;
};

}  // namespace tollgate

template <>
struct std::tuple_size<tollgate::JsonView::Member> : std::integral_constant<std::size_t, 2> {};
template <>
struct std::tuple_element<0, tollgate::JsonView::Member> {
  using type = std::string_view;
};
template <>
struct std::tuple_element<1, tollgate::JsonView::Member> {
  using type = tollgate::JsonView;
};
