#include "providers/bedrock/bedrock_request.h"
#include "providers/bedrock/json_fields.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "providers/bedrock/sigv4.h"

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
std::string document_name(const json& file, std::size_t ordinal) {
  std::string name = str_or(file, "filename");
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

ApiError unsupported(std::string message, std::string param, std::string code = "unsupported_content") {
  return ApiError::bad_request(std::move(message), std::move(param), std::move(code));
}

// A user content part -> a Converse content block (nullopt: nothing to send).
Result<std::optional<json>> user_part(const json& part, const std::string& param, std::size_t& documents) {
  const std::string type = str_or(part, "type");
  if (type == "text") {
    const std::string text = part.contains("text") && part["text"].is_string() ? part["text"].get<std::string>() : "";
    if (text.empty()) return std::optional<json>();
    return std::optional<json>(json{{"text", text}});
  }
  if (type == "image_url") {
    const json& iu = part.contains("image_url") ? part["image_url"] : json();
    const std::string url = iu.is_object() ? str_or(iu, "url") : iu.is_string() ? iu.get<std::string>() : "";
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
    const json& file = part.contains("file") && part["file"].is_object() ? part["file"] : json::object();
    auto data = parse_data_url(str_or(file, "file_data"));
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
Result<std::vector<std::string>> text_parts(const json& content, const std::string& param) {
  std::vector<std::string> out;
  if (content.is_string()) {
    out.push_back(content.get<std::string>());
    return out;
  }
  if (!content.is_array()) return out;
  for (std::size_t k = 0; k < content.size(); ++k) {
    const json& part = content[k];
    if (str_or(part, "type") != "text") {
      return unsupported("Only text content parts are supported here.", param + ".content[" + std::to_string(k) + "]");
    }
    if (part.contains("text") && part["text"].is_string()) out.push_back(part["text"].get<std::string>());
  }
  return out;
}

Result<json> tool_input(const json& call, const std::string& param) {
  const json& fn = call.contains("function") ? call["function"] : json();
  const json args = fn.is_object() && fn.contains("arguments") ? fn["arguments"] : json();
  if (args.is_object()) return args;
  if (args.is_null() || (args.is_string() && args.get_ref<const std::string&>().empty())) return json::object();
  json parsed = args.is_string() ? json::parse(args.get<std::string>(), nullptr, false) : json(json::value_t::discarded);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return ApiError::bad_request("Invalid tool-call arguments: expected a JSON object encoded as a string.",
                                 param + ".function.arguments", "invalid_value");
  }
  return parsed;
}

struct Conversation {
  json system = json::array();
  json messages = json::array();
  std::vector<std::string> history_tools;  // names used by toolUse blocks, first use first
  bool tool_history = false;

  void add(const char* role, json blocks) {
    if (blocks.empty()) return;
    if (!messages.empty() && messages.back()["role"] == role) {
      for (auto& b : blocks) messages.back()["content"].push_back(std::move(b));
    } else {
      messages.push_back({{"role", role}, {"content", std::move(blocks)}});
    }
  }
};

Result<json> assistant_blocks(const json& m, const std::string& p, Conversation& conv) {
  json blocks = json::array();
  const json content = m.contains("content") ? m["content"] : json();
  if (content.is_string() && !content.get_ref<const std::string&>().empty()) blocks.push_back({{"text", content}});
  if (content.is_array()) {
    for (const auto& part : content) {
      if (str_or(part, "type") == "text" && part.contains("text") && part["text"].is_string() &&
          !part["text"].get_ref<const std::string&>().empty()) {
        blocks.push_back({{"text", part["text"]}});
      }
    }
  }
  if (m.contains("function_call") && !m["function_call"].is_null()) {
    return unsupported("Legacy function_call messages are not supported; use tool_calls.", p + ".function_call");
  }
  const json calls = m.contains("tool_calls") ? m["tool_calls"] : json();
  if (!calls.is_array()) return blocks;
  for (std::size_t j = 0; j < calls.size(); ++j) {
    const std::string cp = p + ".tool_calls[" + std::to_string(j) + "]";
    const json& call = calls[j];
    const json& fn = call.is_object() && call.contains("function") ? call["function"] : json();
    if (!call.is_object() || !call.contains("id") || !call["id"].is_string() || !fn.is_object() ||
        !fn.contains("name") || !fn["name"].is_string()) {
      return ApiError::bad_request("Each tool call needs a string id and function.name.", cp, "invalid_value");
    }
    auto input = tool_input(call, cp);
    if (!input) return input.error();
    const std::string name = fn["name"].get<std::string>();
    blocks.push_back({{"toolUse", {{"toolUseId", call["id"]}, {"name", name}, {"input", std::move(*input)}}}});
    conv.tool_history = true;
    if (std::find(conv.history_tools.begin(), conv.history_tools.end(), name) == conv.history_tools.end()) {
      conv.history_tools.push_back(name);
    }
  }
  return blocks;
}

Result<Conversation> convert_messages(const json& messages, std::vector<std::string>& notes) {
  Conversation conv;
  std::size_t documents = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    const std::string role = str_or(m, "role");
    const json content = m.contains("content") ? m["content"] : json();
    if (role == "system" || role == "developer") {
      auto texts = text_parts(content, p);
      if (!texts) return texts.error();
      for (auto& t : *texts) {
        if (!t.empty()) conv.system.push_back({{"text", std::move(t)}});
      }
    } else if (role == "user") {
      json blocks = json::array();
      if (content.is_string() && !content.get_ref<const std::string&>().empty()) blocks.push_back({{"text", content}});
      for (std::size_t k = 0; content.is_array() && k < content.size(); ++k) {
        auto block = user_part(content[k], p + ".content[" + std::to_string(k) + "]", documents);
        if (!block) return block.error();
        if (*block) blocks.push_back(std::move(**block));
      }
      conv.add("user", std::move(blocks));
    } else if (role == "assistant") {
      auto blocks = assistant_blocks(m, p, conv);
      if (!blocks) return blocks.error();
      conv.add("assistant", std::move(*blocks));
    } else if (role == "tool") {
      auto texts = text_parts(content, p);
      if (!texts) return texts.error();
      json result = json::array();
      for (auto& t : *texts) result.push_back({{"text", std::move(t)}});
      if (result.empty()) result.push_back({{"text", ""}});
      conv.tool_history = true;
      conv.add("user", json::array({{{"toolResult",
                                      {{"toolUseId", m["tool_call_id"]}, {"content", std::move(result)},
                                       {"status", "success"}}}}}));
    } else {
      return unsupported("Legacy function messages are not supported; use tool messages.", p + ".role");
    }
  }
  if (conv.messages.empty()) {
    return ApiError::bad_request("Bedrock needs at least one user or assistant message with content.", "messages",
                                 "invalid_value");
  }
  if (conv.messages.front()["role"] != "user") {
    conv.messages.insert(conv.messages.begin(), json{{"role", "user"}, {"content", json::array({{{"text", "."}}})}});
    notes.push_back("inserted a placeholder user turn (Bedrock conversations start with a user message)");
  }
  // A final assistant turn is a prefill, which must not end in whitespace.
  json& last = conv.messages.back();
  if (last["role"] == "assistant" && last["content"].back().contains("text")) {
    std::string text = last["content"].back()["text"].get<std::string>();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (text.empty()) {
      last["content"].erase(last["content"].size() - 1);
      if (last["content"].empty()) conv.messages.erase(conv.messages.size() - 1);
    } else {
      last["content"].back()["text"] = text;
    }
  }
  return conv;
}

// A parameter Converse cannot express: dropped with a note, or a 400.
std::optional<ApiError> unsupported_param(const std::string& name, ParamPolicy policy, std::vector<std::string>& notes) {
  if (policy == ParamPolicy::reject) {
    return ApiError::bad_request("'" + name + "' is not supported by this model on Bedrock.", name,
                                 "unsupported_parameter");
  }
  notes.push_back("dropped " + name);
  return std::nullopt;
}

bool meaningful(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_object() || v.is_array() || v.is_string()) return !v.empty();
  return true;
}

