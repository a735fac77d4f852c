#include "providers/anthropic/anthropic_messages.h"

#include "tollgate/json_document.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "providers/json_fields.h"

namespace tollgate::anthropic {
namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

ApiError unsupported(const std::string& message, const std::string& param, std::string code = "unsupported_value") {
  return ApiError::bad_request(message, param, std::move(code));
}

// A data URL "data:<mime>[;param=value]*;base64,<payload>".
struct DataUrl {
  std::string mime;
  std::string data;
  bool base64 = false;
};

std::optional<DataUrl> parse_data_url(std::string_view url) {
  if (!starts_with_ci(url, "data:")) return std::nullopt;
  const auto comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  DataUrl out;
  std::string_view header = url.substr(5, comma - 5);
  bool first = true;
  while (true) {
    const auto semi = header.find(';');
    const std::string item = lower(trim(header.substr(0, semi)));
    if (first) {
      out.mime = item;
      first = false;
    } else if (item == "base64") {
      out.base64 = true;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  out.data = std::string(url.substr(comma + 1));
  return out;
}

json text_block(std::string_view text, JsonView part) {
  json b = {{"type", "text"}, {"text", text}};
  // Prompt-caching breakpoints set by Anthropic-aware OpenAI clients.
  if (const JsonView cc = part["cache_control"]; cc.is_object()) b["cache_control"] = cc.to_json();
  return b;
}

// Text of a system/developer/tool text part list or string, as text blocks.
Result<json> text_blocks(JsonView content, const std::string& path) {
  json out = json::array();
  if (content.is_string()) {
    if (!content.as_string().empty()) out.push_back(text_block(content.as_string(), {}));
    return out;
  }
  if (!json_given(content)) return out;
  if (!content.is_array()) return ApiError::bad_request("Invalid '" + path + "': expected a string or an array of text parts.", path);
  std::size_t k = 0;
  for (const JsonView part : content.elements()) {
    const std::string pp = path + "[" + std::to_string(k++) + "]";
    const std::string type = json_string(part, "type");
    if (type != "text" || !part["text"].is_string()) {
      return unsupported("Invalid '" + pp + "': only text parts are supported here.", pp);
    }
    const std::string_view text = part["text"].as_string();
    if (!text.empty()) out.push_back(text_block(text, part));
  }
  return out;
}

Result<json> file_block(JsonView part, const std::string& pp) {
  const JsonView file = part["file"];
  if (!file.is_object()) return ApiError::bad_request("Invalid '" + pp + ".file': expected an object.", pp + ".file");
  if (file.contains("file_id")) {
    return unsupported("File references (file_id) cannot be sent to Anthropic models; send file_data instead.",
                       pp + ".file.file_id");
  }
  const std::string data_url = json_string(file, "file_data");
  auto parsed = parse_data_url(data_url);
  if (!parsed || !parsed->base64 || parsed->data.empty()) {
    return ApiError::bad_request("Invalid '" + pp + ".file.file_data': expected a base64 data URL.", pp + ".file.file_data",
                                 "invalid_file_data");
  }
  if (parsed->mime != "application/pdf") {
    return unsupported("Unsupported file type '" + parsed->mime + "': Anthropic models accept PDF documents.",
                       pp + ".file.file_data", "unsupported_file_type");
  }
  return json{{"type", "document"},
              {"source", {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", parsed->data}}}};
}

// A user or tool-result content part.
Result<json> content_block(JsonView part, const std::string& pp) {
  const std::string type = json_string(part, "type");
  if (type == "text") {
    if (!part["text"].is_string()) {
      return ApiError::bad_request("Invalid '" + pp + ".text': expected a string.", pp + ".text");
    }
    return text_block(part["text"].as_string(), part);
  }
  if (type == "image_url") {
    auto source = image_source(part["image_url"], pp + ".image_url");
    if (!source) return source.error();
    return json{{"type", "image"}, {"source", std::move(*source)}};
  }
  if (type == "file") return file_block(part, pp);
  return unsupported("Content parts of type '" + type + "' are not supported by Anthropic models.", pp + ".type",
                     "unsupported_content_type");
}

bool empty_text(const json& block) {
  return json_string(block, "type") == "text" && block["text"].get_ref<const std::string&>().empty();
}

Result<json> user_blocks(JsonView content, const std::string& path) {
  json out = json::array();
  if (content.is_string()) {
    if (!content.as_string().empty()) out.push_back(text_block(content.as_string(), {}));
    return out;
  }
  std::size_t k = 0;
  for (const JsonView part : content.elements()) {
    auto block = content_block(part, path + "[" + std::to_string(k++) + "]");
    if (!block) return block.error();
    if (!empty_text(*block)) out.push_back(std::move(*block));
  }
  return out;
}

Result<json> tool_result_block(JsonView m, const std::string& path) {
  json block = {{"type", "tool_result"}, {"tool_use_id", m["tool_call_id"].to_json()}};
  const JsonView content = m["content"];
  if (content.is_string()) {
    if (!content.as_string().empty()) block["content"] = content.str();
  } else if (content.is_array()) {
    auto blocks = user_blocks(content, path + ".content");
    if (!blocks) return blocks.error();
    if (!blocks->empty()) block["content"] = std::move(*blocks);
  }
  return block;
}

Result<json> tool_use_block(JsonView call, const std::string& pp) {
  const JsonView fn = call["function"];
  if (!call.is_object() || (call.contains("type") && json_string(call, "type") != "function") || !fn.is_object()) {
    return unsupported("Invalid '" + pp + "': only function tool calls are supported.", pp);
  }
  if (!call["id"].is_string() || !fn["name"].is_string()) {
    return ApiError::bad_request("Invalid '" + pp + "': a tool call needs a string id and function.name.", pp);
  }
  json input = json::object();
  const JsonView args = fn["arguments"];
  if (args.is_object()) {
    input = args.to_json();
  } else if (args.is_string() && !trim(args.as_string()).empty()) {
    // Never forward arguments Anthropic cannot take as an object (a
    // truncated replay, a Python repr): the client must fix its history.
    input = parse_json_or_discarded(args.as_string());
    if (input.is_discarded() || !input.is_object()) {
      return ApiError::bad_request("Invalid '" + pp + ".function.arguments': expected a JSON object encoded as a string.",
                                   pp + ".function.arguments", "invalid_tool_arguments");
    }
  } else if (json_given(args) && !args.is_string()) {
    return ApiError::bad_request("Invalid '" + pp + ".function.arguments': expected a JSON object encoded as a string.",
                                 pp + ".function.arguments", "invalid_tool_arguments");
  }
  return json{{"type", "tool_use"}, {"id", call["id"].str()}, {"name", fn["name"].str()}, {"input", std::move(input)}};
}

void replay_thinking(JsonView m, json& out) {
  for (const JsonView b : m["thinking_blocks"].elements()) {
    if (!b.is_object()) continue;
    const std::string type = json_string(b, "type");
    if (type == "thinking" && b["thinking"].is_string() && b["signature"].is_string()) {
      out.push_back({{"type", "thinking"}, {"thinking", b["thinking"].str()}, {"signature", b["signature"].str()}});
    } else if (type == "redacted_thinking" && b["data"].is_string()) {
      out.push_back({{"type", "redacted_thinking"}, {"data", b["data"].str()}});
    }
  }
}

Result<json> assistant_blocks(JsonView m, const std::string& path, std::vector<std::string>& tool_names) {
  json out = json::array();
  replay_thinking(m, out);
  const JsonView content = m["content"];
  if (content.is_string()) {
    if (!content.as_string().empty()) out.push_back(text_block(content.as_string(), {}));
  } else if (content.is_array()) {
    std::size_t k = 0;
    for (const JsonView part : content.elements()) {
      const std::string pp = path + ".content[" + std::to_string(k++) + "]";
      const std::string type = json_string(part, "type");
      const char* key = type == "text" ? "text" : type == "refusal" ? "refusal" : nullptr;
      if (!key || !part[key].is_string()) {
        return unsupported("Invalid '" + pp + "': assistant content parts must be text or refusal.", pp);
      }
      if (!part[key].as_string().empty()) out.push_back(text_block(part[key].as_string(), part));
    }
  }
  if (json_given(m["function_call"])) {
    return unsupported("Legacy function_call messages are not supported for Anthropic models; use tool_calls.",
                       path + ".function_call");
  }
  if (const JsonView calls = m["tool_calls"]; calls.is_array()) {
    std::size_t j = 0;
    for (const JsonView call : calls.elements()) {
      auto block = tool_use_block(call, path + ".tool_calls[" + std::to_string(j++) + "]");
      if (!block) return block.error();
      const std::string name = (*block)["name"].get<std::string>();
      if (std::find(tool_names.begin(), tool_names.end(), name) == tool_names.end()) tool_names.push_back(name);
      out.push_back(std::move(*block));
    }
  }
  return out;
}

// Appends a turn, merging it into the previous one when the role repeats.
// tool_result blocks must open a user turn, so they move ahead of the rest.
void push_turn(json& turns, const char* role, json blocks) {
  if (blocks.empty()) return;
  if (!turns.empty() && turns.back()["role"] == role) {
    auto& content = turns.back()["content"];
    for (auto& b : blocks) content.push_back(std::move(b));
  } else {
    turns.push_back({{"role", role}, {"content", std::move(blocks)}});
  }
  auto& content = turns.back()["content"].get_ref<json::array_t&>();
  std::stable_partition(content.begin(), content.end(),
                        [](const json& b) { return json_string(b, "type") == "tool_result"; });
}

// A final assistant turn is a prefill: trailing whitespace is rejected.
void trim_prefill(json& turns) {
  while (!turns.empty() && turns.back()["role"] == "assistant") {
    auto& content = turns.back()["content"];
    if (content.empty() || json_string(content.back(), "type") != "text") return;
    std::string text = content.back()["text"].get<std::string>();
    text.erase(text.find_last_not_of(" \t\r\n") + 1);
    if (!text.empty()) {
      content.back()["text"] = text;
      return;
    }
    content.erase(content.size() - 1);
    if (!content.empty()) return;
    turns.erase(turns.size() - 1);
  }
}

}  // namespace

Result<json> image_source(JsonView image_url, const std::string& param) {
  std::string url;
  if (image_url.is_string()) url = image_url.str();
  if (image_url.is_object() && image_url["url"].is_string()) url = image_url["url"].str();
  if (auto data = parse_data_url(url)) {
    if (!data->base64 || data->data.empty()) {
      return ApiError::bad_request("Invalid '" + param + "': image data URLs must be base64-encoded.", param,
                                   "invalid_image_url");
    }
    std::string mime = data->mime == "image/jpg" ? "image/jpeg" : data->mime;
    if (mime != "image/jpeg" && mime != "image/png" && mime != "image/gif" && mime != "image/webp") {
      return ApiError::bad_request("Unsupported image type '" + data->mime +
                                       "': Anthropic models accept image/jpeg, image/png, image/gif and image/webp.",
                                   param, "unsupported_image_type");
    }
    return json{{"type", "base64"}, {"media_type", mime}, {"data", data->data}};
  }
  if (starts_with_ci(url, "https://") || starts_with_ci(url, "http://")) return json{{"type", "url"}, {"url", url}};
  return ApiError::bad_request("Invalid '" + param + "': expected an http(s) URL or a base64 data URL.", param,
                               "invalid_image_url");
}

Result<ConvertedMessages> convert_messages(JsonView messages) {
  ConvertedMessages out;
  if (!messages.is_array()) return ApiError::bad_request("Invalid 'messages': expected an array.", "messages");
  std::size_t i = 0;
  for (const JsonView m : messages.elements()) {
    const std::string path = "messages[" + std::to_string(i++) + "]";
    if (!m.is_object()) return ApiError::bad_request("Invalid '" + path + "': expected an object.", path);
    const std::string role = json_string(m, "role");
    const JsonView content = m["content"];
    if (role == "system" || role == "developer") {
      auto blocks = text_blocks(content, path + ".content");
      if (!blocks) return blocks.error();
      for (auto& b : *blocks) out.system.push_back(std::move(b));
    } else if (role == "user") {
      auto blocks = user_blocks(content, path + ".content");
      if (!blocks) return blocks.error();
      push_turn(out.messages, "user", std::move(*blocks));
    } else if (role == "assistant") {
      auto blocks = assistant_blocks(m, path, out.history_tools);
      if (!blocks) return blocks.error();
      push_turn(out.messages, "assistant", std::move(*blocks));
    } else if (role == "tool") {
      if (!m["tool_call_id"].is_string()) {
        return ApiError::bad_request("Missing required parameter: '" + path + ".tool_call_id'.", path + ".tool_call_id",
                                     "missing_required_parameter");
      }
      auto block = tool_result_block(m, path);
      if (!block) return block.error();
      out.has_tool_results = true;
      push_turn(out.messages, "user", json::array({std::move(*block)}));
    } else {
      return unsupported("Messages with role '" + role + "' are not supported for Anthropic models; use tool messages.",
                         path + ".role");
    }
  }
  trim_prefill(out.messages);
  if (out.messages.empty()) {
    return ApiError::bad_request("Invalid 'messages': at least one user or assistant message with content is required.",
                                 "messages", "invalid_value");
  }
  return out;
}

}  // namespace tollgate::anthropic
