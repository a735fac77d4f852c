// OpenAI request -> Cohere Chat v2 / Embed v2 request.
#include "providers/cohere/cohere_translate.h"

#include "providers/json_fields.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;

// Text of a string or an array of text/refusal parts.
std::string text_of(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const auto& part : content) {
    if (!part.is_object()) continue;
    for (const char* key : {"text", "refusal"}) {
      if (auto t = part.find(key); t != part.end() && t->is_string()) out += t->get_ref<const std::string&>();
    }
  }
  return out;
}

Result<json> user_content(const json& content, std::size_t index) {
  if (content.is_string()) return content;
  if (!content.is_array()) return json("");
  json parts = json::array();
  for (const auto& part : content) {
    const std::string type = json_string(part, "type");
    if (type == "text") {
      parts.push_back({{"type", "text"}, {"text", json_string(part, "text")}});
    } else if (type == "image_url" && part.contains("image_url")) {
      json image = part["image_url"].is_string() ? json{{"url", part["image_url"]}} : part["image_url"];
      parts.push_back({{"type", "image_url"}, {"image_url", image}});
    } else {
      return ApiError::bad_request("Cohere does not accept content parts of type '" + type + "'",
                                   "messages[" + std::to_string(index) + "].content", "unsupported_content");
    }
  }
  return parts;
}

json tool_calls_of(const json& calls) {
  json out = json::array();
  for (const auto& call : calls) {
    if (!call.is_object()) continue;
    const json& fn = call.contains("function") && call["function"].is_object() ? call["function"] : json::object();
    std::string args = fn.contains("arguments") && fn["arguments"].is_string() ? fn["arguments"].get<std::string>()
                       : fn.contains("arguments") && fn["arguments"].is_object() ? fn["arguments"].dump()
                                                                                  : std::string();
    if (args.empty()) args = "{}";
    out.push_back({{"id", json_string(call, "id")},
                   {"type", "function"},
                   {"function", {{"name", json_string(fn, "name")}, {"arguments", args}}}});
  }
  return out;
}

Result<json> messages_of(const json& messages) {
  json out = json::array();
  if (!messages.is_array()) return out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    if (!m.is_object()) continue;
    const std::string role = json_string(m, "role");
    const json content = m.contains("content") ? m["content"] : json(nullptr);
    if (role == "system" || role == "developer") {
      out.push_back({{"role", "system"}, {"content", text_of(content)}});
    } else if (role == "user") {
      auto c = user_content(content, i);
      if (!c) return c.error();
      out.push_back({{"role", "user"}, {"content", std::move(c.value())}});
    } else if (role == "assistant") {
      const std::string text = text_of(content);
      if (auto tc = m.find("tool_calls"); tc != m.end() && tc->is_array() && !tc->empty()) {
        // Cohere keeps the text that precedes tool calls as the tool plan.
        json msg = {{"role", "assistant"}, {"tool_calls", tool_calls_of(*tc)}};
        if (!text.empty()) msg["tool_plan"] = text;
        out.push_back(std::move(msg));
      } else if (!text.empty()) {
        out.push_back({{"role", "assistant"}, {"content", text}});
      }
    } else if (role == "tool") {
      out.push_back({{"role", "tool"}, {"tool_call_id", json_string(m, "tool_call_id")}, {"content", text_of(content)}});
    } else {
      return ApiError::bad_request("Cohere does not accept messages with role '" + role + "'",
                                   "messages[" + std::to_string(i) + "].role", "unsupported_value");
    }
  }
  return out;
}

struct Tools {
  json list = json::array();
  bool strict = false;
};

