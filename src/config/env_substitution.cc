#include "config/env_substitution.h"

#include <cstdlib>

namespace tollgate {
namespace {

constexpr std::string_view kEnvironPrefix = "os.environ/";

bool is_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string not_set(std::string_view name) {
  return "environment variable \"" + std::string(name) + "\" is not set";
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvSubstitution substitute_env(std::string_view text, const EnvLookup& lookup) {
  EnvSubstitution out;
  if (text.starts_with(kEnvironPrefix)) {
    const std::string name(text.substr(kEnvironPrefix.size()));
    if (!is_name(name)) {
      out.errors.push_back("invalid environment variable name after \"os.environ/\"");
    } else if (auto v = lookup(name)) {
      out.value = std::move(*v);
      out.substituted = true;
    } else {
      out.errors.push_back(not_set(name));
    }
    return out;
  }

  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.value.append(text.substr(i));
      break;
    }
    out.value.append(text.substr(i, dollar - i));
    if (text.substr(dollar).starts_with("$${")) {
      out.value.append("${");
      i = dollar + 3;
      continue;
    }
    if (!text.substr(dollar).starts_with("${")) {
      out.value.push_back('$');
      i = dollar + 1;
      continue;
    }
    const std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      out.errors.push_back(
          "unterminated \"${\" (missing \"}\"; write \"$${\" for a literal \"${\")");
      break;
    }
    const std::string_view body = text.substr(dollar + 2, close - dollar - 2);
    const std::size_t sep = body.find(":-");
    const std::string_view name = body.substr(0, sep);
    i = close + 1;
    if (!is_name(name)) {
      out.errors.push_back("invalid environment reference \"${" + std::string(body) + "}\"");
      continue;
    }
    auto v = lookup(std::string(name));
    out.substituted = true;
    if (sep != std::string_view::npos && (!v || v->empty())) {
      out.value.append(body.substr(sep + 2));
    } else if (v) {
      out.value.append(*v);
    } else {
      out.errors.push_back(not_set(name));
    }
  }
  return out;
}

}  // namespace tollgate
