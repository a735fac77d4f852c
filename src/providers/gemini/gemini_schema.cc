#include "providers/gemini/gemini_schema.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::gemini {
namespace {

using nlohmann::json;

// Recursive $defs would otherwise expand forever; real tool schemas are far
// shallower than this.
constexpr int kMaxDepth = 24;

// Keywords of Gemini's Schema copied as they are (js-genai `Schema`).
const std::set<std::string>& plain_keywords() {
  static const std::set<std::string> keys = {"title",     "description", "minItems",      "maxItems",
                                             "minLength", "maxLength",   "pattern",       "minimum",
                                             "maximum",   "minProperties", "maxProperties", "example",
                                             "default",   "propertyOrdering"};
  return keys;
}

bool is_null_schema(JsonView s) { return s.is_object() && s["type"] == "null" && s.size() == 1; }

// The definition `ref` points to, or an absent view.
JsonView resolve_ref(std::string_view ref, JsonView root) {
  for (const std::string_view prefix : {"#/$defs/", "#/definitions/"}) {
    if (!ref.starts_with(prefix)) continue;
    const JsonView defs = root[prefix == "#/$defs/" ? "$defs" : "definitions"];
    return defs.is_object() ? defs[ref.substr(prefix.size())] : JsonView();
  }
  return {};
}

bool format_supported(const std::string& type, const std::string& format) {
  if (type == "string") return format == "enum" || format == "date-time";
  if (type == "integer") return format == "int32" || format == "int64";
  if (type == "number") return format == "float" || format == "double";
  return false;
}

// `type`, when present, stands in for the schema's own `type` and its
// `nullable` (one member of a type union).
json clean(JsonView s, JsonView root, int depth, JsonView type = {});

// Folds `alternatives` (anyOf/oneOf members) into `out`: null members set
// nullable; a single remaining member is merged in place.
void fold_alternatives(JsonView alternatives, JsonView root, int depth, json& out) {
  json kept = json::array();
  for (const JsonView alt : alternatives.elements()) {
    if (is_null_schema(alt)) {
      out["nullable"] = true;
    } else {
      kept.push_back(clean(alt, root, depth + 1));
    }
  }
  if (kept.size() == 1) {
    for (auto& [k, v] : kept[0].items()) {
      if (!out.contains(k)) out[k] = v;
    }
  } else if (!kept.empty()) {
    out["anyOf"] = std::move(kept);
  }
}

json clean(JsonView s, JsonView root, int depth, JsonView type_override) {
  if (!s.is_object()) return json::object();
  if (depth > kMaxDepth) return {{"type", "object"}};

  if (const JsonView ref = s["$ref"]; ref.is_string()) {
    const JsonView target = resolve_ref(ref.as_string(), root);
    if (!target.present()) return {{"type", "object"}};
    if (s.size() == 1) return clean(target, root, depth + 1);
    // Siblings such as description win over the definition's own: the
    // merged schema is a new one, built from copies of both.
    json merged = target.to_json();
    for (const auto [k, v] : s.items()) {
      if (k != "$ref") merged[std::string(k)] = v.to_json();
    }
    return clean(merged, root, depth + 1);
  }

  json out = json::object();
  std::string type;
  if (const JsonView t = type_override.present() ? type_override : s["type"]; t.is_string()) {
    type = t.str();
  } else if (t.is_array()) {
    std::vector<JsonView> alternatives;
    for (const JsonView one : t.elements()) {
      if (!one.is_string()) continue;
      if (one == "null") {
        out["nullable"] = true;
      } else {
        alternatives.push_back(one);
      }
    }
    if (alternatives.size() == 1) {
      type = alternatives[0].str();
    } else if (alternatives.size() > 1) {
      json any = json::array();
      for (const JsonView one : alternatives) any.push_back(clean(s, root, depth + 1, one));
      out["anyOf"] = std::move(any);
      if (const JsonView d = s["description"]; d.present()) out["description"] = d.to_json();
      return out;
    }
  }
  if (!type.empty() && type != "null") out["type"] = type;

  for (const std::string& k : plain_keywords()) {
    if (const JsonView v = s[k]; v.present()) out[k] = v.to_json();
  }
  if (!type_override.present() && s["nullable"].as_bool()) out["nullable"] = true;

  if (const JsonView c = s["const"]; c.is_string()) {
    out["enum"] = json::array({c.str()});
    if (type.empty()) out["type"] = "string";
  }
  if (const JsonView e = s["enum"]; e.is_array()) {
    bool strings = !e.empty();
    for (const JsonView v : e.elements()) strings = strings && (v.is_string() || v.is_null());
    if (strings) {
      json values = json::array();
      for (const JsonView v : e.elements()) {
        if (v.is_null()) {
          out["nullable"] = true;
        } else {
          values.push_back(v.str());
        }
      }
      out["enum"] = std::move(values);
      if (type.empty()) out["type"] = "string";
    }
  }
  if (const JsonView f = s["format"]; f.is_string() && format_supported(type, f.str())) out["format"] = f.str();

  if (const JsonView p = s["properties"]; p.is_object()) {
    json props = json::object();
    for (const auto [name, sub] : p.items()) props[std::string(name)] = clean(sub, root, depth + 1);
    if (const JsonView r = s["required"]; r.is_array()) {
      json required = json::array();
      for (const JsonView name : r.elements()) {
        if (name.is_string() && props.contains(name.as_string())) required.push_back(name.str());
      }
      if (!required.empty()) out["required"] = std::move(required);
    }
    out["properties"] = std::move(props);
    if (type.empty()) out["type"] = "object";
  }
  if (const JsonView items = s["items"]; items.present()) {
    if (items.is_object()) {
      out["items"] = clean(items, root, depth + 1);
    } else if (items.is_array() && !items.empty()) {
      out["items"] = clean(items.at(0), root, depth + 1);  // tuple forms have no counterpart
    }
    if (type.empty()) out["type"] = "array";
  }

  for (const char* key : {"anyOf", "oneOf"}) {
    if (const JsonView alts = s[key]; alts.is_array()) fold_alternatives(alts, root, depth, out);
  }
  if (const JsonView all = s["allOf"]; all.is_array()) {
    // Merged member by member: the common use is {allOf:[{$ref}]} plus a description.
    for (const JsonView member : all.elements()) {
      json m = clean(member, root, depth + 1);
      for (auto& [k, v] : m.items()) {
        if (k == "properties" && out.contains("properties")) {
          for (auto& [pk, pv] : v.items()) out["properties"][pk] = pv;
        } else if (k == "required" && out.contains("required")) {
          for (const auto& r : v) out["required"].push_back(r);
        } else if (!out.contains(k)) {
          out[k] = v;
        }
      }
    }
  }
  return out;
}

}  // namespace

json clean_schema(JsonView schema) { return clean(schema, schema, 0); }

bool is_empty_object_schema(JsonView schema) {
  if (!schema.is_object()) return true;
  if (schema.contains("anyOf")) return false;
  const JsonView t = schema["type"];
  const bool object = !t.present() || t == "object";
  if (!object) return false;
  const JsonView p = schema["properties"];
  return !p.is_object() || p.empty();
}

}  // namespace tollgate::gemini