Result<Tools> tools_of(const json& tools) {
  Tools out;
  if (!tools.is_array()) return out;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const json& type = json_member(t, "type");
    if (!t.is_object() || !(type.is_null() || type == "function") || !json_member(t, "function").is_object()) {
      return ApiError::bad_request("Cohere accepts only function tools", "tools[" + std::to_string(i) + "]",
                                   "unsupported_value");
    }
    const json& fn = t["function"];
    json f = {{"name", json_string(fn, "name")}};
    if (fn.contains("description") && fn["description"].is_string()) f["description"] = fn["description"];
    f["parameters"] = fn.contains("parameters") && fn["parameters"].is_object()
                          ? fn["parameters"]
                          : json{{"type", "object"}, {"properties", json::object()}};
    if (json_true(fn, "strict")) out.strict = true;
    out.list.push_back({{"type", "function"}, {"function", std::move(f)}});
  }
  return out;
}

// tool_choice; may narrow `tools` to the one named function.
std::optional<ApiError> apply_tool_choice(const json& choice, json& up, std::vector<std::string>& notes) {
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

void copy_if(const json& from, const char* key, json& to, const char* as) {
  if (auto it = from.find(key); it != from.end() && !it->is_null()) to[as] = *it;
}

}  // namespace

Result<json> chat_request(const json& client, const std::string& model, std::vector<std::string>& notes) {
  if (auto n = client.find("n"); n != client.end() && n->is_number() && n->get<double>() > 1) {
    return ApiError::bad_request("Cohere returns a single choice; n must be 1", "n", "unsupported_parameter");
  }
  json up = {{"model", model}};
  auto messages = messages_of(client.contains("messages") ? client["messages"] : json());
  if (!messages) return messages.error();
  up["messages"] = std::move(messages.value());

  if (auto t = client.find("tools"); t != client.end() && t->is_array() && !t->empty()) {
    auto tools = tools_of(*t);
    if (!tools) return tools.error();
    up["tools"] = std::move(tools->list);
    if (tools->strict) up["strict_tools"] = true;
    if (auto c = client.find("tool_choice"); c != client.end()) {
      if (auto e = apply_tool_choice(*c, up, notes)) return *e;
    }
  }
  if (auto rf = client.find("response_format"); rf != client.end() && rf->is_object()) {
    const std::string type = json_string(*rf, "type", "text");
    if (type == "json_object") {
      up["response_format"] = {{"type", "json_object"}};
    } else if (type == "json_schema") {
      json format = {{"type", "json_object"}};
      if (auto js = rf->find("json_schema"); js != rf->end() && js->is_object() && js->contains("schema")) {
        format["json_schema"] = (*js)["schema"];
      }
      up["response_format"] = std::move(format);
    }
  }
  copy_if(client, "max_tokens", up, "max_tokens");
  copy_if(client, "max_completion_tokens", up, "max_tokens");
  if (auto s = client.find("stop"); s != client.end() && !s->is_null()) {
    up["stop_sequences"] = s->is_string() ? json::array({*s}) : *s;
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
    auto it = client.find(p);
    if (it == client.end() || it->is_null() || (it->is_boolean() && !it->get<bool>())) continue;
    notes.push_back(std::string("dropped ") + p);
  }
  if (auto it = client.find("parallel_tool_calls"); it != client.end() && it->is_boolean() && !it->get<bool>()) {
    notes.push_back("dropped parallel_tool_calls");
  }
  return up;
}

Result<json> embed_request(const json& client, const std::string& model) {
  json texts = json::array();
  const json input = client.contains("input") ? client["input"] : json();
  if (input.is_string()) {
    texts.push_back(input);
  } else if (input.is_array()) {
    for (const auto& v : input) {
      if (!v.is_string()) return ApiError::bad_request("Cohere embeds text only; token arrays are not accepted", "input");
      texts.push_back(v);
    }
  } else {
    return ApiError::bad_request("input must be a string or an array of strings", "input");
  }
  json up = {{"model", model},
             {"texts", std::move(texts)},
             {"input_type", "search_document"},
             {"embedding_types", json::array({"float"})}};
  if (auto it = client.find("input_type"); it != client.end() && it->is_string()) up["input_type"] = *it;
  copy_if(client, "dimensions", up, "output_dimension");
  return up;
}

}  // namespace tollgate::cohere
