#include "providers/gemini/gemini_schema.h"

#include <set>
#include <string>

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

bool is_null_schema(const json& s) {
  return s.is_object() && s.contains("type") && s["type"] == "null" && s.size() == 1;
}

const json* resolve_ref(const std::string& ref, const json& root) {
  for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
    const std::string p = prefix;
    if (!ref.starts_with(p)) continue;
    const std::string name = ref.substr(p.size());
    const char* section = p == "#/$defs/" ? "$defs" : "definitions";
    auto defs = root.find(section);
    if (defs == root.end() || !defs->is_object()) return nullptr;
    auto it = defs->find(name);
    return it == defs->end() ? nullptr : &*it;
  }
  return nullptr;
}

bool format_supported(const std::string& type, const std::string& format) {
  if (type == "string") return format == "enum" || format == "date-time";
  if (type == "integer") return format == "int32" || format == "int64";
  if (type == "number") return format == "float" || format == "double";
  return false;
}

json clean(const json& s, const json& root, int depth);

// Folds `alternatives` (anyOf/oneOf members) into `out`: null members set
// nullable; a single remaining member is merged in place.
void fold_alternatives(const json& alternatives, const json& root, int depth, json& out) {
  json kept = json::array();
  for (const auto& alt : alternatives) {
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

json clean(const json& s, const json& root, int depth) {
  if (!s.is_object()) return json::object();
  if (depth > kMaxDepth) return {{"type", "object"}};

  if (auto ref = s.find("$ref"); ref != s.end() && ref->is_string()) {
    const json* target = resolve_ref(ref->get<std::string>(), root);
    if (!target) return {{"type", "object"}};
    json merged = *target;
    for (auto& [k, v] : s.items()) {
      if (k != "$ref") merged[k] = v;  // siblings such as description win
    }
    return clean(merged, root, depth + 1);
  }

  json out = json::object();
  std::string type;
  if (auto t = s.find("type"); t != s.end()) {
    if (t->is_string()) {
      type = t->get<std::string>();
    } else if (t->is_array()) {
      json alternatives = json::array();
      for (const auto& one : *t) {
        if (!one.is_string()) continue;
        if (one == "null") {
          out["nullable"] = true;
        } else {
          alternatives.push_back(one);
        }
      }
      if (alternatives.size() == 1) {
        type = alternatives[0].get<std::string>();
      } else if (alternatives.size() > 1) {
        json any = json::array();
        for (const auto& one : alternatives) {
          json member = s;
          member["type"] = one;
          member.erase("nullable");
          any.push_back(clean(member, root, depth + 1));
        }
        out["anyOf"] = std::move(any);
        if (auto d = s.find("description"); d != s.end()) out["description"] = *d;
        return out;
      }
    }
  }
  if (!type.empty() && type != "null") out["type"] = type;

  for (const auto& [k, v] : s.items()) {
    if (plain_keywords().count(k)) out[k] = v;
  }
  if (auto n = s.find("nullable"); n != s.end() && n->is_boolean() && n->get<bool>()) out["nullable"] = true;

  if (auto c = s.find("const"); c != s.end() && c->is_string()) {
    out["enum"] = json::array({*c});
    if (type.empty()) out["type"] = "string";
  }
  if (auto e = s.find("enum"); e != s.end() && e->is_array()) {
    bool strings = !e->empty();
    for (const auto& v : *e) strings = strings && (v.is_string() || v.is_null());
    if (strings) {
      json values = json::array();
      for (const auto& v : *e) {
        if (v.is_null()) {
          out["nullable"] = true;
        } else {
          values.push_back(v);
        }
      }
      out["enum"] = std::move(values);
      if (type.empty()) out["type"] = "string";
    }
  }
  if (auto f = s.find("format"); f != s.end() && f->is_string() && format_supported(type, f->get<std::string>())) {
    out["format"] = *f;
  }

  if (auto p = s.find("properties"); p != s.end() && p->is_object()) {
    json props = json::object();
    for (const auto& [name, sub] : p->items()) props[name] = clean(sub, root, depth + 1);
    if (auto r = s.find("required"); r != s.end() && r->is_array()) {
      json required = json::array();
      for (const auto& name : *r) {
        if (name.is_string() && props.contains(name.get<std::string>())) required.push_back(name);
      }
      if (!required.empty()) out["required"] = std::move(required);
    }
    out["properties"] = std::move(props);
    if (type.empty()) out["type"] = "object";
  }
  if (auto items = s.find("items"); items != s.end()) {
    if (items->is_object()) {
      out["items"] = clean(*items, root, depth + 1);
    } else if (items->is_array() && !items->empty()) {
      out["items"] = clean((*items)[0], root, depth + 1);  // tuple forms have no counterpart
    }
    if (type.empty()) out["type"] = "array";
  }

  for (const char* key : {"anyOf", "oneOf"}) {
    if (auto alts = s.find(key); alts != s.end() && alts->is_array()) fold_alternatives(*alts, root, depth, out);
  }
  if (auto all = s.find("allOf"); all != s.end() && all->is_array()) {
    // Merged member by member: the common use is {allOf:[{$ref}]} plus a description.
    for (const auto& member : *all) {
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

json clean_schema(const json& schema) { return clean(schema, schema, 0); }

bool is_empty_object_schema(const json& schema) {
  if (!schema.is_object()) return true;
  if (schema.contains("anyOf")) return false;
  auto t = schema.find("type");
  const bool object = t == schema.end() || (t->is_string() && *t == "object");
  if (!object) return false;
  auto p = schema.find("properties");
  return p == schema.end() || !p->is_object() || p->empty();
}

}  // namespace tollgate::gemini
