#include "providers/gemini/gemini_contents.h"

#include "tollgate/json_document.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "providers/json_fields.h"
#include "providers/gemini/thought_signatures.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Media type of a remote file from its extension; fileData needs one.
std::string mime_from_url(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return {};
  static const std::map<std::string, std::string> types = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"}, {"webp", "image/webp"},
      {"gif", "image/gif"},   {"heic", "image/heic"}, {"heif", "image/heif"}, {"pdf", "application/pdf"},
      {"mp3", "audio/mp3"},   {"wav", "audio/wav"},   {"mp4", "video/mp4"},   {"txt", "text/plain"}};
  auto it = types.find(lower(path.substr(dot + 1)));
  return it == types.end() ? std::string() : it->second;
}

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

class Converter {
 public:
  Converter(const std::string& model, const ThoughtSignatureStore* signatures)
      : model_(model), signatures_(signatures) {}

  Result<Contents> run(JsonView messages) {
    std::size_t i = 0;
    for (const JsonView m : messages.elements()) {
      const std::string at = "messages[" + std::to_string(i++) + "]";
      if (!m.is_object()) continue;
      const std::string role = json_string(m, "role");
      std::optional<ApiError> err;
      if (role != "tool" && role != "function") flush_tool_results();
      if (role == "system" || role == "developer") {
        err = system(m, at);
      } else if (role == "user") {
        err = user(m, at);
      } else if (role == "assistant") {
        err = assistant(m, at);
      } else if (role == "tool" || role == "function") {
        err = tool(m, at);
      }
      if (err) return *err;
    }
    flush_tool_results();
    return std::move(out_);
  }

 private:
  // Consecutive same-role turns are merged: Gemini rejects them.
  void append(const char* role, json parts) {
    if (parts.empty()) return;
    auto& contents = out_.contents;
    if (!contents.empty() && contents.back()["role"] == role) {
      for (auto& p : parts) contents.back()["parts"].push_back(std::move(p));
    } else {
      contents.push_back({{"role", role}, {"parts", std::move(parts)}});
    }
  }

  std::optional<ApiError> system(JsonView m, const std::string& at) {
    const JsonView content = m["content"];
    if (content.is_string()) {
      if (!content.as_string().empty()) out_.system_parts.push_back({{"text", content.str()}});
    } else if (content.is_array()) {
      for (const JsonView part : content.elements()) {
        if (json_string(part, "type") == "text" && part["text"].is_string() && !part["text"].as_string().empty()) {
          out_.system_parts.push_back({{"text", part["text"].str()}});
        }
      }
    }
    return std::nullopt;
  }

  std::optional<ApiError> media_part(JsonView part, const std::string& at, json& parts) {
    const std::string type = json_string(part, "type");
    if (type == "image_url") {
      const JsonView image = part["image_url"];
      std::string url = image.is_string() ? image.str() : json_string(image, "url");
      std::string mime, data;
      if (url.starts_with("data:")) {
        if (!parse_data_url(url, mime, data)) {
          return ApiError::bad_request("image data URLs must be base64-encoded (data:<type>;base64,...)",
                                       at + ".image_url", "invalid_image_url");
        }
        parts.push_back({{"inlineData", {{"mimeType", mime}, {"data", data}}}});
        return std::nullopt;
      }
      mime = mime_from_url(url);
      if (url.empty() || mime.empty()) {
        return ApiError::bad_request("cannot tell the media type of this image URL for Gemini; send it as a data URL",
                                     at + ".image_url", "unsupported_image_url");
      }
      parts.push_back({{"fileData", {{"mimeType", mime}, {"fileUri", url}}}});
      return std::nullopt;
    }
    if (type == "input_audio") {
      const JsonView audio = part["input_audio"];
      if (!audio.is_object() || !audio["data"].is_string()) {
        return ApiError::bad_request("input_audio needs base64 data", at + ".input_audio", "invalid_value");
      }
      const std::string format = json_string(audio, "format", "wav");
      parts.push_back({{"inlineData", {{"mimeType", format == "mp3" ? "audio/mp3" : "audio/" + format},
                                       {"data", audio["data"].str()}}}});
      return std::nullopt;
    }
    if (type == "file") {
      const JsonView file = part["file"];
      std::string mime, data;
      if (!file.is_object() || !parse_data_url(json_string(file, "file_data"), mime, data)) {
        return ApiError::bad_request("Gemini takes files only as base64 data URLs in file.file_data", at + ".file",
                                     "unsupported_file");
      }
      parts.push_back({{"inlineData", {{"mimeType", mime}, {"data", data}}}});
      return std::nullopt;
    }
    return ApiError::bad_request("content part type \"" + type + "\" is not supported by Gemini", at,
                                 "unsupported_content_type");
  }

