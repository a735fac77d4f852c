// OpenAI request -> Cohere Chat v2 / Embed v2 request.
#include "providers/cohere/cohere_translate.h"

#include "providers/json_fields.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;

// Text of a string or an array of text/refusal parts.
std::string text_of(JsonView content) {
  if (content.is_string()) return content.str();
  std::string out;
  for (const JsonView part : content.elements()) {
    if (!part.is_object()) continue;
    for (const char* key : {"text", "refusal"}) {
      if (const JsonView t = part[key]; t.is_string()) out += t.as_string();
    }
  }
  return out;
}

Result<json> user_content(JsonView content, std::size_t index) {
  if (content.is_string()) return json(content.str());
  if (!content.is_array()) return json("");
  json parts = json::array();
  for (const JsonView part : content.elements()) {
    const std::string type = json_string(part, "type");
    if (type == "text") {
      parts.push_back({{"type", "text"}, {"text", json_string(part, "text")}});
    } else if (const JsonView image = part["image_url"]; type == "image_url" && image.present()) {
      // Forwarded as it is; a bare URL string becomes {"url": ...}.
      parts.push_back({{"type", "image_url"}, {"image_url", image.is_string() ? json{{"url", image.str()}} : image.to_json()}});
    } else {
      return ApiError::bad_request("Cohere does not accept content parts of type '" + type + "'",
                                   "messages[" + std::to_string(index) + "].content", "unsupported_content");
    }
  }
  return parts;
}

json tool_calls_of(JsonView calls) {
  json out = json::array();
  for (const JsonView call : calls.elements()) {
    if (!call.is_object()) continue;
    const JsonView fn = call["function"];  // anything but an object reads as {}
    const JsonView arguments = fn["arguments"];
    // Object arguments are written as nlohmann writes them (keys sorted), as before.
    std::string args = arguments.is_string()   ? arguments.str()
                       : arguments.is_object() ? arguments.to_json().dump()
                                               : std::string();
    if (args.empty()) args = "{}";
    out.push_back({{"id", json_string(call, "id")},
                   {"type", "function"},
                   {"function", {{"name", json_string(fn, "name")}, {"arguments", args}}}});
  }
  return out;
}

Result<json> messages_of(JsonView messages) {
  json out = json::array();
  std::size_t i = 0;
  for (const JsonView m : messages.elements()) {
    const std::size_t index = i++;
    if (!m.is_object()) continue;
    const std::string role = json_string(m, "role");
    const JsonView content = m["content"];
    if (role == "system" || role == "developer") {
      out.push_back({{"role", "system"}, {"content", text_of(content)}});
    } else if (role == "user") {
      auto c = user_content(content, index);
      if (!c) return c.error();
      out.push_back({{"role", "user"}, {"content", std::move(c.value())}});
    } else if (role == "assistant") {
      const std::string text = text_of(content);
      if (const JsonView tc = m["tool_calls"]; tc.is_array() && !tc.empty()) {
        // Cohere keeps the text that precedes tool calls as the tool plan.
        json msg = {{"role", "assistant"}, {"tool_calls", tool_calls_of(tc)}};
        if (!text.empty()) msg["tool_plan"] = text;
        out.push_back(std::move(msg));
      } else if (!text.empty()) {
        out.push_back({{"role", "assistant"}, {"content", text}});
      }
    } else if (role == "tool") {
      out.push_back({{"role", "tool"}, {"tool_call_id", json_string(m, "tool_call_id")}, {"content", text_of(content)}});
    } else {
      return ApiError::bad_request("Cohere does not accept messages with role '" + role + "'",
                                   "messages[" + std::to_string(index) + "].role", "unsupported_value");
    }
  }
  return out;
}

struct Tools {
  json list = json::array();
  bool strict = false;
};

Result<Tools> tools_of(JsonView tools) {
  Tools out;
  std::size_t i = 0;
  for (const JsonView t : tools.elements()) {
    const std::string at = "tools[" + std::to_string(i++) + "]";
    // A missing or null type means a function tool, which needs a function object.
    const JsonView type = t["type"];
    const JsonView fn = t["function"];
    if (!t.is_object() || (json_given(type) && !(type == "function")) || !fn.is_object()) {
      return ApiError::bad_request("Cohere accepts only function tools", at, "unsupported_value");
    }
    json f = {{"name", json_string(fn, "name")}};
    if (const JsonView d = fn["description"]; d.is_string()) f["description"] = d.str();
    const JsonView parameters = fn["parameters"];
    f["parameters"] = parameters.is_object() ? parameters.to_json() : json{{"type", "object"}, {"properties", json::object()}};
    if (json_true(fn, "strict")) out.strict = true;
    out.list.push_back({{"type", "function"}, {"function", std::move(f)}});
  }
  return out;
}

