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

namespace {
constexpr std::string_view kPlaceholderOpen = "__tollgate_env_";
constexpr std::string_view kPlaceholderClose = "__";
}  // namespace

std::string protect_env_references(std::string_view yaml, std::vector<std::string>& refs) {
  std::string out;
  out.reserve(yaml.size());
  for (std::size_t i = 0; i < yaml.size();) {
    if (yaml.substr(i, 3) == "$${") {  // escaped literal, left for substitute_env
      out.append("$${");
      i += 3;
      continue;
    }
    if (yaml.substr(i, 2) == "${") {
      // Only a well-delimited reference is swapped; anything odd (quotes,
      // brackets, a line break before `}`) is left for YAML and
      // substitute_env to report.
      auto close = yaml.find_first_of("}\n\"'{[],", i + 2);
      if (close != std::string_view::npos && yaml[close] == '}') {
        out.append(kPlaceholderOpen).append(std::to_string(refs.size())).append(kPlaceholderClose);
        refs.emplace_back(yaml.substr(i, close + 1 - i));
        i = close + 1;
        continue;
      }
    }
    out.push_back(yaml[i++]);
  }
  return out;
}

std::string restore_env_references(std::string_view scalar, const std::vector<std::string>& refs) {
  if (refs.empty() || scalar.find(kPlaceholderOpen) == std::string_view::npos) return std::string(scalar);
  std::string out;
  for (std::size_t i = 0; i < scalar.size();) {
    if (scalar.substr(i, kPlaceholderOpen.size()) == kPlaceholderOpen) {
      std::size_t j = i + kPlaceholderOpen.size();
      std::size_t n = 0;
      bool digits = false;
      while (j < scalar.size() && scalar[j] >= '0' && scalar[j] <= '9') {
        n = n * 10 + static_cast<std::size_t>(scalar[j] - '0');
        ++j;
        digits = true;
      }
      if (digits && n < refs.size() && scalar.substr(j, kPlaceholderClose.size()) == kPlaceholderClose) {
        out.append(refs[n]);
        i = j + kPlaceholderClose.size();
        continue;
      }
    }
    out.push_back(scalar[i++]);
  }
  return out;
}

}  // namespace tollgate
