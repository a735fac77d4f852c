#pragma once
// Typed reads from a YAML tree for the config loader. Every read substitutes
// environment references and records problems as "path: message" instead of
// throwing, so one pass reports every mistake. Private to src/config: nothing
// outside the loader sees a YAML::Node.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/env_substitution.h"

namespace tollgate::config_detail {

using Keys = std::initializer_list<std::string_view>;

template <class Range>
bool contains(const Range& items, std::string_view s) {
  return std::find(std::begin(items), std::end(items), s) != std::end(items);
}

// `s` in double quotes with quotes, backslashes and control characters escaped.
std::string quote(std::string_view s);
std::string lower(std::string_view s);
bool has_space_or_control(std::string_view s);
bool has_control(std::string_view s);
std::size_t edit_distance(std::string_view a, std::string_view b);

// ` (did you mean "x"?)` when a candidate is a likely typo of `s`, else "".
template <class Range>
std::string suggestion(std::string_view s, const Range& candidates) {
  std::string best;
  std::size_t best_distance = 3;
  const std::string a = lower(s);
  for (const auto& c : candidates) {
    const std::string_view candidate(c);
    const std::string b = lower(candidate);
    std::size_t d = edit_distance(a, b);
    // A suffix added or left off ("total" for "total_ms", "warning" for "warn") is as
    // likely as a typo.
    if (std::min(a.size(), b.size()) >= 4 && (a.starts_with(b) || b.starts_with(a))) {
      d = std::min<std::size_t>(d, 1);
    }
    if (d < best_distance && d < candidate.size()) {
      best = std::string(candidate);
      best_distance = d;
    }
  }
  return best.empty() ? "" : " (did you mean " + quote(best) + "?)";
}

// "a list", "a mapping", "a single value" or "nothing". Never the value itself,
// which may be a secret written inline.
std::string describe(const YAML::Node& n);

// A scalar after environment substitution.
struct Scalar {
  std::string value;
  std::string raw;  // as written in the file
  bool substituted = false;
  // What an error may print: a value from the environment may be a secret.
  std::string shown() const;
};

// The known keys of one YAML mapping, with the mapping's path. A key whose value
// is null (`tls:`) counts as absent.
class Fields {
 public:
  const std::string& path() const { return path_; }
  // The path of `key` inside this mapping.
  std::string at(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const YAML::Node* find(std::string_view key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The value, or a null node when absent.
  YAML::Node node(std::string_view key) const {
    const YAML::Node* n = find(key);
    return n == nullptr ? YAML::Node() : *n;
  }

 private:
  friend class YamlReader;
  std::string path_;
  std::map<std::string, YAML::Node, std::less<>> entries_;
};

// Collects errors and warnings while reading. Not thread-safe; one per load.
class YamlReader {
 public:
  // Relative file paths (read_file) are resolved against `base_dir`; empty
  // means the working directory.
  explicit YamlReader(std::filesystem::path base_dir, EnvLookup env = process_environment())
      : base_dir_(std::move(base_dir)), env_(std::move(env)) {}

  // Placeholders made by protect_env_references for this document.
  void set_env_references(std::vector<std::string> refs) { env_refs_ = std::move(refs); }

  const EnvLookup& env_lookup() const { return env_; }
  // A relative path resolved against the config file's directory.
  std::string resolve_path(const std::string& p) const {
    std::filesystem::path path(p);
    return path.is_relative() && !base_dir_.empty() ? (base_dir_ / path).lexically_normal().string() : p;
  }

  void error(const std::string& path, const std::string& msg);
  void warn(const std::string& path, const std::string& msg);
  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string> take_errors() { return std::move(errors_); }
  std::vector<std::string> take_warnings() { return std::move(warnings_); }

  // The mapping at `path`. A null node is an empty mapping; any other non-map is
  // an error. Keys outside `known`, duplicate keys and non-scalar keys are errors.
  Fields fields(const YAML::Node& node, std::string path, Keys known);
  // Items of the list under `key` with their paths (`key[i]`); absent: none.
  std::vector<std::pair<YAML::Node, std::string>> list(const Fields& f, std::string_view key);
  // A scalar with environment references substituted; nullopt (error recorded)
  // when `n` is not a scalar or a reference fails.
  std::optional<Scalar> scalar(const YAML::Node& n, const std::string& path,
                               std::string_view expected);

  // Each read_* leaves `out` untouched and returns false when the key is absent
  // or its value invalid (an error is then recorded).
  bool read_string(const Fields& f, std::string_view key, std::string& out);
  // Absent, null or empty is an error.
  bool read_required(const Fields& f, std::string_view key, std::string& out);
  // Required, without spaces or control characters (names appear in logs and metrics).
  bool read_name(const Fields& f, std::string_view key, std::string& out);
  template <class T>
  bool read_int(const Fields& f, std::string_view key, T& out, long long min,
                long long max = INT_MAX) {
    auto v = read_integer(f, key, min, max);
    if (v) out = static_cast<T>(*v);
    return v.has_value();
  }
  // Finite, and > 0 when `positive`, else >= 0.
  bool read_double(const Fields& f, std::string_view key, double& out, bool positive);
  bool read_bool(const Fields& f, std::string_view key, bool& out);
  // (value, path) pairs; non-string and empty items are errors and skipped.
  std::vector<std::pair<std::string, std::string>> read_string_list(const Fields& f,
                                                                    std::string_view key);
  // A mapping of names to strings ({region: eu}); names without '=', ',' or
  // control characters (they appear in "k=v,k2=v2" headers).
  bool read_string_map(const Fields& f, std::string_view key, std::map<std::string, std::string>& out);
  // Required; must name a readable regular file. `out` is the resolved path.
  bool read_file(const Fields& f, std::string_view key, std::string& out);

 private:
  std::optional<long long> read_integer(const Fields& f, std::string_view key, long long min,
                                        long long max);

  std::filesystem::path base_dir_;
  EnvLookup env_;
  std::vector<std::string> env_refs_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace tollgate::config_detail