// tool_choice; may narrow `tools` to the one named function.
std::optional<ApiError> apply_tool_choice(JsonView choice, json& up, std::vector<std::string>& notes) {
  if (choice.is_string()) {
    if (choice == "none") up["tool_choice"] = "NONE";
    if (choice == "required") up["tool_choice"] = "REQUIRED";
    return std::nullopt;
  }
  if (!choice.is_object() || !choice.contains("function")) return std::nullopt;
  const std::string name = json_string(choice["function"], "name");
  json kept = json::array();
  if (up.contains("tools")) {
    for (const auto& t : up["tools"]) {
      if (json_string(t["function"], "name") == name) kept.push_back(t);
    }
  }
  if (kept.empty()) return ApiError::bad_request("tool_choice names a function that is not in tools", "tool_choice");
  // Cohere cannot force one named tool: offer only that one and require a call.
  up["tools"] = std::move(kept);
  up["tool_choice"] = "REQUIRED";
  notes.push_back("tool_choice " + name + " sent as REQUIRED with only that tool");
  return std::nullopt;
}

void copy_if(JsonView from, const char* key, json& to, const char* as) {
  if (const JsonView v = from[key]; json_given(v)) to[as] = v.to_json();
}

}  // namespace

Result<json> chat_request(JsonView client, const std::string& model, std::vector<std::string>& notes) {
  if (const JsonView n = client["n"]; n.is_number() && n.as_double() > 1) {
    return ApiError::bad_request("Cohere returns a single choice; n must be 1", "n", "unsupported_parameter");
  }
  json up = {{"model", model}};
  auto messages = messages_of(client["messages"]);
  if (!messages) return messages.error();
  up["messages"] = std::move(messages.value());

  if (const JsonView t = client["tools"]; t.is_array() && !t.empty()) {
    auto tools = tools_of(t);
    if (!tools) return tools.error();
    up["tools"] = std::move(tools->list);
    if (tools->strict) up["strict_tools"] = true;
    if (const JsonView c = client["tool_choice"]; c.present()) {
      if (auto e = apply_tool_choice(c, up, notes)) return *e;
    }
  }
  if (const JsonView rf = client["response_format"]; rf.is_object()) {
    const std::string type = json_string(rf, "type", "text");
    if (type == "json_object") {
      up["response_format"] = {{"type", "json_object"}};
    } else if (type == "json_schema") {
      json format = {{"type", "json_object"}};
      if (const JsonView js = rf["json_schema"]; js.is_object() && js.contains("schema")) {
        format["json_schema"] = js["schema"].to_json();
      }
      up["response_format"] = std::move(format);
    }
  }
  copy_if(client, "max_tokens", up, "max_tokens");
  copy_if(client, "max_completion_tokens", up, "max_tokens");
  if (const JsonView s = client["stop"]; json_given(s)) {
    up["stop_sequences"] = s.is_string() ? json::array({s.str()}) : s.to_json();
  }
  copy_if(client, "temperature", up, "temperature");
  copy_if(client, "top_p", up, "p");
  copy_if(client, "top_k", up, "k");
  copy_if(client, "seed", up, "seed");
  copy_if(client, "frequency_penalty", up, "frequency_penalty");
  copy_if(client, "presence_penalty", up, "presence_penalty");
  if (json_true(client, "stream")) up["stream"] = true;

  // Parameters Cohere has no counterpart for. null and false ask for nothing;
  // parallel_tool_calls only matters when false (Cohere may call in parallel).
  for (const char* p : {"logit_bias", "logprobs", "top_logprobs", "reasoning_effort", "service_tier", "prediction",
                        "audio", "modalities"}) {
    const JsonView v = client[p];
    if (!json_given(v) || (v.is_boolean() && !v.as_bool())) continue;
    notes.push_back(std::string("dropped ") + p);
  }
  if (const JsonView v = client["parallel_tool_calls"]; v.is_boolean() && !v.as_bool()) {
    notes.push_back("dropped parallel_tool_calls");
  }
  return up;
}

Result<json> embed_request(JsonView client, const std::string& model) {
  json texts = json::array();
  const JsonView input = client["input"];
  if (input.is_string()) {
    texts.push_back(input.str());
  } else if (input.is_array()) {
    for (const JsonView v : input.elements()) {
      if (!v.is_string()) return ApiError::bad_request("Cohere embeds text only; token arrays are not accepted", "input");
      texts.push_back(v.str());
    }
  } else {
    return ApiError::bad_request("input must be a string or an array of strings", "input");
  }
  json up = {{"model", model},
             {"texts", std::move(texts)},
             {"input_type", "search_document"},
             {"embedding_types", json::array({"float"})}};
  if (const JsonView it = client["input_type"]; it.is_string()) up["input_type"] = it.str();
  copy_if(client, "dimensions", up, "output_dimension");
  return up;
}

}  // namespace tollgate::cohere
