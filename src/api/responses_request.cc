#include "api/responses_request.h"

#include <cstdint>

namespace tollgate {
namespace {

using nlohmann::json;
using Error = std::optional<ApiError>;

ApiError invalid(const std::string& path, const std::string& what, std::string code = "invalid_value") {
  return ApiError::bad_request(path + ": " + what, path, std::move(code));
}

ApiError missing(const std::string& path) { return invalid(path, "Field required", "missing_required_parameter"); }

std::string at(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

// The member, or an absent view when it is missing or null.
JsonView field(JsonView obj, const char* key) {
  const JsonView v = obj[key];
  return v.is_null() ? JsonView() : v;
}

Result<std::string> required_string(JsonView obj, const char* key, const std::string& path, bool allow_empty = false) {
  const JsonView v = field(obj, key);
  if (!v) return missing(path + "." + key);
  if (!v.is_string() || (!allow_empty && v.as_string().empty())) {
    return invalid(path + "." + key, allow_empty ? "expected a string" : "expected a non-empty string");
  }
  return v.str();
}

Result<std::string> type_of(JsonView obj, const std::string& path) {
  if (!obj.is_object()) return invalid(path, "expected an object");
  const JsonView type = field(obj, "type");
  if (!type) return missing(path + ".type");
  if (!type.is_string()) return invalid(path + ".type", "expected a string");
  return type.str();
}

void join_into(std::string& out, std::string_view text) {
  if (text.empty()) return;
  if (!out.empty()) out += "\n";
  out += text;
}

// What a file_id asks for: the gateway keeps no uploaded files.
ApiError no_files(const std::string& path) {
  return invalid(path, "file_id references are not supported by this gateway; send the data inline", "unsupported_content");
}

Result<json> image_part(JsonView part, const std::string& path) {
  if (field(part, "file_id")) return no_files(path + ".file_id");
  const JsonView url = field(part, "image_url");
  if (!url) return missing(path + ".image_url");
  std::string u;
  if (url.is_string()) {
    u = url.str();
  } else if (url.is_object() && field(url, "url").is_string()) {
    u = field(url, "url").str();  // the chat shape, which some clients send here
  } else {
    return invalid(path + ".image_url", "expected a URL string");
  }
  if (u.empty()) return invalid(path + ".image_url", "expected a non-empty URL");
  json image = {{"url", u}};
  if (const JsonView detail = field(part, "detail")) {
    if (!(detail == "low") && !(detail == "high") && !(detail == "auto")) {
      return invalid(path + ".detail", "expected 'low', 'high' or 'auto'");
    }
    image["detail"] = detail.str();
  }
  return json{{"type", "image_url"}, {"image_url", std::move(image)}};
}

Result<json> file_part(JsonView part, const std::string& path) {
  if (field(part, "file_id")) return no_files(path + ".file_id");
  if (field(part, "file_url")) {
    return invalid(path + ".file_url", "file URLs are not supported by this gateway; send file_data", "unsupported_content");
  }
  auto data = required_string(part, "file_data", path);
  if (!data) return data.error();
  json file = {{"file_data", *data}};
  if (const JsonView name = field(part, "filename")) {
    if (!name.is_string()) return invalid(path + ".filename", "expected a string");
    file["filename"] = name.str();
  }
  return json{{"type", "file"}, {"file", std::move(file)}};
}

// A message item's content as chat content: a plain string when it is text
// only, else an array of chat parts.
Result<json> message_content(JsonView content, const std::string& path, bool assistant) {
  if (content.is_string()) return json(content.str());
  if (!content.is_array()) return invalid(path, "expected a string or an array of content parts");
  json parts = json::array();
  std::string text;
  bool text_only = true;
  std::size_t k = 0;
  for (const JsonView part : content.elements()) {
    const std::string p = at(path, k++);
    auto type = type_of(part, p);
    if (!type) return type.error();
    if (*type == "input_text" || *type == "output_text" || *type == "text" || *type == "refusal") {
      const char* key = *type == "refusal" ? "refusal" : "text";
      auto t = required_string(part, key, p, true);
      if (!t) return t.error();
      join_into(text, *t);
      if (!t->empty()) parts.push_back({{"type", "text"}, {"text", *t}});
    } else if (!assistant && *type == "input_image") {
      auto img = image_part(part, p);
      if (!img) return img.error();
      parts.push_back(std::move(*img));
      text_only = false;
    } else if (!assistant && *type == "input_file") {
      auto f = file_part(part, p);
      if (!f) return f.error();
      parts.push_back(std::move(*f));
      text_only = false;
    } else {
      return invalid(p + ".type", "unsupported content type '" + *type + "' in " +
                                      (assistant ? "an assistant" : "an input") + " message",
                     "unsupported_content");
    }
  }
  if (text_only) return json(text);
  return parts;
}

struct Builder {
  json messages = json::array();
  const ResponseItemResolver* resolver = nullptr;
  std::vector<std::string>* notes = nullptr;
  bool dropped_reasoning = false;

  Error message(JsonView item, const std::string& path) {
    auto role = required_string(item, "role", path);
    if (!role) return role.error();
    const bool assistant = *role == "assistant";
    if (!assistant && *role != "user" && *role != "system" && *role != "developer") {
      return invalid(path + ".role", "expected 'user', 'assistant', 'system' or 'developer'");
    }
    const JsonView content = field(item, "content");
    if (!content) return missing(path + ".content");
    auto c = message_content(content, path + ".content", assistant);
    if (!c) return c.error();
    messages.push_back({{"role", *role}, {"content", std::move(*c)}});
    return std::nullopt;
  }

  Error function_call(JsonView item, const std::string& path) {
    auto call_id = required_string(item, "call_id", path);
    if (!call_id) return call_id.error();
    auto name = required_string(item, "name", path);
    if (!name) return name.error();
    const JsonView args = field(item, "arguments");
    std::string arguments = "{}";
    if (args) {
      if (!args.is_string()) return invalid(path + ".arguments", "expected a JSON string");
      if (!args.as_string().empty()) arguments = args.str();
    }
    json call = {{"id", *call_id}, {"type", "function"}, {"function", {{"name", *name}, {"arguments", arguments}}}};
    // One assistant turn: its text and the calls that follow it.
    if (!messages.empty() && messages.back()["role"] == "assistant" && messages.back()["content"].is_string()) {
      json& last = messages.back();
      if (!last.contains("tool_calls")) last["tool_calls"] = json::array();
      if (last["content"] == "") last["content"] = nullptr;
      last["tool_calls"].push_back(std::move(call));
    } else if (!messages.empty() && messages.back()["role"] == "assistant" && messages.back().contains("tool_calls")) {
      messages.back()["tool_calls"].push_back(std::move(call));
    } else {
      messages.push_back({{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({std::move(call)})}});
    }
    return std::nullopt;
  }

  Error function_call_output(JsonView item, const std::string& path) {
    auto call_id = required_string(item, "call_id", path);
    if (!call_id) return call_id.error();
    const JsonView output = field(item, "output");
    if (!output) return missing(path + ".output");
    std::string text;
    json images = json::array();
    if (output.is_string()) {
      text = output.str();
    } else if (output.is_array()) {
      std::size_t k = 0;
      for (const JsonView part : output.elements()) {
        const std::string p = at(path + ".output", k++);
        auto type = type_of(part, p);
        if (!type) return type.error();
        if (*type == "input_text" || *type == "output_text") {
          auto t = required_string(part, "text", p, true);
          if (!t) return t.error();
          join_into(text, *t);
        } else if (*type == "input_image") {
          auto img = image_part(part, p);
          if (!img) return img.error();
          images.push_back(std::move(*img));
        } else {
          return invalid(p + ".type", "unsupported content type '" + *type + "' in a function_call_output",
                         "unsupported_content");
        }
      }
    } else {
      return invalid(path + ".output", "expected a string or an array of content parts");
    }
    messages.push_back({{"role", "tool"}, {"tool_call_id", *call_id}, {"content", text}});
    // Images cannot ride on a tool message: they follow in a user message.
    if (!images.empty()) messages.push_back({{"role", "user"}, {"content", std::move(images)}});
    return std::nullopt;
  }

  Error item(JsonView item, const std::string& path, bool resolved) {
    if (!item.is_object()) return invalid(path, "expected an object");
    const JsonView type = field(item, "type");
    if (type && !type.is_string()) return invalid(path + ".type", "expected a string");
    // An item without a type is a message ({"role", "content"}), as in the API.
    const std::string t = type ? type.str() : "message";
    if (t == "message") return message(item, path);
    if (t == "function_call") return function_call(item, path);
    if (t == "function_call_output") return function_call_output(item, path);
    if (t == "reasoning") {
      dropped_reasoning = true;
      return std::nullopt;
    }
    if (t == "item_reference" && !resolved) {
      auto id = required_string(item, "id", path);
      if (!id) return id.error();
      std::optional<json> found = resolver ? resolver->find_item(*id) : std::nullopt;
      if (!found) return invalid(path + ".id", "Item with id '" + *id + "' not found.", "item_not_found");
      return this->item(JsonView(*found), path, true);
    }
    return invalid(path + ".type", "unsupported input item type '" + t + "'", "unsupported_item");
  }

  Error items(JsonView list, const std::string& path) {
    std::size_t i = 0;
    for (const JsonView it : list.elements()) {
      if (Error e = item(it, at(path, i++), false)) return e;
    }
    return std::nullopt;
  }
};

Error translate_tools(JsonView body, TranslatedResponsesRequest& t) {
  json& out = t.body;
  const JsonView tools = field(body, "tools");
  json functions = json::array();
  if (tools) {
    if (!tools.is_array()) return invalid("tools", "expected an array");
    std::size_t i = 0;
    for (const JsonView tool : tools.elements()) {
      const std::string p = at("tools", i++);
      auto type = type_of(tool, p);
      if (!type) return type.error();
      if (*type != "function") {
        return invalid(p + ".type",
                       "tool type '" + *type + "' is not supported by this gateway; define a function tool",
                       "unsupported_tool");
      }
      auto name = required_string(tool, "name", p);
      if (!name) return name.error();
      json fn = {{"name", *name}};
      if (const JsonView d = field(tool, "description")) {
        if (!d.is_string()) return invalid(p + ".description", "expected a string");
        fn["description"] = d.str();
      }
      const JsonView params = field(tool, "parameters");
      if (params && !params.is_object()) return invalid(p + ".parameters", "expected a JSON schema object");
      fn["parameters"] = params ? params.to_json() : json{{"type", "object"}, {"properties", json::object()}};
      if (const JsonView s = field(tool, "strict")) {
        if (!s.is_boolean()) return invalid(p + ".strict", "expected a boolean");
        fn["strict"] = s.as_bool();
      }
      functions.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    t.echo["tools"] = tools.to_json();
  }
  if (!functions.empty()) out["tools"] = functions;

  if (const JsonView choice = field(body, "tool_choice")) {
    json mapped;
    if (choice == "auto" || choice == "none" || choice == "required") {
      mapped = choice.str();
    } else if (choice.is_object() && field(choice, "type") == "function") {
      auto name = required_string(choice, "name", "tool_choice");
      if (!name) return name.error();
      mapped = {{"type", "function"}, {"function", {{"name", *name}}}};
    } else if (choice.is_object() && field(choice, "type").is_string()) {
      return invalid("tool_choice.type", "tool_choice type '" + field(choice, "type").str() +
                                             "' is not supported by this gateway; use 'auto', 'none', 'required' or a function",
                     "unsupported_tool");
    } else {
      return invalid("tool_choice", "expected 'auto', 'none', 'required' or {\"type\":\"function\",\"name\":...}");
    }
    t.echo["tool_choice"] = choice.to_json();
    if (functions.empty()) {
      if (mapped.is_object() || mapped == "required") return invalid("tool_choice", "tool_choice requires tools");
    } else {
      out["tool_choice"] = std::move(mapped);
    }
  }
  if (const JsonView ptc = field(body, "parallel_tool_calls")) {
    if (!ptc.is_boolean()) return invalid("parallel_tool_calls", "expected a boolean");
    t.echo["parallel_tool_calls"] = ptc.as_bool();
    if (!functions.empty()) out["parallel_tool_calls"] = ptc.as_bool();
  }
  return std::nullopt;
}

Error number_in(JsonView body, const char* key, double lo, double hi, TranslatedResponsesRequest& t) {
  const JsonView v = field(body, key);
  if (!v) return std::nullopt;
  if (!v.is_number()) return invalid(key, "expected a number");
  const double d = v.as_double();
  if (d < lo || d > hi) return invalid(key, "must be between " + json(lo).dump() + " and " + json(hi).dump());
  t.body[key] = v.to_json();
  t.echo[key] = v.to_json();
  return std::nullopt;
}

Error translate_text(JsonView body, TranslatedResponsesRequest& t) {
  const JsonView text = field(body, "text");
  if (!text) return std::nullopt;
  if (!text.is_object()) return invalid("text", "expected an object");
  if (field(text, "verbosity")) t.notes.push_back("ignored text.verbosity");
  json echo = text.to_json();
  if (const JsonView format = field(text, "format")) {
    auto type = type_of(format, "text.format");
    if (!type) return type.error();
    if (*type == "json_schema") {
      auto name = required_string(format, "name", "text.format");
      if (!name) return name.error();
      const JsonView schema = field(format, "schema");
      if (!schema) return missing("text.format.schema");
      if (!schema.is_object()) return invalid("text.format.schema", "expected a JSON schema object");
      json js = {{"name", *name}, {"schema", schema.to_json()}};
      if (const JsonView d = field(format, "description"); d.is_string()) js["description"] = d.str();
      if (const JsonView s = field(format, "strict")) {
        if (!s.is_boolean()) return invalid("text.format.strict", "expected a boolean");
        js["strict"] = s.as_bool();
      }
      t.body["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(js)}};
    } else if (*type == "json_object") {
      t.body["response_format"] = {{"type", "json_object"}};
    } else if (*type != "text") {
      return invalid("text.format.type", "expected 'text', 'json_schema' or 'json_object'");
    }
  } else {
    echo["format"] = {{"type", "text"}};
  }
  t.echo["text"] = std::move(echo);
  return std::nullopt;
}

Error translate_generation(JsonView body, TranslatedResponsesRequest& t) {
  json& out = t.body;
  if (Error e = number_in(body, "temperature", 0, 2, t)) return e;
  if (Error e = number_in(body, "top_p", 0, 1, t)) return e;
  if (const JsonView m = field(body, "max_output_tokens")) {
    if (!m.is_number_integer() || m.as_int64() < 1 || m.as_int64() > 2147483647) {
      return invalid("max_output_tokens", "expected an integer between 1 and 2147483647");
    }
    out["max_completion_tokens"] = m.as_int64();
    t.echo["max_output_tokens"] = m.as_int64();
  }
  if (const JsonView r = field(body, "reasoning")) {
    if (!r.is_object()) return invalid("reasoning", "expected an object");
    if (const JsonView effort = field(r, "effort")) {
      static const char* efforts[] = {"none", "minimal", "low", "medium", "high", "xhigh"};
      bool known = false;
      for (const char* e : efforts) known = known || effort == e;
      if (!known) return invalid("reasoning.effort", "expected 'none', 'minimal', 'low', 'medium', 'high' or 'xhigh'");
      out["reasoning_effort"] = effort.str();
    }
    json echo = {{"effort", nullptr}, {"summary", nullptr}};
    const json given = r.to_json();
    for (const auto& [k, v] : given.items()) echo[k] = v;
    t.echo["reasoning"] = std::move(echo);
  }
  for (const char* key : {"safety_identifier", "user"}) {
    const JsonView u = field(body, key);
    if (!u) continue;
    if (!u.is_string()) return invalid(key, "expected a string");
    if (u.as_string().size() > 256) return invalid(key, "must be at most 256 characters");
    if (!u.as_string().empty()) out["user"] = u.str();
    t.echo[key] = u.str();
  }
  if (const JsonView meta = field(body, "metadata")) {
    if (!meta.is_object()) return invalid("metadata", "expected an object");
    t.echo["metadata"] = meta.to_json();
  }
  if (const JsonView store = field(body, "store")) {
    if (!store.is_boolean()) return invalid("store", "expected a boolean");
    t.store = store.as_bool();
  }
  t.echo["store"] = t.store;
  if (const JsonView tr = field(body, "truncation")) {
    if (!(tr == "auto") && !(tr == "disabled")) return invalid("truncation", "expected 'auto' or 'disabled'");
    t.echo["truncation"] = tr.str();
  }
  if (const JsonView inc = field(body, "include"); inc && !inc.is_array()) return invalid("include", "expected an array");
  for (const char* key : {"prompt_cache_key", "service_tier"}) {
    if (field(body, key)) t.notes.push_back(std::string("ignored ") + key);
  }
  if (const JsonView bg = field(body, "background")) {
    if (!bg.is_boolean()) return invalid("background", "expected a boolean");
    if (bg.as_bool()) return invalid("background", "background responses are not supported by this gateway", "unsupported_parameter");
  }
  for (const char* key : {"prompt", "conversation"}) {
    if (field(body, key)) return invalid(key, "not supported by this gateway", "unsupported_parameter");
  }
  if (const JsonView stream = field(body, "stream")) {
    if (!stream.is_boolean()) return invalid("stream", "expected a boolean");
    if (stream.as_bool()) {
      out["stream"] = true;
      out["stream_options"] = {{"include_usage", true}};
    }
  }
  return std::nullopt;
}

json default_echo() {
  return {{"instructions", nullptr},
          {"tools", json::array()},
          {"tool_choice", "auto"},
          {"parallel_tool_calls", true},
          {"temperature", 1.0},
          {"top_p", 1.0},
          {"max_output_tokens", nullptr},
          {"metadata", json::object()},
          {"text", {{"format", {{"type", "text"}}}}},
          {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
          {"store", true},
          {"previous_response_id", nullptr},
          {"truncation", "disabled"},
          {"user", nullptr}};
}

}  // namespace

Result<TranslatedResponsesRequest> translate_responses_request(JsonView body, const ResponseItemResolver* resolver) {
  if (!body.is_object()) return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  TranslatedResponsesRequest t;
  t.body = json::object();
  t.echo = default_echo();
  const JsonView model = field(body, "model");
  if (!model) return missing("model");
  if (!model.is_string() || model.as_string().empty()) return invalid("model", "expected a non-empty string");
  if (model.as_string().size() > 256) return invalid("model", "must be at most 256 characters");
  t.body["model"] = model.str();

  Builder b;
  b.resolver = resolver;
  b.notes = &t.notes;
  if (const JsonView instructions = field(body, "instructions")) {
    if (!instructions.is_string()) return invalid("instructions", "expected a string");
    if (!instructions.as_string().empty()) b.messages.push_back({{"role", "system"}, {"content", instructions.str()}});
    t.echo["instructions"] = instructions.str();
  }
  if (const JsonView prev = field(body, "previous_response_id")) {
    if (!prev.is_string() || prev.as_string().empty()) return invalid("previous_response_id", "expected a non-empty string");
    if (!resolver) {
      return invalid("previous_response_id", "previous_response_id is not supported without stored responses",
                     "unsupported_parameter");
    }
    std::optional<json> before = resolver->conversation_before(prev.as_string());
    if (!before || !before->is_array()) {
      return invalid("previous_response_id", "Previous response with id '" + prev.str() + "' not found.",
                     "previous_response_not_found");
    }
    if (Error e = b.items(JsonView(*before), "previous_response_id")) return *e;
    t.echo["previous_response_id"] = prev.str();
  }
  const JsonView input = field(body, "input");
  if (!input) return missing("input");
  if (input.is_string()) {
    b.messages.push_back({{"role", "user"}, {"content", input.str()}});
  } else if (input.is_array()) {
    if (Error e = b.items(input, "input")) return *e;
  } else {
    return invalid("input", "expected a string or an array of input items");
  }
  if (b.dropped_reasoning) t.notes.push_back("dropped reasoning items");
  bool has_turn = false;
  for (const auto& m : b.messages) has_turn = has_turn || m["role"] != "system";
  if (!has_turn) return invalid("input", "at least one input message is required", "empty_array");
  t.body["messages"] = std::move(b.messages);
  if (Error e = translate_tools(body, t)) return *e;
  if (Error e = translate_text(body, t)) return *e;
  if (Error e = translate_generation(body, t)) return *e;
  return t;
}

}  // namespace tollgate
