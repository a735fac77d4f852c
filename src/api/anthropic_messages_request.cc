#include "api/anthropic_messages_request.h"

#include <optional>
#include <string_view>

#include "tollgate/usage.h"

namespace tollgate {
namespace {

using nlohmann::json;
using Error = std::optional<ApiError>;

// Anthropic names the field first ("max_tokens: Field required"); so do we.
ApiError invalid(const std::string& path, const std::string& what, std::string code = "invalid_value") {
  return ApiError::bad_request(path + ": " + what, path, std::move(code));
}

ApiError missing(const std::string& path) { return invalid(path, "Field required", "missing_required_parameter"); }

std::string at(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// The block's type, or an error when the block is not an object with a string type.
Result<std::string> block_type(const json& block, const std::string& path) {
  if (!block.is_object()) return invalid(path, "expected a content block object");
  const json* type = field(block, "type");
  if (!type) return missing(path + ".type");
  if (!type->is_string()) return invalid(path + ".type", "expected a string");
  return type->get<std::string>();
}

Result<std::string> text_of(const json& block, const std::string& path) {
  const json* text = field(block, "text");
  if (!text) return missing(path + ".text");
  if (!text->is_string()) return invalid(path + ".text", "expected a string");
  return text->get<std::string>();
}

Result<std::string> required_string(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (!v) return missing(path + "." + key);
  if (!v->is_string() || v->get_ref<const std::string&>().empty()) return invalid(path + "." + key, "expected a non-empty string");
  return v->get<std::string>();
}

void join_into(std::string& out, const std::string& text) {
  if (text.empty()) return;
  if (!out.empty()) out += "\n";
  out += text;
}

bool is_image_media_type(std::string_view t) {
  return t == "image/jpeg" || t == "image/png" || t == "image/gif" || t == "image/webp";
}

Result<json> image_part(const json& block, const std::string& path) {
  const json* source = field(block, "source");
  if (!source) return missing(path + ".source");
  if (!source->is_object()) return invalid(path + ".source", "expected an object");
  auto kind = required_string(*source, "type", path + ".source");
  if (!kind) return kind.error();
  if (*kind == "url") {
    auto url = required_string(*source, "url", path + ".source");
    if (!url) return url.error();
    return json{{"type", "image_url"}, {"image_url", {{"url", *url}}}};
  }
  if (*kind != "base64") return invalid(path + ".source.type", "unsupported image source '" + *kind + "'; use 'base64' or 'url'");
  auto media = required_string(*source, "media_type", path + ".source");
  if (!media) return media.error();
  if (!is_image_media_type(*media)) {
    return invalid(path + ".source.media_type",
                   "unsupported image type '" + *media + "'; use image/jpeg, image/png, image/gif or image/webp",
                   "unsupported_image_type");
  }
  auto data = required_string(*source, "data", path + ".source");
  if (!data) return data.error();
  return json{{"type", "image_url"}, {"image_url", {{"url", "data:" + *media + ";base64," + *data}}}};
}

Result<json> document_part(const json& block, const std::string& path) {
  const json* source = field(block, "source");
  if (!source) return missing(path + ".source");
  if (!source->is_object()) return invalid(path + ".source", "expected an object");
  auto kind = required_string(*source, "type", path + ".source");
  if (!kind) return kind.error();
  auto data = required_string(*source, "data", path + ".source");
  if (*kind == "text") {
    if (!data) return data.error();
    return json{{"type", "text"}, {"text", *data}};
  }
  if (*kind == "base64" && source->value("media_type", "") == "application/pdf") {
    if (!data) return data.error();
    return json{{"type", "file"},
                {"file", {{"filename", "document.pdf"}, {"file_data", "data:application/pdf;base64," + *data}}}};
  }
  return invalid(path + ".source", "only base64 PDF and plain-text documents are supported", "unsupported_document");
}

// A tool_result's content as the text of a tool message. Images in it cannot
// ride on a tool message: they go to the user message that follows.
Result<std::string> tool_result_text(const json& block, const std::string& path, json& images) {
  const json* content = field(block, "content");
  if (!content) return std::string();
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) return invalid(path + ".content", "expected a string or an array of content blocks");
  std::string text;
  for (std::size_t k = 0; k < content->size(); ++k) {
    const std::string p = at(path + ".content", k);
    auto type = block_type((*content)[k], p);
    if (!type) return type.error();
    if (*type == "text") {
      auto t = text_of((*content)[k], p);
      if (!t) return t.error();
      join_into(text, *t);
    } else if (*type == "image") {
      auto img = image_part((*content)[k], p);
      if (!img) return img.error();
      images.push_back(std::move(*img));
    } else {
      return invalid(p + ".type", "unsupported block type '" + *type + "' in a tool_result", "unsupported_content");
    }
  }
  return text;
}

Error user_message(const json& content, const std::string& path, json& out) {
  if (content.is_string()) {
    out.push_back({{"role", "user"}, {"content", content}});
    return std::nullopt;
  }
  json tool_messages = json::array();
  json parts = json::array();
  json result_images = json::array();
  for (std::size_t k = 0; k < content.size(); ++k) {
    const std::string p = at(path, k);
    const json& block = content[k];
    auto type = block_type(block, p);
    if (!type) return type.error();
    if (*type == "text") {
      auto t = text_of(block, p);
      if (!t) return t.error();
      if (!t->empty()) parts.push_back({{"type", "text"}, {"text", *t}});
    } else if (*type == "image" || *type == "document") {
      auto part = *type == "image" ? image_part(block, p) : document_part(block, p);
      if (!part) return part.error();
      parts.push_back(std::move(*part));
    } else if (*type == "tool_result") {
      auto id = required_string(block, "tool_use_id", p);
      if (!id) return id.error();
      auto text = tool_result_text(block, p, result_images);
      if (!text) return text.error();
      tool_messages.push_back({{"role", "tool"}, {"tool_call_id", *id}, {"content", *text}});
    } else {
      return invalid(p + ".type", "unsupported block type '" + *type + "' in a user message", "unsupported_content");
    }
  }
  // Tool results answer the previous assistant turn, so they come first
  // whatever their position in the block list.
  for (auto& m : tool_messages) out.push_back(std::move(m));
  if (!result_images.empty()) {
    for (auto& part : parts) result_images.push_back(std::move(part));
    parts = std::move(result_images);
  }
  if (parts.empty() && !tool_messages.empty()) return std::nullopt;
  if (parts.size() == 1 && parts[0]["type"] == "text") {
    out.push_back({{"role", "user"}, {"content", parts[0]["text"]}});
  } else if (parts.empty()) {
    out.push_back({{"role", "user"}, {"content", ""}});
  } else {
    out.push_back({{"role", "user"}, {"content", std::move(parts)}});
  }
  return std::nullopt;
}

Error assistant_message(const json& content, const std::string& path, json& out) {
  if (content.is_string()) {
    out.push_back({{"role", "assistant"}, {"content", content}});
    return std::nullopt;
  }
  std::string text;
  json tool_calls = json::array();
  for (std::size_t k = 0; k < content.size(); ++k) {
    const std::string p = at(path, k);
    const json& block = content[k];
    auto type = block_type(block, p);
    if (!type) return type.error();
    if (*type == "text") {
      auto t = text_of(block, p);
      if (!t) return t.error();
      join_into(text, *t);
    } else if (*type == "tool_use") {
      auto id = required_string(block, "id", p);
      if (!id) return id.error();
      auto name = required_string(block, "name", p);
      if (!name) return name.error();
      const json* input = field(block, "input");
      if (input && !input->is_object()) return invalid(p + ".input", "expected an object");
      const std::string arguments = input ? input->dump(-1, ' ', false, json::error_handler_t::replace) : "{}";
      tool_calls.push_back({{"id", *id}, {"type", "function"}, {"function", {{"name", *name}, {"arguments", arguments}}}});
    } else if (*type != "thinking" && *type != "redacted_thinking") {
      return invalid(p + ".type", "unsupported block type '" + *type + "' in an assistant message", "unsupported_content");
    }
  }
  json m = {{"role", "assistant"}, {"content", text.empty() && !tool_calls.empty() ? json(nullptr) : json(text)}};
  if (!tool_calls.empty()) m["tool_calls"] = std::move(tool_calls);
  out.push_back(std::move(m));
  return std::nullopt;
}

Error translate_system(const json& system, json& messages) {
  std::string text;
  if (system.is_string()) {
    text = system.get<std::string>();
  } else if (system.is_array()) {
    for (std::size_t i = 0; i < system.size(); ++i) {
      const std::string p = at("system", i);
      auto type = block_type(system[i], p);
      if (!type) return type.error();
      if (*type != "text") return invalid(p + ".type", "expected 'text'");
      auto t = text_of(system[i], p);
      if (!t) return t.error();
      join_into(text, *t);
    }
  } else {
    return invalid("system", "expected a string or an array of text blocks");
  }
  if (!text.empty()) messages.push_back({{"role", "system"}, {"content", text}});
  return std::nullopt;
}

Error translate_messages(const json& body, json& messages) {
  const json* in = field(body, "messages");
  if (!in) return missing("messages");
  if (!in->is_array()) return invalid("messages", "expected an array");
  if (in->empty()) return invalid("messages", "at least one message is required", "empty_array");
  for (std::size_t i = 0; i < in->size(); ++i) {
    const std::string p = at("messages", i);
    const json& m = (*in)[i];
    if (!m.is_object()) return invalid(p, "expected an object");
    auto role = required_string(m, "role", p);
    if (!role) return role.error();
    const json* content = field(m, "content");
    if (!content) return missing(p + ".content");
    if (!content->is_string() && !content->is_array()) {
      return invalid(p + ".content", "expected a string or an array of content blocks");
    }
    Error e;
    if (*role == "user") {
      e = user_message(*content, p + ".content", messages);
    } else if (*role == "assistant") {
      e = assistant_message(*content, p + ".content", messages);
    } else {
      e = invalid(p + ".role", "expected 'user' or 'assistant'; put system prompts in the top-level 'system'");
    }
    if (e) return e;
  }
  return std::nullopt;
}

Error translate_tools(const json& body, json& out) {
  const json* tools = field(body, "tools");
  json functions = json::array();
  if (tools) {
    if (!tools->is_array()) return invalid("tools", "expected an array");
    for (std::size_t i = 0; i < tools->size(); ++i) {
      const std::string p = at("tools", i);
      const json& t = (*tools)[i];
      if (!t.is_object()) return invalid(p, "expected an object");
      if (const json* type = field(t, "type"); type && *type != "custom") {
        return invalid(p + ".type", "server tool " + type->dump() + " is not supported by this gateway; define a client tool with input_schema",
                       "unsupported_tool");
      }
      auto name = required_string(t, "name", p);
      if (!name) return name.error();
      const json* schema = field(t, "input_schema");
      if (!schema) return missing(p + ".input_schema");
      if (!schema->is_object()) return invalid(p + ".input_schema", "expected a JSON schema object");
      json fn = {{"name", *name}, {"parameters", *schema}};
      if (const json* d = field(t, "description"); d && d->is_string()) fn["description"] = *d;
      if (const json* s = field(t, "strict"); s && s->is_boolean()) fn["strict"] = *s;
      functions.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
  }
  if (!functions.empty()) out["tools"] = functions;

  const json* choice = field(body, "tool_choice");
  if (!choice) return std::nullopt;
  if (!choice->is_object()) return invalid("tool_choice", "expected an object");
  auto type = required_string(*choice, "type", "tool_choice");
  if (!type) return type.error();
  json mapped;
  if (*type == "auto") {
    mapped = "auto";
  } else if (*type == "any") {
    mapped = "required";
  } else if (*type == "none") {
    mapped = "none";
  } else if (*type == "tool") {
    auto name = required_string(*choice, "name", "tool_choice");
    if (!name) return name.error();
    mapped = {{"type", "function"}, {"function", {{"name", *name}}}};
  } else {
    return invalid("tool_choice.type", "expected 'auto', 'any', 'tool' or 'none'");
  }
  if (functions.empty()) {
    // OpenAI rejects tool_choice without tools; auto and none mean nothing then.
    if (*type == "any" || *type == "tool") return invalid("tool_choice", "tool_choice requires tools");
    return std::nullopt;
  }
  out["tool_choice"] = mapped;
  if (const json* d = field(*choice, "disable_parallel_tool_use"); d && *d == true) out["parallel_tool_calls"] = false;
  return std::nullopt;
}

Error number_in(const json& body, const char* key, double lo, double hi, json& out) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) return invalid(key, "expected a number");
  const double d = v->get<double>();
  if (d < lo || d > hi) return invalid(key, "must be between " + json(lo).dump() + " and " + json(hi).dump());
  out[key] = *v;
  return std::nullopt;
}

std::string effort_for_budget(int64_t budget) {
  if (budget < 2048) return "low";
  if (budget < 8192) return "medium";
  return "high";
}

Error translate_generation(const json& body, MessagesCall call, TranslatedMessagesRequest& t) {
  json& out = t.body;
  const json* max_tokens = field(body, "max_tokens");
  if (call == MessagesCall::create) {
    if (!max_tokens) return missing("max_tokens");
    if (!max_tokens->is_number_integer() || max_tokens->get<int64_t>() < 1) {
      return invalid("max_tokens", "expected an integer greater than or equal to 1");
    }
  }
  if (Error e = number_in(body, "temperature", 0, 1, out)) return e;
  if (Error e = number_in(body, "top_p", 0, 1, out)) return e;
  if (field(body, "top_k")) t.notes.push_back("dropped top_k");

  if (const json* stops = field(body, "stop_sequences")) {
    if (!stops->is_array()) return invalid("stop_sequences", "expected an array of strings");
    if (stops->size() > 4) return invalid("stop_sequences", "at most 4 stop sequences are supported by this model's backend");
    for (const auto& s : *stops) {
      if (!s.is_string()) return invalid("stop_sequences", "expected an array of strings");
    }
    if (!stops->empty()) out["stop"] = *stops;
  }

  if (const json* meta = field(body, "metadata")) {
    if (!meta->is_object()) return invalid("metadata", "expected an object");
    if (const json* user = field(*meta, "user_id"); user && user->is_string() && !user->get_ref<const std::string&>().empty()) {
      out["user"] = *user;
    }
  }

  bool thinking = false;
  if (const json* th = field(body, "thinking")) {
    if (!th->is_object()) return invalid("thinking", "expected an object");
    auto type = required_string(*th, "type", "thinking");
    if (!type) return type.error();
    if (*type == "enabled") {
      const json* budget = field(*th, "budget_tokens");
      if (!budget) return missing("thinking.budget_tokens");
      if (!budget->is_number_integer() || budget->get<int64_t>() < 1) {
        return invalid("thinking.budget_tokens", "expected a positive integer");
      }
      out["reasoning_effort"] = effort_for_budget(budget->get<int64_t>());
      thinking = true;
    } else if (*type != "disabled" && *type != "adaptive") {
      return invalid("thinking.type", "expected 'enabled', 'disabled' or 'adaptive'");
    }
  }

  if (const json* oc = field(body, "output_config")) {
    if (!oc->is_object()) return invalid("output_config", "expected an object");
    if (const json* effort = field(*oc, "effort")) {
      if (*effort != "low" && *effort != "medium" && *effort != "high") {
        return invalid("output_config.effort", "expected 'low', 'medium' or 'high'");
      }
      out["reasoning_effort"] = *effort;
    }
    if (const json* format = field(*oc, "format")) {
      if (!format->is_object() || format->value("type", "") != "json_schema" || !format->contains("schema") ||
          !(*format)["schema"].is_object()) {
        return invalid("output_config.format", "expected {\"type\":\"json_schema\",\"schema\":{...}}");
      }
      out["response_format"] = {{"type", "json_schema"},
                                {"json_schema", {{"name", "output"}, {"schema", (*format)["schema"]}}}};
    }
  }

  if (call == MessagesCall::create) {
    out[thinking ? "max_completion_tokens" : "max_tokens"] = *max_tokens;
    if (const json* stream = field(body, "stream")) {
      if (!stream->is_boolean()) return invalid("stream", "expected a boolean");
      if (*stream == true) {
        out["stream"] = true;
        out["stream_options"] = {{"include_usage", true}};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Result<TranslatedMessagesRequest> translate_messages_request(const json& body, MessagesCall call) {
  if (!body.is_object()) return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  TranslatedMessagesRequest t;
  t.body = json::object();
  const json* model = field(body, "model");
  if (!model) return missing("model");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) return invalid("model", "expected a non-empty string");
  t.body["model"] = *model;

  json messages = json::array();
  if (const json* system = field(body, "system")) {
    if (Error e = translate_system(*system, messages)) return *e;
  }
  if (Error e = translate_messages(body, messages)) return *e;
  t.body["messages"] = std::move(messages);
  if (Error e = translate_tools(body, t.body)) return *e;
  if (Error e = translate_generation(body, call, t)) return *e;
  return t;
}

}  // namespace tollgate
