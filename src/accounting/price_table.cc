#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/embedded_data.h"
#include "tollgate/pricing.h"

namespace tollgate {
namespace {

using nlohmann::json;

// Collects every problem in a table, so an operator fixes a price file in one
// pass instead of one error per restart.
class Errors {
 public:
  explicit Errors(std::string_view source) : source_(source) {}
  void add(const std::string& where, const std::string& what) {
    lines_.push_back(source_ + ": " + where + (where.empty() ? "" : ": ") + what);
  }
  bool empty() const { return lines_.empty(); }
  std::string joined() const {
    std::string out;
    for (const auto& l : lines_) out += (out.empty() ? "" : "\n") + l;
    return out;
  }

 private:
  std::string source_;
  std::vector<std::string> lines_;
};

ApiError load_error(std::string message) {
  ApiError e;
  e.status = 500;
  e.type = "server_error";
  e.code = "price_table_invalid";
  e.message = std::move(message);
  return e;
}

std::string entry_path(const std::string& key) { return "models[" + json(key).dump() + "]"; }

std::optional<double> read_price(const json& entry, const char* field, const std::string& where,
                                 bool required, Errors& errors) {
  auto it = entry.find(field);
  if (it == entry.end() || (!required && it->is_null())) {
    if (required) errors.add(where + "." + field, "missing (USD per million tokens)");
    return std::nullopt;
  }
  if (!it->is_number() || it->get<double>() < 0) {
    errors.add(where + "." + field, "expected a non-negative number");
    return std::nullopt;
  }
  return it->get<double>();
}

std::optional<int64_t> read_limit(const json& entry, const char* field, const std::string& where,
                                  Errors& errors) {
  auto it = entry.find(field);
  if (it == entry.end() || it->is_null()) return std::nullopt;
  if ((it->is_number_unsigned() && it->get<uint64_t>() > 0 &&
       it->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) ||
      (it->is_number_integer() && it->get<int64_t>() > 0)) {
    return it->get<int64_t>();
  }
  errors.add(where + "." + field, "expected a positive integer");
  return std::nullopt;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// "gpt-4o-2024-08-06" -> "gpt-4o", "claude-3-5-haiku-20241022" -> "claude-3-5-haiku".
// Only full dates: shorter suffixes such as "-0125" or "-2411" are ambiguous
// and a dated snapshot can be priced differently from its alias.
std::string strip_date(const std::string& model) {
  std::string_view m = model;
  if (m.size() > 11) {
    auto s = m.substr(m.size() - 11);
    if (s[0] == '-' && s[5] == '-' && s[8] == '-' && s.substr(1, 2) == "20" &&
        all_digits(s.substr(1, 4)) && all_digits(s.substr(6, 2)) && all_digits(s.substr(9, 2))) {
      return std::string(m.substr(0, m.size() - 11));
    }
  }
  if (m.size() > 9) {
    auto s = m.substr(m.size() - 9);
    if (s[0] == '-' && s.substr(1, 2) == "20" && all_digits(s.substr(1))) {
      return std::string(m.substr(0, m.size() - 9));
    }
  }
  return model;
}

// Bedrock cross-region inference profiles prefix the model id with a
// geography: "us.anthropic.claude-3-5-sonnet-20241022-v2:0".
std::string strip_geo_prefix(const std::string& model) {
  static const char* const kPrefixes[] = {"us.", "eu.", "apac.", "global.", "us-gov.",
                                          "jp.", "au.", "ca."};
  for (const char* p : kPrefixes) {
    const std::size_t n = std::strlen(p);
    if (model.size() > n && model.compare(0, n, p) == 0 &&
        model.find('.', n) != std::string::npos) {
      return model.substr(n);
    }
  }
  return model;
}

}  // namespace

Result<std::shared_ptr<const PriceTable>> PriceTable::from_json(std::string_view text,
                                                                std::string_view source_name) {
  Errors errors(source_name);
  json doc;
  // JSON objects keep the last of two equal keys; in a price file that would
  // silently drop a price, so duplicates under "models" are errors.
  std::string top_key;
  std::set<std::string> seen;
  std::vector<std::string> duplicates;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key) {
      if (depth == 1) top_key = parsed.get<std::string>();
      if (depth == 2 && top_key == "models" && !seen.insert(parsed.get<std::string>()).second) {
        duplicates.push_back(parsed.get<std::string>());
      }
    }
    return true;
  };
  try {
    doc = json::parse(text, on_event);
  } catch (const json::parse_error& e) {
    errors.add("", std::string("not valid JSON: ") + e.what());
    return load_error(errors.joined());
  }
  if (!doc.is_object()) {
    errors.add("", "expected an object with a \"models\" object");
    return load_error(errors.joined());
  }
  for (const auto& [k, v] : doc.items()) {
    if (k == "models" || k == "as_of" || k.starts_with("_")) continue;
    if (k == "currency") {
      if (!v.is_string() || v.get<std::string>() != "USD") errors.add(k, "only \"USD\" is supported");
      continue;
    }
    errors.add(k, "unknown field");
  }
  auto models = doc.find("models");
  if (models == doc.end() || !models->is_object()) {
    errors.add("models", "expected an object of model id -> price");
    return load_error(errors.joined());
  }

  for (const auto& d : duplicates) errors.add(entry_path(d), "duplicate model id");