  std::optional<ApiError> user(JsonView m, const std::string& at) {
    const JsonView content = m["content"];
    json parts = json::array();
    if (content.is_string()) {
      if (!content.as_string().empty()) parts.push_back({{"text", content.str()}});
    } else if (content.is_array()) {
      std::size_t k = 0;
      for (const JsonView part : content.elements()) {
        const std::size_t index = k++;
        if (!part.is_object()) continue;
        if (json_string(part, "type") == "text") {
          if (part["text"].is_string() && !part["text"].as_string().empty()) parts.push_back({{"text", part["text"].str()}});
          continue;
        }
        if (auto err = media_part(part, at + ".content[" + std::to_string(index) + "]", parts)) return err;
      }
    }
    append("user", std::move(parts));
    return std::nullopt;
  }

  std::optional<ApiError> assistant(JsonView m, const std::string& at) {
    json parts = json::array();
    if (std::string text = text_of(m["content"]); !text.empty()) parts.push_back({{"text", std::move(text)}});
    std::size_t index = 0;
    for (const JsonView call : m["tool_calls"].elements()) {
      const std::size_t k = index++;
      const std::string cat = at + ".tool_calls[" + std::to_string(k) + "]";
      const JsonView fn = call["function"];
      if (!call.is_object() || !fn.is_object()) {
        return ApiError::bad_request("a tool call needs a function object", cat, "invalid_value");
      }
      const std::string name = json_string(fn, "name");
      if (name.empty()) return ApiError::bad_request("a tool call needs a function name", cat + ".function.name", "invalid_value");
      json args = json::object();
      if (const JsonView a = fn["arguments"]; a.is_string() && !a.as_string().empty()) {
        args = parse_json_or_discarded(a.as_string());
        if (args.is_discarded() || !args.is_object()) {
          return ApiError::bad_request("tool call arguments must be a JSON object encoded as a string",
                                       cat + ".function.arguments", "invalid_value");
        }
      } else if (a.is_object()) {
        args = a.to_json();
      }
      json part = {{"functionCall", {{"name", name}, {"args", std::move(args)}}}};
      const std::string id = json_string(call, "id");
      if (!id.empty()) {
        calls_[id] = {name, k};
        if (signatures_) {
          if (auto sig = signatures_->find(id, model_)) part["thoughtSignature"] = *sig;
        }
      }
      parts.push_back(std::move(part));
    }
    append("model", std::move(parts));
    return std::nullopt;
  }

  std::optional<ApiError> tool(JsonView m, const std::string& at) {
    std::string name;
    std::size_t position = pending_.size();
    if (json_string(m, "role") == "function") {
      name = json_string(m, "name");  // legacy function role carries the name itself
    } else {
      const std::string id = json_string(m, "tool_call_id");
      auto it = calls_.find(id);
      if (it == calls_.end()) {
        return ApiError::bad_request("tool_call_id \"" + id + "\" matches no tool call of an earlier assistant message",
                                     at + ".tool_call_id", "invalid_value");
      }
      name = it->second.first;
      position = it->second.second;
    }
    const std::string text = text_of(m["content"]);
    json response = parse_json_or_discarded(text);
    if (response.is_discarded() || !response.is_object()) response = {{"output", text}};
    pending_.push_back({position, {{"functionResponse", {{"name", name}, {"response", std::move(response)}}}}});
    return std::nullopt;
  }

  // All results for one assistant turn go into one user content, in call order.
  void flush_tool_results() {
    if (pending_.empty()) return;
    std::stable_sort(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    json parts = json::array();
    for (auto& [pos, part] : pending_) parts.push_back(std::move(part));
    pending_.clear();
    append("user", std::move(parts));
  }

  std::string model_;
  const ThoughtSignatureStore* signatures_;
  Contents out_;
  std::map<std::string, std::pair<std::string, std::size_t>> calls_;  // id -> name, position in its turn
  std::vector<std::pair<std::size_t, json>> pending_;
};

}  // namespace

bool parse_data_url(const std::string& url, std::string& mime, std::string& data) {
  if (!url.starts_with("data:")) return false;
  auto comma = url.find(',');
  if (comma == std::string::npos) return false;
  std::string meta = url.substr(5, comma - 5);
  if (!meta.ends_with(";base64")) return false;
  mime = lower(meta.substr(0, meta.size() - 7));
  if (auto semi = mime.find(';'); semi != std::string::npos) mime.resize(semi);
  if (mime.empty()) mime = "application/octet-stream";
  if (mime == "image/jpg") mime = "image/jpeg";
  data = url.substr(comma + 1);
  return !data.empty();
}

Result<Contents> convert_messages(JsonView messages, const std::string& model,
                                  const ThoughtSignatureStore* signatures) {
  if (!messages.is_array()) return ApiError::bad_request("messages must be an array", "messages", "invalid_type");
  Converter converter(model, signatures);
  return converter.run(messages);
}

}  // namespace tollgate::gemini
