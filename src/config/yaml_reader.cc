#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

namespace tollgate::config_detail {

namespace fs = std::filesystem;

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

std::string Scalar::shown() const {
  return substituted ? quote(raw) + " (value from the environment not shown)" : quote(value);
}

void YamlReader::error(const std::string& path, const std::string& msg) {
  errors_.push_back(path.empty() ? msg : path + ": " + msg);
}

void YamlReader::warn(const std::string& path, const std::string& msg) {
  warnings_.push_back(path.empty() ? msg : path + ": " + msg);
}

Fields YamlReader::fields(const YAML::Node& node, std::string path, Keys known) {
  Fields f;
  f.path_ = std::move(path);
  if (!node.IsDefined() || node.IsNull()) return f;
  if (!node.IsMap()) {
    error(f.path_, "expected a mapping, got " + describe(node));
    return f;
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      error(f.path_, "expected a plain key, got " + describe(kv.first));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (!contains(known, key)) {
      error(f.at(key), "unknown key" + suggestion(key, known));
    } else if (!seen.insert(key).second) {
      error(f.at(key), "duplicate key");
    } else if (!kv.second.IsNull()) {
      f.entries_.emplace(key, kv.second);
    }
  }
  return f;
}

std::vector<std::pair<YAML::Node, std::string>> YamlReader::list(const Fields& f,
                                                                 std::string_view key) {
  std::vector<std::pair<YAML::Node, std::string>> out;
  const YAML::Node* n = f.find(key);
  if (n == nullptr) return out;
  if (!n->IsSequence()) {
    error(f.at(key), "expected a list, got " + describe(*n));
    return out;
  }
  for (std::size_t i = 0; i < n->size(); ++i) {
    out.emplace_back((*n)[i], f.at(key) + "[" + std::to_string(i) + "]");
  }
  return out;
}

std::optional<Scalar> YamlReader::scalar(const YAML::Node& n, const std::string& path,
                                         std::string_view expected) {
  if (!n.IsScalar()) {
    error(path, "expected " + std::string(expected) + ", got " + describe(n));
    return std::nullopt;
  }
  Scalar s;
  s.raw = restore_env_references(n.Scalar(), env_refs_);
  EnvSubstitution sub = substitute_env(s.raw, env_);
  for (const auto& e : sub.errors) error(path, e);
  if (!sub.errors.empty()) return std::nullopt;
  s.value = std::move(sub.value);
  s.substituted = sub.substituted;
  return s;
}

bool YamlReader::read_string(const Fields& f, std::string_view key, std::string& out) {
  const YAML::Node* n = f.find(key);
  if (n == nullptr) return false;
  auto s = scalar(*n, f.at(key), "a string");
  if (!s) return false;
  out = std::move(s->value);
  return true;
}

bool YamlReader::read_required(const Fields& f, std::string_view key, std::string& out) {
  if (!f.has(key)) {
    error(f.at(key), "required");
    return false;
  }
  if (!read_string(f, key, out)) return false;
  if (out.empty()) {
    error(f.at(key), "must not be empty");
    return false;
  }
  return true;
}

bool YamlReader::read_name(const Fields& f, std::string_view key, std::string& out) {
  std::string name;
  if (!read_required(f, key, name)) return false;
  if (has_space_or_control(name)) {
    error(f.at(key), "must not contain spaces or control characters, got " + quote(name));
    return false;
  }
  out = std::move(name);
  return true;
}

std::optional<long long> YamlReader::read_integer(const Fields& f, std::string_view key,
                                                  long long min, long long max) {
  const YAML::Node* n = f.find(key);
  if (n == nullptr) return std::nullopt;
  const std::string path = f.at(key);
  auto s = scalar(*n, path, "an integer");
  if (!s) return std::nullopt;
  std::string_view text = s->value;
  if (text.starts_with('+')) text.remove_prefix(1);
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const bool parsed = !text.empty() && end == text.data() + text.size();
  if (parsed && (ec == std::errc::result_out_of_range || v < min || v > max)) {
    const std::string bound =
        max == INT_MAX || max == LLONG_MAX
            ? ">= " + std::to_string(min)
            : "between " + std::to_string(min) + " and " + std::to_string(max);
    error(path, "must be " + bound + ", got " + s->shown());
    return std::nullopt;
  }
  if (!parsed || ec != std::errc()) {
    error(path, "expected an integer, got " + s->shown());
    return std::nullopt;
  }
  return v;
}

bool YamlReader::read_double(const Fields& f, std::string_view key, double& out, bool positive) {
  const YAML::Node* n = f.find(key);
  if (n == nullptr) return false;
  const std::string path = f.at(key);
  auto s = scalar(*n, path, "a number");
  if (!s) return false;
  std::string_view text = s->value;
  if (text.starts_with('+')) text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    error(path, "expected a number, got " + s->shown());
    return false;
  }
  if (positive ? v <= 0 : v < 0) {
    error(path, std::string(positive ? "must be > 0" : "must be >= 0") + ", got " + s->shown());
    return false;
  }
  out = v;
  return true;
}