  auto table = std::make_shared<PriceTable>();
  std::vector<std::pair<std::string, std::string>> aliases;  // alias, key
  for (const auto& [key, entry] : models->items()) {
    const std::string where = entry_path(key);
    if (key.empty() || key.starts_with("_")) {
      if (key.empty()) errors.add(where, "empty model id");
      continue;
    }
    if (!entry.is_object()) {
      errors.add(where, "expected an object");
      continue;
    }
    for (const auto& [field, v] : entry.items()) {
      static const char* const kKnown[] = {
          "provider",          "input_per_million", "output_per_million",
          "cached_input_per_million", "cache_write_per_million", "max_output_tokens",
          "context_window",    "aliases",           "note"};
      const bool known = std::any_of(std::begin(kKnown), std::end(kKnown),
                                     [&field = field](const char* f) { return field == f; });
      if (!known && !field.starts_with("_")) errors.add(where, "unknown field \"" + field + "\"");
    }
    if (auto p = entry.find("provider"); p != entry.end() && !p->is_string()) {
      errors.add(where + ".provider", "expected a string");
    }
    if (auto n = entry.find("note"); n != entry.end() && !n->is_string()) {
      errors.add(where + ".note", "expected a string");
    }
    ModelPrice price;
    const auto input = read_price(entry, "input_per_million", where, true, errors);
    const auto output = read_price(entry, "output_per_million", where, true, errors);
    const auto cached = read_price(entry, "cached_input_per_million", where, false, errors);
    const auto write = read_price(entry, "cache_write_per_million", where, false, errors);
    price.input_per_million = input.value_or(0);
    price.output_per_million = output.value_or(0);
    price.cached_input_per_million = cached.value_or(price.input_per_million);
    price.cache_write_per_million = write.value_or(price.input_per_million);
    price.max_output_tokens = read_limit(entry, "max_output_tokens", where, errors);
    price.context_window = read_limit(entry, "context_window", where, errors);
    if (auto a = entry.find("aliases"); a != entry.end()) {
      if (!a->is_array()) {
        errors.add(where + ".aliases", "expected an array of model ids");
      } else {
        for (std::size_t i = 0; i < a->size(); ++i) {
          const auto& alias = (*a)[i];
          if (!alias.is_string() || alias.get<std::string>().empty()) {
            errors.add(where + ".aliases[" + std::to_string(i) + "]", "expected a model id");
          } else {
            aliases.emplace_back(alias.get<std::string>(), key);
          }
        }
      }
    }
    table->prices_.emplace(key, price);
  }
  for (const auto& [alias, key] : aliases) {
    const std::string where = entry_path(key) + ".aliases";
    if (table->prices_.count(alias)) {
      errors.add(where, "\"" + alias + "\" is also a model id");
    } else if (auto [it, inserted] = table->aliases_.emplace(alias, key); !inserted) {
      errors.add(where, "\"" + alias + "\" is already an alias of \"" + it->second + "\"");
    }
  }
  if (!errors.empty()) return load_error(errors.joined());
  return std::shared_ptr<const PriceTable>(std::move(table));
}

Result<std::shared_ptr<const PriceTable>> PriceTable::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return load_error(path + ": cannot open price file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return load_error(path + ": cannot read price file");
  return from_json(text.str(), path);
}

std::shared_ptr<const PriceTable> PriceTable::bundled() {
  static const std::shared_ptr<const PriceTable> table = [] {
    auto r = from_json(embedded::prices(), "data/prices.json (bundled)");
    if (!r) throw std::logic_error(r.error().message);
    return r.value();
  }();
  return table;
}

const ModelPrice* PriceTable::lookup(const std::string& key) const {
  if (auto it = prices_.find(key); it != prices_.end()) return &it->second;
  if (auto a = aliases_.find(key); a != aliases_.end()) {
    if (auto it = prices_.find(a->second); it != prices_.end()) return &it->second;
  }
  return nullptr;
}

std::optional<ModelPrice> PriceTable::find(const std::string& provider_type,
                                           const std::string& model) const {
  if (model.empty()) return std::nullopt;
  std::vector<std::string> ids = {model};
  if (auto d = strip_date(model); d != model) ids.push_back(d);
  if (auto g = strip_geo_prefix(model); g != model) ids.push_back(g);
  for (const auto& id : ids) {
    if (!provider_type.empty()) {
      if (const auto* p = lookup(provider_type + "/" + id)) return *p;
    }
    if (const auto* p = lookup(id)) return *p;
  }
  return std::nullopt;
}

ModelPrice price_from_config(const PriceConfig& p) {
  ModelPrice out;
  out.input_per_million = p.input_per_million;
  out.output_per_million = p.output_per_million;
  out.cached_input_per_million = p.cached_input_per_million.value_or(p.input_per_million);
  out.cache_write_per_million = p.input_per_million;
  return out;
}

double cost_usd(const Usage& usage, const ModelPrice& price) {
  const int64_t prompt = std::max<int64_t>(usage.prompt_tokens, 0);
  const int64_t completion = std::max<int64_t>(usage.completion_tokens, 0);
  const int64_t cached = std::clamp<int64_t>(usage.cached_tokens, 0, prompt);
  const int64_t write = std::clamp<int64_t>(usage.cache_write_tokens, 0, prompt - cached);
  const int64_t uncached = prompt - cached - write;
  // Sum token x price first and divide once, so round amounts stay exact
  // (e.g. 1,000 tokens at $2.50 is exactly $0.0025).
  const double usd_x_million = static_cast<double>(uncached) * price.input_per_million +
                       static_cast<double>(cached) * price.cached_input_per_million +
                       static_cast<double>(write) * price.cache_write_per_million +
                       static_cast<double>(completion) * price.output_per_million;
  return usd_x_million / 1e6;
}

}  // namespace tollgate
