#include "providers/param_policy.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <stdexcept>

#include "tollgate/embedded_data.h"

namespace tollgate {
namespace {

using nlohmann::json;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string_view last_segment(std::string_view model) {
  const auto slash = model.rfind('/');
  return slash == std::string_view::npos ? model : model.substr(slash + 1);
}

// null and false mean "not asked for": sending them on would be harmless to
// the client's intent, so they are removed without a note.
bool absent_value(JsonView v) { return v.is_null() || (v.is_boolean() && !v.as_bool()); }

struct Violation {
  std::string param;
  std::string why;
  // Above a maximum (n > 1): dropping it would silently change the shape of
  // the answer (fewer choices), so it is rejected under either policy.
  bool hard = false;
};

// What the rule objects to in `body`, in the table's order.
std::vector<Violation> violations(JsonView body, const ModelCapabilities& caps) {
  std::vector<Violation> out;
  for (const auto& p : caps.unsupported) {
    const JsonView v = body[p];
    if (v.present() && !absent_value(v)) out.push_back({p, "not supported by"});
  }
  for (const auto& [p, limit] : caps.max) {
    const JsonView v = body[p];
    if (v.is_number() && v.as_double() > limit) {
      out.push_back({p, "above the maximum supported by", true});
    }
  }
  return out;
}

void add_note(std::vector<std::string>& notes, std::string note) {
  if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(std::move(note));
}

std::vector<std::string> string_list(const json& rule, const char* key, std::size_t index) {
  std::vector<std::string> out;
  auto it = rule.find(key);
  if (it == rule.end()) return out;
  if (!it->is_array()) throw std::runtime_error("model capabilities: models[" + std::to_string(index) + "]." + key + ": expected an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) throw std::runtime_error("model capabilities: models[" + std::to_string(index) + "]." + key + ": expected strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: linear for one '*',
  // never exponential.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

ModelCapabilityTable ModelCapabilityTable::parse(std::string_view json_text) {
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("models") || !doc["models"].is_array()) {
    throw std::runtime_error("model capabilities: expected {\"models\": [...]}");
  }
  ModelCapabilityTable out;
  std::size_t i = 0;
  for (const auto& rule : doc["models"]) {
    const std::string where = "model capabilities: models[" + std::to_string(i) + "]";
    if (!rule.is_object()) throw std::runtime_error(where + ": expected an object");
    for (const auto& [key, v] : rule.items()) {
      if (key != "match" && key != "note" && key != "unsupported" && key != "max" && key != "rename") {
        throw std::runtime_error(where + ": unknown field \"" + key + "\"");
      }
    }
    ModelCapabilities caps;
    caps.match = string_list(rule, "match", i);
    if (caps.match.empty()) throw std::runtime_error(where + ".match: at least one pattern is required");
    caps.unsupported = string_list(rule, "unsupported", i);
    if (auto m = rule.find("max"); m != rule.end()) {
      if (!m->is_object()) throw std::runtime_error(where + ".max: expected an object of numbers");
      for (const auto& [k, v] : m->items()) {
        if (!v.is_number()) throw std::runtime_error(where + ".max." + k + ": expected a number");
        caps.max[k] = v.get<double>();
      }
    }
    if (auto r = rule.find("rename"); r != rule.end()) {
      if (!r->is_object()) throw std::runtime_error(where + ".rename: expected an object of strings");
      for (const auto& [k, v] : r->items()) {
        if (!v.is_string()) throw std::runtime_error(where + ".rename." + k + ": expected a string");
        caps.rename[k] = v.get<std::string>();
      }
    }
    out.rules_.push_back(std::move(caps));
    ++i;
  }
  return out;
}

const ModelCapabilityTable& ModelCapabilityTable::bundled() {
  static const ModelCapabilityTable table = parse(embedded::model_capabilities());
  return table;
}

namespace {
std::uint64_t next_serial() {
  static std::atomic<std::uint64_t> serials{0};
  return ++serials;
}
}  // namespace

ModelCapabilityTable::ModelCapabilityTable() : serial_(next_serial()) {}
ModelCapabilityTable::ModelCapabilityTable(const ModelCapabilityTable& other)
    : rules_(other.rules_), serial_(next_serial()) {}
ModelCapabilityTable::ModelCapabilityTable(ModelCapabilityTable&& other) noexcept
    : rules_(std::move(other.rules_)), serial_(next_serial()) {
  other.serial_ = next_serial();
}
ModelCapabilityTable& ModelCapabilityTable::operator=(const ModelCapabilityTable& other) {
  rules_ = other.rules_;
  serial_ = next_serial();
  return *this;
}
ModelCapabilityTable& ModelCapabilityTable::operator=(ModelCapabilityTable&& other) noexcept {
  rules_ = std::move(other.rules_);
  serial_ = next_serial();
  other.serial_ = next_serial();
  return *this;
}

const ModelCapabilities* ModelCapabilityTable::find(std::string_view model) const {
  struct Memo {
    std::uint64_t table = 0;
    std::string model;
    const ModelCapabilities* caps = nullptr;
  };
  static thread_local std::array<Memo, 8> memo;
  static thread_local std::size_t next = 0;
  for (const auto& m : memo) {
    if (m.table == serial_ && m.model == model) return m.caps;
  }
  const ModelCapabilities* found = scan(model);
  memo[next++ % memo.size()] = Memo{serial_, std::string(model), found};
  return found;
}

const ModelCapabilities* ModelCapabilityTable::scan(std::string_view model) const {
  const std::string_view tail = last_segment(model);
  for (const auto& rule : rules_) {
    for (const auto& pattern : rule.match) {
      if (glob_match(pattern, model) || glob_match(pattern, tail)) return &rule;
    }
  }
  return nullptr;
}

bool param_policy_applies(JsonView body, const std::string& model, const ModelCapabilityTable& table) {
  if (!body.is_object()) return false;
  const auto* caps = table.find(model);
  if (!caps) return false;
  for (const auto& [from, to] : caps->rename) {
    if (body.contains(from)) return true;
  }
  for (const auto& p : caps->unsupported) {
    if (body.contains(p)) return true;
  }
  for (const auto& [p, limit] : caps->max) {
    if (body.contains(p)) return true;
  }
  return false;
}

std::optional<ApiError> apply_param_policy(RequestBody& body, const std::string& model, ParamPolicy policy,
                                           std::vector<std::string>& notes, const ModelCapabilityTable& table) {
  if (!body.is_object()) return std::nullopt;
  const auto* caps = table.find(model);
  if (!caps) return std::nullopt;

  auto found = violations(body.view(), *caps);
  const bool any_hard = std::any_of(found.begin(), found.end(), [](const Violation& v) { return v.hard; });
  if (!found.empty() && (policy == ParamPolicy::reject || any_hard)) {
    if (policy != ParamPolicy::reject) {
      std::stable_partition(found.begin(), found.end(), [](const Violation& v) { return v.hard; });
      found.resize(static_cast<std::size_t>(
          std::count_if(found.begin(), found.end(), [](const Violation& v) { return v.hard; })));
    }
    const auto& first = found.front();
    std::string message = "Unsupported parameter: '" + first.param + "' is " + first.why + " model " + model + ".";
    if (found.size() > 1) {
      message += " Also unsupported:";
      for (std::size_t i = 1; i < found.size(); ++i) message += (i == 1 ? " '" : ", '") + found[i].param + "'";
      message += ".";
    }
    return ApiError::bad_request(std::move(message), first.param, "unsupported_parameter");
  }
  for (const auto& v : found) {
    body.erase(v.param);
    add_note(notes, "dropped " + v.param + " (" + v.why + " " + model + ")");
  }
  for (const auto& p : caps->unsupported) {
    if (const JsonView v = body[p]; v.present() && absent_value(v)) body.erase(p);
  }
  for (const auto& [from, to] : caps->rename) {
    const JsonView v = body[from];
    if (!v.present()) continue;
    json value = v.to_json();
    body.erase(from);
    if (!body.contains(to)) body.set(to, std::move(value));
    add_note(notes, "renamed " + from + " to " + to + " for " + model);
  }
  return std::nullopt;
}

std::optional<ApiError> apply_param_policy(RequestBody& body, const std::string& model, ParamPolicy policy,
                                           std::vector<std::string>& notes) {
  return apply_param_policy(body, model, policy, notes, ModelCapabilityTable::bundled());
}

}  // namespace tollgate