Result<json> tool_specs(const json& tools) {
  json specs = json::array();
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const std::string p = "tools[" + std::to_string(i) + "]";
    const json& t = tools[i];
    if (!t.is_object() || str_or(t, "type") != "function" || !t.contains("function") || !t["function"].is_object()) {
      return unsupported("Only function tools are supported by Bedrock.", p + ".type", "unsupported_tool_type");
    }
    const json& fn = t["function"];
    if (!fn.contains("name") || !fn["name"].is_string()) {
      return ApiError::bad_request("Missing required parameter: '" + p + ".function.name'.", p + ".function.name",
                                   "missing_required_parameter");
    }
    json schema = fn.contains("parameters") && fn["parameters"].is_object()
                      ? fn["parameters"]
                      : json{{"type", "object"}, {"properties", json::object()}};
    json spec = {{"name", fn["name"]}};
    if (fn.contains("description") && fn["description"].is_string() &&
        !fn["description"].get_ref<const std::string&>().empty()) {
      spec["description"] = fn["description"];
    }
    spec["inputSchema"] = {{"json", std::move(schema)}};
    specs.push_back({{"toolSpec", std::move(spec)}});
  }
  return specs;
}

// toolConfig (or null to omit it) from tools, tool_choice, response_format
// and whether the history holds tool blocks.
Result<json> tool_config(const json& body, const Conversation& conv, std::vector<std::string>& notes) {
  const json tools = body.contains("tools") && body["tools"].is_array() ? body["tools"] : json::array();
  const json choice = body.contains("tool_choice") ? body["tool_choice"] : json();
  auto specs = tool_specs(tools);
  if (!specs) return specs.error();

  if (const std::string forced = structured_output_tool(body); !forced.empty()) {
    if (!tools.empty()) {
      return unsupported("response_format json_schema cannot be combined with tools on Bedrock.", "response_format",
                         "unsupported_parameter");
    }
    const json& js = body["response_format"]["json_schema"];
    json schema = js.contains("schema") && js["schema"].is_object() ? js["schema"] : json{{"type", "object"}};
    std::string description = str_or(js, "description");
    if (description.empty()) description = "Respond with a JSON object that matches this schema.";
    json spec = {{"name", forced}, {"description", description}, {"inputSchema", {{"json", std::move(schema)}}}};
    return json{{"tools", json::array({{{"toolSpec", std::move(spec)}}})}, {"toolChoice", {{"tool", {{"name", forced}}}}}};
  }

  if (specs->empty()) {
    if (choice.is_object() || choice == "required") {
      return ApiError::bad_request("tool_choice requires tools.", "tool_choice", "invalid_value");
    }
    if (!conv.tool_history) return json();
    // Bedrock refuses toolUse/toolResult blocks without a toolConfig.
    for (const auto& name : conv.history_tools) {
      json schema = {{"type", "object"}, {"properties", json::object()}};
      json spec = {{"name", name}, {"inputSchema", {{"json", std::move(schema)}}}};
      specs->push_back({{"toolSpec", std::move(spec)}});
    }
    if (specs->empty()) return json();
    notes.push_back("declared the conversation's tools for Bedrock");
    return json{{"tools", std::move(*specs)}};
  }

  json config = {{"tools", std::move(*specs)}};
  if (choice.is_null() || choice == "auto") {
    if (choice == "auto") config["toolChoice"] = {{"auto", json::object()}};
  } else if (choice == "none") {
    // Converse has no "none": without tools the model cannot call one, but
    // tool blocks in the history still need the declarations.
    if (!conv.tool_history) return json();
  } else if (choice == "required") {
    config["toolChoice"] = {{"any", json::object()}};
  } else if (choice.is_object() && str_or(choice, "type") == "function" && choice.contains("function") &&
             choice["function"].is_object() && choice["function"].contains("name")) {
    config["toolChoice"] = {{"tool", {{"name", choice["function"]["name"]}}}};
  } else {
    return unsupported("This tool_choice is not supported by Bedrock.", "tool_choice", "unsupported_parameter");
  }
  return config;
}

}  // namespace