bool YamlReader::read_bool(const Fields& f, std::string_view key, bool& out) {
  const YAML::Node* n = f.find(key);
  if (n == nullptr) return false;
  auto s = scalar(*n, f.at(key), "true or false");
  if (!s) return false;
  const std::string v = lower(s->value);
  if (v == "true" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "false" || v == "no" || v == "off") {
    out = false;
  } else {
    error(f.at(key), "expected true or false, got " + s->shown());
    return false;
  }
  return true;
}

// Pairs of (value, path) for a list of strings; invalid items are reported and skipped.
std::vector<std::pair<std::string, std::string>> YamlReader::read_string_list(
    const Fields& f, std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [node, path] : list(f, key)) {
    auto s = scalar(node, path, "a string");
    if (!s) continue;
    if (s->value.empty()) {
      error(path, "must not be empty");
      continue;
    }
    out.emplace_back(std::move(s->value), path);
  }
  return out;
}

// A path that must name a readable file; relative paths are taken from the config file's
// directory, so the daemon does not depend on its working directory.
bool YamlReader::read_file(const Fields& f, std::string_view key, std::string& out) {
  std::string name;
  if (!read_required(f, key, name)) return false;
  fs::path p(name);
  if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
  const std::string file = p.lexically_normal().string();
  std::error_code ec;
  const auto status = fs::status(file, ec);
  std::string why;
  if (!fs::exists(status)) {
    why = "no such file";
  } else if (fs::is_directory(status)) {
    why = "is a directory";
  } else {
    errno = 0;
    std::ifstream in(file);
    if (!in) why = errno != 0 ? std::strerror(errno) : "not readable";
  }
  if (!why.empty()) {
    // A path that came from the environment is named by its reference
    // (${VAR}), never by its value: the variable may hold a secret.
    const YAML::Node* n = f.find(key);
    const std::string raw = n && n->IsScalar() ? restore_env_references(n->Scalar(), env_refs_) : name;
    error(f.at(key), "cannot read " + (raw != name ? quote(raw) : quote(file)) + ": " + why);
    return false;
  }
  out = file;
  return true;
}

bool YamlReader::read_string_map(const Fields& f, std::string_view key, std::map<std::string, std::string>& out) {
  const YAML::Node* n = f.find(key);
  if (n == nullptr) return false;
  const std::string path = f.at(key);
  if (!n->IsMap()) {
    error(path, "expected a mapping of names to values (e.g. {region: eu}), got " + describe(*n));
    return false;
  }
  bool ok = true;
  for (const auto& kv : *n) {
    if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
      error(path, "names must be non-empty strings");
      ok = false;
      continue;
    }
    const std::string at = path + "." + kv.first.Scalar();
    auto v = scalar(kv.second, at, "a string");
    if (!v) {
      ok = false;
      continue;
    }
    if (has_control(kv.first.Scalar()) || has_control(v->value) || kv.first.Scalar().find_first_of("=,") != std::string::npos) {
      error(at, "names must not contain '=', ',' or control characters, values no control characters");
      ok = false;
      continue;
    }
    out[kv.first.Scalar()] = v->value;
  }
  return ok;
}

}  // namespace tollgate::config_detail
