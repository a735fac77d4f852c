#include "api/anthropic_messages_request.h"

#include <cstdint>
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

// An integer member's value; one beyond int64 reads as negative (too large
// for any count here), as it always did. as_int64() saturates, so INT64_MAX
// itself (unsigned in a gateway-built tree) is told apart by its exact value.
int64_t integer(JsonView v) {
  if (v.is_number_unsigned() && v.to_json().get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return -1;
  return v.as_int64();
}

// The member, or an absent view when it is missing or null.
JsonView field(JsonView obj, const char* key) {
  const JsonView v = obj[key];
  return v.is_null() ? JsonView() : v;
}

// The block's type, or an error when the block is not an object with a string type.
Result<std::string> block_type(JsonView block, const std::string& path) {
  if (!block.is_object()) return invalid(path, "expected a content block object");
  const JsonView type = field(block, "type");
  if (!type) return missing(path + ".type");
  if (!type.is_string()) return invalid(path + ".type", "expected a string");
  return type.str();
}

Result<std::string> text_of(JsonView block, const std::string& path) {
  const JsonView text = field(block, "text");
  if (!text) return missing(path + ".text");
  if (!text.is_string()) return invalid(path + ".text", "expected a string");
  return text.str();
}

Result<std::string> required_string(JsonView obj, const char* key, const std::string& path) {
  const JsonView v = field(obj, key);
  if (!v) return missing(path + "." + key);
  if (!v.is_string() || v.as_string().empty()) return invalid(path + "." + key, "expected a non-empty string");
  return v.str();
}

void join_into(std::string& out, const std::string& text) {
  if (text.empty()) return;
  if (!out.empty()) out += "\n";
  out += text;
}

bool is_image_media_type(std::string_view t) {
  return t == "image/jpeg" || t == "image/png" || t == "image/gif" || t == "image/webp";
}

Result<json> image_part(JsonView block, const std::string& path) {
  const JsonView source = field(block, "source");
  if (!source) return missing(path + ".source");
  if (!source.is_object()) return invalid(path + ".source", "expected an object");
  auto kind = required_string(source, "type", path + ".source");
  if (!kind) return kind.error();
  if (*kind == "url") {
    auto url = required_string(source, "url", path + ".source");
    if (!url) return url.error();
    return json{{"type", "image_url"}, {"image_url", {{"url", *url}}}};
  }
  if (*kind != "base64") return invalid(path + ".source.type", "unsupported image source '" + *kind + "'; use 'base64' or 'url'");
  auto media = required_string(source, "media_type", path + ".source");
  if (!media) return media.error();
  if (!is_image_media_type(*media)) {
    return invalid(path + ".source.media_type",
                   "unsupported image type '" + *media + "'; use image/jpeg, image/png, image/gif or image/webp",
                   "unsupported_image_type");
  }
  auto data = required_string(source, "data", path + ".source");
  if (!data) return data.error();
  return json{{"type", "image_url"}, {"image_url", {{"url", "data:" + *media + ";base64," + *data}}}};
}

Result<json> document_part(JsonView block, const std::string& path) {
  const JsonView source = field(block, "source");
  if (!source) return missing(path + ".source");
  if (!source.is_object()) return invalid(path + ".source", "expected an object");
  auto kind = required_string(source, "type", path + ".source");
  if (!kind) return kind.error();
  auto data = required_string(source, "data", path + ".source");
  if (*kind == "text") {
    if (!data) return data.error();
    return json{{"type", "text"}, {"text", *data}};
  }
  if (*kind == "base64" && source["media_type"] == "application/pdf") {
    if (!data) return data.error();
    return json{{"type", "file"},
                {"file", {{"filename", "document.pdf"}, {"file_data", "data:application/pdf;base64," + *data}}}};
  }
  return invalid(path + ".source", "only base64 PDF and plain-text documents are supported", "unsupported_document");
}

// A tool_result's content as the text of a tool message. Images in it cannot
// ride on a tool message: they go to the user message that follows.
Result<std::string> tool_result_text(JsonView block, const std::string& path, json& images) {
  const JsonView content = field(block, "content");
  if (!content) return std::string();
  if (content.is_string()) return content.str();
  if (!content.is_array()) return invalid(path + ".content", "expected a string or an array of content blocks");
  std::string text;
  std::size_t k = 0;
  for (const JsonView item : content.elements()) {
    const std::string p = at(path + ".content", k++);
    auto type = block_type(item, p);
    if (!type) return type.error();
    if (*type == "text") {
      auto t = text_of(item, p);
      if (!t) return t.error();
      join_into(text, *t);
    } else if (*type == "image") {
      auto img = image_part(item, p);
      if (!img) return img.error();
      images.push_back(std::move(*img));
    } else if (*type == "tool_reference") {
      // Tool search (advanced-tool-use beta) answers with references to
      // deferred tools, which are all in `tools` here: the name is the result.
      auto name = required_string(item, "tool_name", p);
      if (!name) return name.error();
      join_into(text, "Tool loaded: " + *name);
    } else {
      return invalid(p + ".type", "unsupported block type '" + *type + "' in a tool_result", "unsupported_content");
    }
  }
  return text;
}

Error user_message(JsonView content, const std::string& path, json& out) {
  if (content.is_string()) {
    out.push_back({{"role", "user"}, {"content", content.str()}});
    return std::nullopt;
  }
  json tool_messages = json::array();
  json parts = json::array();
  json result_images = json::array();
  std::size_t k = 0;
  for (const JsonView block : content.elements()) {
    const std::string p = at(path, k++);
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

// A thinking block carries its text and signature, a redacted one its data:
// strings, as Anthropic's API requires them.
Error check_thinking_block(JsonView block, const std::string& type, const std::string& path) {
  for (const char* key : type == "thinking" ? std::initializer_list<const char*>{"thinking", "signature"}
                                            : std::initializer_list<const char*>{"data"}) {
    const JsonView v = field(block, key);
    if (!v) {
      // A signature may be missing in a history the client built itself.
      if (std::string_view(key) == "signature") continue;
      return missing(path + "." + key);
    }
    if (!v.is_string()) return invalid(path + "." + key, "expected a string");
  }
  return std::nullopt;
}

Error assistant_message(JsonView content, const std::string& path, json& out) {
  if (content.is_string()) {
    out.push_back({{"role", "assistant"}, {"content", content.str()}});
    return std::nullopt;
  }
  std::string text;
  json tool_calls = json::array();
  std::size_t k = 0;
  for (const JsonView block : content.elements()) {
    const std::string p = at(path, k++);
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
      const JsonView input = field(block, "input");
      if (input && !input.is_object()) return invalid(p + ".input", "expected an object");
      // Written as nlohmann writes it (keys sorted), as it always was.
      const std::string arguments = input ? input.to_json().dump(-1, ' ', false, json::error_handler_t::replace) : "{}";
      tool_calls.push_back({{"id", *id}, {"type", "function"}, {"function", {{"name", *name}, {"arguments", arguments}}}});
    } else if (*type == "thinking" || *type == "redacted_thinking") {
      // Checked, then dropped: OpenAI-shaped upstreams cannot take them back.
      if (Error e = check_thinking_block(block, *type, p)) return e;
    } else {
      return invalid(p + ".type", "unsupported block type '" + *type + "' in an assistant message", "unsupported_content");
    }
  }
  json m = {{"role", "assistant"}, {"content", text.empty() && !tool_calls.empty() ? json(nullptr) : json(text)}};
  if (!tool_calls.empty()) m["tool_calls"] = std::move(tool_calls);
  out.push_back(std::move(m));
  return std::nullopt;
}

// The top-level `system` (path "system"), or a message of role system
// between turns (the mid-conversation-system beta; path "messages[i].content"):
// a string or text blocks, joined into one system message in place.
Error translate_system(JsonView system, json& messages, const std::string& path = "system") {
  std::string text;
  if (system.is_string()) {
    text = system.str();
  } else if (system.is_array()) {
    std::size_t i = 0;
    for (const JsonView block : system.elements()) {
      const std::string p = at(path, i++);
      auto type = block_type(block, p);
      if (!type) return type.error();
      if (*type != "text") return invalid(p + ".type", "expected 'text'");
      auto t = text_of(block, p);
      if (!t) return t.error();
      join_into(text, *t);
    }
  } else {
    return invalid(path, "expected a string or an array of text blocks");
  }
  if (!text.empty()) messages.push_back({{"role", "system"}, {"content", text}});
  return std::nullopt;
}

Error translate_messages(JsonView body, json& messages) {
  const JsonView in = field(body, "messages");
  if (!in) return missing("messages");
  if (!in.is_array()) return invalid("messages", "expected an array");
  if (in.empty()) return invalid("messages", "at least one message is required", "empty_array");
  std::size_t i = 0;
  for (const JsonView m : in.elements()) {
    const std::string p = at("messages", i++);
    if (!m.is_object()) return invalid(p, "expected an object");
    auto role = required_string(m, "role", p);
    if (!role) return role.error();
    const JsonView content = field(m, "content");
    if (!content) return missing(p + ".content");
    if (!content.is_string() && !content.is_array()) {
      return invalid(p + ".content", "expected a string or an array of content blocks");
    }
    Error e;
    if (*role == "user") {
      e = user_message(content, p + ".content", messages);
    } else if (*role == "assistant") {
      e = assistant_message(content, p + ".content", messages);
    } else if (*role == "system") {
      e = translate_system(content, messages, p + ".content");
    } else {
      e = invalid(p + ".role", "expected 'user', 'assistant' or 'system'");
    }
    if (e) return e;
  }
  return std::nullopt;
}

Error translate_tools(JsonView body, json& out) {
  const JsonView tools = field(body, "tools");
  json functions = json::array();
  if (tools) {
    if (!tools.is_array()) return invalid("tools", "expected an array");
    std::size_t i = 0;
    for (const JsonView t : tools.elements()) {
      const std::string p = at("tools", i++);
      if (!t.is_object()) return invalid(p, "expected an object");
      if (const JsonView type = field(t, "type"); type && !(type == "custom")) {
        return invalid(p + ".type", "server tool " + type.to_json().dump() + " is not supported by this gateway; define a client tool with input_schema",
                       "unsupported_tool");
      }
      auto name = required_string(t, "name", p);
      if (!name) return name.error();
      const JsonView schema = field(t, "input_schema");
      if (!schema) return missing(p + ".input_schema");
      if (!schema.is_object()) return invalid(p + ".input_schema", "expected a JSON schema object");
      json fn = {{"name", *name}, {"parameters", schema.to_json()}};
      if (const JsonView d = field(t, "description"); d.is_string()) fn["description"] = d.str();
      if (const JsonView s = field(t, "strict"); s.is_boolean()) fn["strict"] = s.as_bool();
      functions.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
  }
  if (!functions.empty()) out["tools"] = functions;

  const JsonView choice = field(body, "tool_choice");
  if (!choice) return std::nullopt;
  if (!choice.is_object()) return invalid("tool_choice", "expected an object");
  auto type = required_string(choice, "type", "tool_choice");
  if (!type) return type.error();
  json mapped;
  if (*type == "auto") {
    mapped = "auto";
  } else if (*type == "any") {
    mapped = "required";
  } else if (*type == "none") {
    mapped = "none";
  } else if (*type == "tool") {
    auto name = required_string(choice, "name", "tool_choice");
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
  if (field(choice, "disable_parallel_tool_use").as_bool()) out["parallel_tool_calls"] = false;
  return std::nullopt;
}

Error number_in(JsonView body, const char* key, double lo, double hi, json& out) {
  const JsonView v = field(body, key);
  if (!v) return std::nullopt;
  if (!v.is_number()) return invalid(key, "expected a number");
  const double d = v.as_double();
  if (d < lo || d > hi) return invalid(key, "must be between " + json(lo).dump() + " and " + json(hi).dump());
  out[key] = v.to_json();
  return std::nullopt;
}

std::string effort_for_budget(int64_t budget) {
  if (budget < 2048) return "low";
  if (budget < 8192) return "medium";
  return "high";
}

// output_config.effort as the closest reasoning_effort OpenAI-shaped
// upstreams accept: low, medium and high as they are; xhigh and max, which
// few of them know, as high.
Result<std::string> reasoning_effort_for(JsonView effort) {
  if (effort.is_string()) {
    const std::string_view e = effort.as_string();
    if (e == "low" || e == "medium" || e == "high") return std::string(e);
    if (e == "xhigh" || e == "max") return std::string("high");
  }
  return invalid("output_config.effort", "expected 'low', 'medium', 'high', 'xhigh' or 'max'");
}

Error translate_generation(JsonView body, MessagesCall call, TranslatedMessagesRequest& t) {
  json& out = t.body;
  const JsonView max_tokens = field(body, "max_tokens");
  if (call == MessagesCall::create) {
    if (!max_tokens) return missing("max_tokens");
    if (!max_tokens.is_number_integer() || integer(max_tokens) < 1) {
      return invalid("max_tokens", "expected an integer greater than or equal to 1");
    }
  }
  if (Error e = number_in(body, "temperature", 0, 1, out)) return e;
  if (Error e = number_in(body, "top_p", 0, 1, out)) return e;
  if (field(body, "top_k")) t.notes.push_back("dropped top_k");

  if (const JsonView stops = field(body, "stop_sequences")) {
    if (!stops.is_array()) return invalid("stop_sequences", "expected an array of strings");
    if (stops.size() > 4) return invalid("stop_sequences", "at most 4 stop sequences are supported by this model's backend");
    for (const JsonView s : stops.elements()) {
      if (!s.is_string()) return invalid("stop_sequences", "expected an array of strings");
    }
    if (!stops.empty()) out["stop"] = stops.to_json();
  }

  if (const JsonView meta = field(body, "metadata")) {
    if (!meta.is_object()) return invalid("metadata", "expected an object");
    if (const JsonView user = field(meta, "user_id"); user.is_string() && !user.as_string().empty()) out["user"] = user.str();
  }

  bool thinking = false;
  if (const JsonView th = field(body, "thinking")) {
    if (!th.is_object()) return invalid("thinking", "expected an object");
    auto type = required_string(th, "type", "thinking");
    if (!type) return type.error();
    if (*type == "enabled") {
      const JsonView budget = field(th, "budget_tokens");
      if (!budget) return missing("thinking.budget_tokens");
      if (!budget.is_number_integer() || integer(budget) < 1) {
        return invalid("thinking.budget_tokens", "expected a positive integer");
      }
      out["reasoning_effort"] = effort_for_budget(integer(budget));
      thinking = true;
    } else if (*type == "adaptive") {
      // The model decides how much to think; output_config.effort (below)
      // says how hard, medium when absent.
      out["reasoning_effort"] = "medium";
      thinking = true;
    } else if (*type != "disabled") {
      return invalid("thinking.type", "expected 'enabled', 'disabled' or 'adaptive'");
    }
    if (const JsonView display = field(th, "display"); display && !display.is_string()) {
      return invalid("thinking.display", "expected a string");
    }
  }

  if (const JsonView oc = field(body, "output_config")) {
    if (!oc.is_object()) return invalid("output_config", "expected an object");
    if (const JsonView effort = field(oc, "effort")) {
      auto mapped = reasoning_effort_for(effort);
      if (!mapped) return mapped.error();
      if (*mapped != effort.as_string()) {
        t.notes.push_back("output_config.effort " + effort.str() + " sent as reasoning_effort " + *mapped);
      }
      out["reasoning_effort"] = *mapped;
    }
    if (const JsonView format = field(oc, "format")) {
      // A type that is not a string is no json_schema format.
      if (!format.is_object() || !(format["type"] == "json_schema") || !format["schema"].is_object()) {
        return invalid("output_config.format", "expected {\"type\":\"json_schema\",\"schema\":{...}}");
      }
      out["response_format"] = {{"type", "json_schema"},
                                {"json_schema", {{"name", "output"}, {"schema", format["schema"].to_json()}}}};
    }
  }

  // Server-side context editing exists only on Anthropic's API (which takes
  // the request natively); elsewhere the conversation is sent as it is.
  if (const JsonView cm = field(body, "context_management")) {
    if (!cm.is_object()) return invalid("context_management", "expected an object");
    if (const JsonView edits = field(cm, "edits"); edits && !edits.is_array()) {
      return invalid("context_management.edits", "expected an array");
    }
    t.notes.push_back("ignored context_management");
  }

  if (call == MessagesCall::create) {
    out[thinking ? "max_completion_tokens" : "max_tokens"] = max_tokens.to_json();
    if (const JsonView stream = field(body, "stream")) {
      if (!stream.is_boolean()) return invalid("stream", "expected a boolean");
      if (stream.as_bool()) {
        out["stream"] = true;
        out["stream_options"] = {{"include_usage", true}};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Result<TranslatedMessagesRequest> translate_messages_request(JsonView body, MessagesCall call) {
  if (!body.is_object()) return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  TranslatedMessagesRequest t;
  t.body = json::object();
  const JsonView model = field(body, "model");
  if (!model) return missing("model");
  if (!model.is_string() || model.as_string().empty()) return invalid("model", "expected a non-empty string");
  t.body["model"] = model.str();

  json messages = json::array();
  if (const JsonView system = field(body, "system")) {
    if (Error e = translate_system(system, messages)) return *e;
  }
  if (Error e = translate_messages(body, messages)) return *e;
  t.body["messages"] = std::move(messages);
  if (Error e = translate_tools(body, t.body)) return *e;
  if (Error e = translate_generation(body, call, t)) return *e;
  return t;
}

}  // namespace tollgate
