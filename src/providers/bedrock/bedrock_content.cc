#include "providers/bedrock/bedrock_content.h"

#include "tollgate/json_document.h"

#include <algorithm>
#include <cctype>

#include "providers/json_fields.h"

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

struct DataUrl {
  std::string mime;  // lower-case
  std::string data;  // base64
};

// data:<mime>[;param]*;base64,<data>; nullopt for anything else.
std::optional<DataUrl> parse_data_url(std::string_view url) {
  if (!url.starts_with("data:")) return std::nullopt;
  const auto comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view meta = url.substr(5, comma - 5);
  DataUrl out;
  bool base64 = false;
  std::size_t start = 0;
  for (int i = 0; start <= meta.size(); ++i) {
    const auto end = std::min(meta.find(';', start), meta.size());
    std::string part(meta.substr(start, end - start));
    std::transform(part.begin(), part.end(), part.begin(), [](unsigned char c) { return std::tolower(c); });
    if (i == 0) {
      out.mime = part;
    } else if (part == "base64") {
      base64 = true;
    }
    start = end + 1;
  }
  if (!base64) return std::nullopt;
  out.data = std::string(url.substr(comma + 1));
  return out;
}

std::optional<std::string> image_format(const std::string& mime) {
  if (mime == "image/png") return "png";
  if (mime == "image/jpeg" || mime == "image/jpg") return "jpeg";
  if (mime == "image/gif") return "gif";
  if (mime == "image/webp") return "webp";
  return std::nullopt;
}

std::optional<std::string> document_format(const std::string& mime) {
  static const std::pair<const char*, const char*> kFormats[] = {
      {"application/pdf", "pdf"},
      {"text/csv", "csv"},
      {"application/msword", "doc"},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
      {"application/vnd.ms-excel", "xls"},
      {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
      {"text/html", "html"},
      {"text/plain", "txt"},
      {"text/markdown", "md"},
  };
  for (const auto& [m, f] : kFormats) {
    if (mime == m) return f;
  }
  return std::nullopt;
}

// Bedrock document names allow letters, digits, single spaces, hyphens,
// parentheses and square brackets.
std::string document_name(JsonView file, std::size_t ordinal) {
  std::string name = json_string(file, "filename");
  if (auto dot = name.rfind('.'); dot != std::string::npos && dot > 0) name.resize(dot);
  std::string out;
  for (unsigned char c : name) {
    const bool ok = std::isalnum(c) || c == '-' || c == '(' || c == ')' || c == '[' || c == ']';
    if (ok) {
      out.push_back(static_cast<char>(c));
    } else if (!out.empty() && out.back() != ' ' && out.back() != '-') {
      out.push_back(c == ' ' ? ' ' : '-');
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '-')) out.pop_back();
  return out.empty() ? "document-" + std::to_string(ordinal + 1) : out;
}

}  // namespace

ApiError unsupported(std::string message, std::string param, std::string code) {
  return ApiError::bad_request(std::move(message), std::move(param), std::move(code));
}

// A user content part -> a Converse content block (nullopt: nothing to send).
Result<std::optional<json>> user_content_block(JsonView part, const std::string& param, std::size_t& documents) {
  const std::string type = json_string(part, "type");
  if (type == "text") {
    const std::string text = json_string(part, "text");
    if (text.empty()) return std::optional<json>();
    return std::optional<json>(json{{"text", text}});
  }
  if (type == "image_url") {
    const JsonView iu = part["image_url"];
    const std::string url = iu.is_string() ? iu.str() : json_string(iu, "url");
    auto data = parse_data_url(url);
    if (!data) {
      return unsupported("Bedrock cannot fetch image URLs; send the image inline as a base64 data URL.",
                         param + ".image_url", "unsupported_image_url");
    }
    auto format = image_format(data->mime);
    if (!format) {
      return unsupported("Unsupported image type '" + data->mime + "': Bedrock accepts png, jpeg, gif and webp.",
                         param + ".image_url", "unsupported_image_type");
    }
    return std::optional<json>(json{{"image", {{"format", *format}, {"source", {{"bytes", data->data}}}}}});
  }
  if (type == "file") {
    const JsonView file = part["file"];  // anything but an object reads as {}
    auto data = parse_data_url(json_string(file, "file_data"));
    auto format = data ? document_format(data->mime) : std::nullopt;
    if (!format) {
      return unsupported("Bedrock accepts documents inline as base64 data URLs of type pdf, csv, doc, docx, xls, "
                         "xlsx, html, txt or md.",
                         param + ".file", "unsupported_file_type");
    }
    json doc = {{"format", *format}, {"name", document_name(file, documents++)}, {"source", {{"bytes", data->data}}}};
    return std::optional<json>(json{{"document", std::move(doc)}});
  }
  return unsupported("Content parts of type '" + type + "' are not supported by Bedrock.", param + ".type");
}

// Text of a system/developer or tool message: a string or text parts.
Result<std::vector<std::string>> text_parts(JsonView content, const std::string& param) {
  std::vector<std::string> out;
  if (content.is_string()) {
    out.push_back(content.str());
    return out;
  }
  std::size_t k = 0;
  for (const JsonView part : content.elements()) {
    if (json_string(part, "type") != "text") {
      return unsupported("Only text content parts are supported here.", param + ".content[" + std::to_string(k) + "]");
    }
    ++k;
    if (const JsonView text = part["text"]; text.is_string()) out.push_back(text.str());
  }
  return out;
}

Result<json> tool_input(JsonView call, const std::string& param) {
  const JsonView args = call["function"]["arguments"];
  if (args.is_object()) return args.to_json();
  if (!json_given(args) || (args.is_string() && args.as_string().empty())) return json::object();
  json parsed = args.is_string() ? parse_json_or_discarded(args.as_string()) : json(json::value_t::discarded);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return ApiError::bad_request("Invalid tool-call arguments: expected a JSON object encoded as a string.",
                                 param + ".function.arguments", "invalid_value");
  }
  return parsed;
}

}  // namespace tollgate::bedrock
