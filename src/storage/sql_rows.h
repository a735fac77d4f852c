#pragma once
// Building parameter lists and reading result rows for SqlStore. Internal to
// src/storage.

#include <charconv>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace tollgate::storage {

// "$1, $2, ..., $n" starting at first.
inline std::string placeholders(int first, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += "$" + std::to_string(first + i);
  }
  return s;
}

inline std::string double_text(double d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

class Params {
 public:
  std::vector<SqlParam> v;
  Params& text(std::string_view s) { v.emplace_back(std::string(s)); return *this; }
  Params& integer(int64_t i) { v.emplace_back(i); return *this; }
  Params& boolean(bool b) { v.emplace_back(int64_t{b ? 1 : 0}); return *this; }
  Params& time(TimePoint t) { v.emplace_back(format_time(t)); return *this; }
  Params& time(const std::optional<TimePoint>& t) {
    if (t) time(*t); else v.emplace_back(nullptr);
    return *this;
  }
  Params& integer(const std::optional<int64_t>& i) {
    if (i) v.emplace_back(*i); else v.emplace_back(nullptr);
    return *this;
  }
  Params& real(const std::optional<double>& d) {
    if (d) v.emplace_back(*d); else v.emplace_back(nullptr);
    return *this;
  }
  Params& json(const nlohmann::json& j) { v.emplace_back(j.dump()); return *this; }
  Params& json_or_null(const nlohmann::json& j) {
    if (j.is_null()) v.emplace_back(nullptr); else v.emplace_back(j.dump());
    return *this;
  }
  Params& raw(SqlParam p) { v.push_back(std::move(p)); return *this; }
  int next() const { return static_cast<int>(v.size()) + 1; }
};

class Cells {
 public:
  explicit Cells(const SqlRow& row) : row_(row) {}
  const SqlCell& cell() {
    if (i_ >= row_.size()) throw StoreError(StoreError::Kind::internal, "result has fewer columns than expected");
    return row_[i_++];
  }
  std::string text() { const auto& c = cell(); return c ? *c : std::string(); }
  int64_t integer() { const auto& c = cell(); return c ? std::stoll(*c) : 0; }
  std::optional<int64_t> opt_integer() {
    const auto& c = cell();
    return c ? std::optional<int64_t>(std::stoll(*c)) : std::nullopt;
  }
  std::optional<double> opt_real() {
    const auto& c = cell();
    return c ? std::optional<double>(std::stod(*c)) : std::nullopt;
  }
  bool boolean() {
    const auto& c = cell();
    return c && (*c == "t" || *c == "1" || *c == "true");
  }
  TimePoint time() { const auto& c = cell(); return c ? parse_time(*c) : TimePoint{}; }
  std::optional<TimePoint> opt_time() {
    const auto& c = cell();
    return c ? std::optional<TimePoint>(parse_time(*c)) : std::nullopt;
  }
  nlohmann::json json() {
    const auto& c = cell();
    return c ? nlohmann::json::parse(*c) : nlohmann::json();
  }
  std::vector<std::string> strings() {
    auto j = json();
    return j.is_array() ? j.get<std::vector<std::string>>() : std::vector<std::string>{};
  }
  template <class V>
  std::map<std::string, V> map() {
    auto j = json();
    return j.is_object() ? j.get<std::map<std::string, V>>() : std::map<std::string, V>{};
  }

 private:
  const SqlRow& row_;
  std::size_t i_ = 0;
};

}  // namespace tollgate::storage
