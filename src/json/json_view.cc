#include "tollgate/json_view.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "tollgate/json_patch.h"

namespace tollgate {

namespace dom = simdjson::dom;
using nlohmann::json;

namespace {

static_assert(sizeof(dom::element) <= 16 && std::is_trivially_copyable_v<dom::element>);
static_assert(sizeof(dom::array::iterator) <= 16 && std::is_trivially_copyable_v<dom::array::iterator>);
static_assert(sizeof(dom::object::iterator) <= 16 && std::is_trivially_copyable_v<dom::object::iterator>);
static_assert(sizeof(json::object_t::const_iterator) <= 16 &&
              std::is_trivially_copyable_v<json::object_t::const_iterator>);

template <class T>
T load(const unsigned char* storage) noexcept {
  T v;
  std::memcpy(static_cast<void*>(&v), storage, sizeof(T));
  return v;
}

template <class T>
void store(unsigned char* storage, const T& v) noexcept {
  std::memcpy(storage, static_cast<const void*>(&v), sizeof(T));
}

int64_t saturate(double d) noexcept {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

}  // namespace

JsonView::JsonView(const json& tree) noexcept : backend_(Backend::tree) {
  const json* p = &tree;
  store(storage_, p);
}

JsonView JsonView::from_tape(const void* element) noexcept {
  JsonView v;
  v.backend_ = Backend::tape;
  std::memcpy(v.storage_, element, sizeof(dom::element));
  return v;
}

const json* JsonView::tree() const noexcept { return load<const json*>(storage_); }

JsonView::Type JsonView::type() const noexcept {
  switch (backend_) {
    case Backend::none: return Type::absent;
    case Backend::tree:
      switch (tree()->type()) {
        case json::value_t::null: return Type::null;
        case json::value_t::boolean: return Type::boolean;
        case json::value_t::number_integer: return Type::integer;
        case json::value_t::number_unsigned: return Type::unsigned_integer;
        case json::value_t::number_float: return Type::floating;
        case json::value_t::string: return Type::string;
        case json::value_t::array: return Type::array;
        case json::value_t::object: return Type::object;
        default: return Type::absent;  // discarded, binary
      }
    case Backend::tape:
      switch (load<dom::element>(storage_).type()) {
        case dom::element_type::NULL_VALUE: return Type::null;
        case dom::element_type::BOOL: return Type::boolean;
        case dom::element_type::INT64: return Type::integer;
        case dom::element_type::UINT64: return Type::unsigned_integer;
        case dom::element_type::DOUBLE: return Type::floating;
        case dom::element_type::STRING: return Type::string;
        case dom::element_type::ARRAY: return Type::array;
        case dom::element_type::OBJECT: return Type::object;
      }
  }
  return Type::absent;
}

const char* JsonView::type_description() const noexcept {
  switch (type()) {
    case Type::absent: return "nothing";
    case Type::null: return "null";
    case Type::boolean: return "a boolean";
    case Type::integer:
    case Type::unsigned_integer:
    case Type::floating: return "a number";
    case Type::string: return "a string";
    case Type::array: return "an array";
    case Type::object: return "an object";
  }
  return "an unsupported value";
}

bool JsonView::as_bool() const noexcept {
  if (!is_boolean()) return false;
  if (backend_ == Backend::tree) return tree()->get<bool>();
  return load<dom::element>(storage_).get_bool().value_unsafe();
}

int64_t JsonView::as_int64() const noexcept {
  switch (type()) {
    case Type::integer:
      return backend_ == Backend::tree ? tree()->get<int64_t>() : load<dom::element>(storage_).get_int64().value_unsafe();
    case Type::unsigned_integer: {
      const uint64_t u = backend_ == Backend::tree ? tree()->get<uint64_t>()
                                                   : load<dom::element>(storage_).get_uint64().value_unsafe();
      return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                            : static_cast<int64_t>(u);
    }
    case Type::floating: return saturate(as_double());
    default: return 0;
  }
}

double JsonView::as_double() const noexcept {
  switch (type()) {
    case Type::integer:
    case Type::unsigned_integer:
    case Type::floating:
      if (backend_ == Backend::tree) return tree()->get<double>();
      return load<dom::element>(storage_).get_double().value_unsafe();
    default: return 0;
  }
}

std::string_view JsonView::as_string() const noexcept {
  if (!is_string()) return {};
  if (backend_ == Backend::tree) return tree()->get_ref<const std::string&>();
  return load<dom::element>(storage_).get_string().value_unsafe();
}

JsonView JsonView::operator[](std::string_view key) const noexcept {
  if (patch_) {
    if (const auto* change = patch_->find(key)) return change->value ? JsonView(*change->value) : JsonView();
  }
  if (backend_ == Backend::tree) {
    const json& t = *tree();
    if (!t.is_object()) return {};
    // Heterogeneous lookup is not available on nlohmann's map in 3.11.
    auto it = t.find(std::string(key));
    return it == t.end() ? JsonView() : JsonView(*it);
  }
  if (backend_ != Backend::tape) return {};
  const auto el = load<dom::element>(storage_);
  if (el.type() != dom::element_type::OBJECT) return {};
  dom::element found;
  if (el.get_object().value_unsafe().at_key(key).get(found) != simdjson::SUCCESS) return {};
  return from_tape(&found);
}

JsonView JsonView::at(std::size_t index) const noexcept {
  if (backend_ == Backend::tree) {
    const json& t = *tree();
    if (!t.is_array() || index >= t.size()) return {};
    return JsonView(t[index]);
  }
  if (backend_ != Backend::tape) return {};
  const auto el = load<dom::element>(storage_);
  if (el.type() != dom::element_type::ARRAY) return {};
  dom::element found;
  if (el.get_array().value_unsafe().at(index).get(found) != simdjson::SUCCESS) return {};
  return from_tape(&found);
}

std::size_t JsonView::size() const noexcept {
  if (patch_) {
    std::size_t n = 0;
    for (auto it = items().begin(); it != items().end(); ++it) ++n;
    return n;
  }
  if (backend_ == Backend::tree) {
    const json& t = *tree();
    return t.is_array() || t.is_object() ? t.size() : 0;
  }
  if (backend_ != Backend::tape) return 0;
  const auto el = load<dom::element>(storage_);
  if (el.type() == dom::element_type::ARRAY) return el.get_array().value_unsafe().size();
  if (el.type() == dom::element_type::OBJECT) return el.get_object().value_unsafe().size();
  return 0;
}

std::string JsonView::value(std::string_view key, std::string_view fallback) const {
  auto v = (*this)[key];
  return v.is_string() ? v.str() : std::string(fallback);
}

bool JsonView::value(std::string_view key, bool fallback) const noexcept {
  auto v = (*this)[key];
  return v.is_boolean() ? v.as_bool() : fallback;
}

int64_t JsonView::value(std::string_view key, int64_t fallback) const noexcept {
  auto v = (*this)[key];
  return v.is_number() ? v.as_int64() : fallback;
}

double JsonView::value(std::string_view key, double fallback) const noexcept {
  auto v = (*this)[key];
  return v.is_number() ? v.as_double() : fallback;
}

json JsonView::to_json() const {
  switch (type()) {
    case Type::absent:
    case Type::null: return nullptr;
    case Type::boolean: return as_bool();
    case Type::integer: return as_int64();
    case Type::unsigned_integer:
      return backend_ == Backend::tree ? tree()->get<uint64_t>() : load<dom::element>(storage_).get_uint64().value_unsafe();
    case Type::floating: return as_double();
    case Type::string: return str();
    case Type::array: {
      if (backend_ == Backend::tree) return *tree();
      json out = json::array();
      for (JsonView e : elements()) out.push_back(e.to_json());
      return out;
    }
    case Type::object: {
      if (backend_ == Backend::tree && !patch_) return *tree();
      json out = json::object();
      for (auto [k, v] : items()) out[std::string(k)] = v.to_json();
      return out;
    }
  }
  return nullptr;
}

void JsonView::dump_to(std::string& out) const {
  if (patch_ || backend_ == Backend::none) {
    out += to_json().dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  if (backend_ == Backend::tree) {
    out += tree()->dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += simdjson::to_string(load<dom::element>(storage_));
}

std::string JsonView::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

// Iteration. A cursor's state_ holds, for a tape, the simdjson iterator; for
// a tree array, the index; for a tree object, the map iterator.

JsonView::Elements JsonView::elements() const noexcept {
  Elements r;
  if (!is_array()) return r;
  r.begin_.parent_ = *this;
  r.begin_.parent_.patch_ = nullptr;
  if (backend_ == Backend::tape) {
    const auto arr = load<dom::element>(storage_).get_array().value_unsafe();
    auto it = arr.begin();
    store(r.begin_.state_, it);
    r.begin_.done_ = !(it != arr.end());
  } else {
    store(r.begin_.state_, std::size_t{0});
    r.begin_.done_ = tree()->empty();
  }
  return r;
}

JsonView::Items JsonView::items() const noexcept {
  Items r;
  if (!is_object()) return r;
  r.begin_.parent_ = *this;
  if (backend_ == Backend::tape) {
    const auto obj = load<dom::element>(storage_).get_object().value_unsafe();
    auto it = obj.begin();
    store(r.begin_.state_, it);
    r.begin_.done_ = !(it != obj.end());
  } else {
    const auto& map = tree()->get_ref<const json::object_t&>();
    auto it = map.cbegin();
    store(r.begin_.state_, it);
    r.begin_.done_ = it == map.cend();
  }
  if (r.begin_.done_ && patch_) {
    r.begin_.in_patch_ = true;
    r.begin_.done_ = false;
  }
  r.begin_.settle();
  return r;
}

void JsonView::Cursor::current(std::string_view* key, JsonView* value) const noexcept {
  if (in_patch_) {
    const auto& change = parent_.patch_->changes()[patch_index_];
    if (key) *key = change.key;
    if (value) *value = JsonView(*change.value);
    return;
  }
  if (parent_.backend_ == Backend::tape) {
    if (parent_.is_array()) {
      const auto it = load<dom::array::iterator>(state_);
      const dom::element e = *it;
      *value = JsonView::from_tape(&e);
    } else {
      const auto it = load<dom::object::iterator>(state_);
      if (key) *key = it.key();
      const dom::element e = it.value();
      *value = JsonView::from_tape(&e);
    }
    return;
  }
  const json& t = *parent_.tree();
  if (t.is_array()) {
    *value = JsonView(t[load<std::size_t>(state_)]);
  } else {
    const auto it = load<json::object_t::const_iterator>(state_);
    if (key) *key = it->first;
    *value = JsonView(it->second);
  }
}

void JsonView::Cursor::advance() noexcept {
  if (done_) return;
  if (in_patch_) {
    ++patch_index_;
    settle();
    return;
  }
  bool original_done = false;
  if (parent_.backend_ == Backend::tape) {
    const auto el = load<dom::element>(parent_.storage_);
    if (parent_.is_array()) {
      auto it = load<dom::array::iterator>(state_);
      ++it;
      store(state_, it);
      original_done = !(it != el.get_array().value_unsafe().end());
    } else {
      auto it = load<dom::object::iterator>(state_);
      ++it;
      store(state_, it);
      original_done = !(it != el.get_object().value_unsafe().end());
    }
  } else {
    const json& t = *parent_.tree();
    if (t.is_array()) {
      const auto i = load<std::size_t>(state_) + 1;
      store(state_, i);
      original_done = i >= t.size();
    } else {
      auto it = load<json::object_t::const_iterator>(state_);
      ++it;
      store(state_, it);
      original_done = it == t.get_ref<const json::object_t&>().cend();
    }
  }
  if (original_done) {
    if (parent_.patch_) {
      in_patch_ = true;
      patch_index_ = 0;
    } else {
      done_ = true;
      return;
    }
  }
  settle();
}

void JsonView::Cursor::settle() noexcept {
  if (done_ || !parent_.patch_) return;
  if (in_patch_) {
    const auto& changes = parent_.patch_->changes();
    while (patch_index_ < changes.size() && !changes[patch_index_].value) ++patch_index_;
    done_ = patch_index_ >= changes.size();
    return;
  }
  // An original member that the patch replaced or erased is skipped; the
  // replacement comes with the patch's members.
  std::string_view key;
  JsonView value;
  current(&key, &value);
  if (parent_.patch_->find(key)) advance();
}

}  // namespace tollgate