std::string structured_output_tool(const json& body) {
  auto rf = body.find("response_format");
  if (rf == body.end() || !rf->is_object() || str_or(*rf, "type") != "json_schema") return {};
  std::string name;
  if (auto js = rf->find("json_schema"); js != rf->end() && js->is_object()) name = str_or(*js, "name");
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_' || c == '-') out.push_back(static_cast<char>(c));
  }
  if (out.size() > 64) out.resize(64);
  return out.empty() ? "json_response" : out;
}

std::string model_path(std::string_view model_id, std::string_view action) {
  return "/model/" + sigv4::uri_encode(model_id, /*encode_slash=*/true) + "/" + std::string(action);
}

Result<json> to_converse_request(const json& body, const ConverseOptions& options, std::vector<std::string>& notes) {
  if (auto n = body.find("n"); n != body.end() && n->is_number_integer() && n->get<int64_t>() != 1) {
    return ApiError::bad_request("Bedrock returns one choice per request: n must be 1.", "n", "unsupported_parameter");
  }
  auto conv = convert_messages(body.value("messages", json::array()), notes);
  if (!conv) return conv.error();

  json out = json::object();
  if (auto rf = body.find("response_format"); rf != body.end() && rf->is_object() && str_or(*rf, "type") == "json_object") {
    // Converse has no JSON mode; an instruction is the closest it gets.
    conv->system.push_back({{"text", "Respond with a single valid JSON object and nothing else."}});
    notes.push_back("response_format json_object emulated with an instruction");
  }
  if (!conv->system.empty()) out["system"] = conv->system;
  out["messages"] = conv->messages;

  json inference = json::object();
  if (auto mct = body.find("max_completion_tokens"); mct != body.end() && mct->is_number_integer()) {
    inference["maxTokens"] = *mct;
  } else if (auto mt = body.find("max_tokens"); mt != body.end() && mt->is_number_integer()) {
    inference["maxTokens"] = *mt;
  } else if (options.default_max_tokens) {
    inference["maxTokens"] = *options.default_max_tokens;
  }
  if (auto t = body.find("temperature"); t != body.end() && t->is_number()) {
    if (t->get<double>() > 1) {
      if (options.params == ParamPolicy::reject) {
        return ApiError::bad_request("Bedrock models accept a temperature from 0 to 1.", "temperature", "invalid_value");
      }
      inference["temperature"] = 1;
      notes.push_back("clamped temperature to 1");
    } else {
      inference["temperature"] = *t;
    }
  }
  if (auto p = body.find("top_p"); p != body.end() && p->is_number()) inference["topP"] = *p;
  json stops = json::array();
  if (auto s = body.find("stop"); s != body.end()) {
    for (const json& v : s->is_array() ? *s : json::array({*s})) {
      if (!v.is_string()) continue;
      const auto& str = v.get_ref<const std::string&>();
      if (std::any_of(str.begin(), str.end(), [](unsigned char c) { return !std::isspace(c); })) stops.push_back(v);
    }
  }
  if (!stops.empty()) inference["stopSequences"] = std::move(stops);
  if (!inference.empty()) out["inferenceConfig"] = std::move(inference);

  auto tools = tool_config(body, *conv, notes);
  if (!tools) return tools.error();
  if (!tools->is_null()) out["toolConfig"] = std::move(*tools);

  for (const char* name : {"logprobs", "top_logprobs", "logit_bias", "seed", "presence_penalty", "frequency_penalty",
                           "reasoning_effort", "modalities", "audio", "prediction", "web_search_options"}) {
    if (auto it = body.find(name); it != body.end() && meaningful(*it)) {
      if (auto e = unsupported_param(name, options.params, notes)) return *e;
    }
  }
  if (auto ptc = body.find("parallel_tool_calls"); ptc != body.end() && *ptc == false) {
    if (auto e = unsupported_param("parallel_tool_calls", options.params, notes)) return *e;
  }
  return out;
}

}  // namespace tollgate::bedrock
