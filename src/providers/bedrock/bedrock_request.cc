#include "providers/bedrock/bedrock_request.h"

#include <algorithm>
#include <cctype>

#include "providers/bedrock/bedrock_content.h"
#include "providers/json_fields.h"
#include "providers/bedrock/sigv4.h"

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

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

Result<json> assistant_blocks(JsonView m, const std::string& p, Conversation& conv) {
  json blocks = json::array();
  const JsonView content = m["content"];
  if (content.is_string() && !content.as_string().empty()) blocks.push_back({{"text", content.str()}});
  for (const JsonView part : content.elements()) {
    if (json_string(part, "type") == "text" && part["text"].is_string() && !part["text"].as_string().empty()) {
      blocks.push_back({{"text", part["text"].str()}});
    }
  }
  if (json_given(m["function_call"])) {
    return unsupported("Legacy function_call messages are not supported; use tool_calls.", p + ".function_call");
  }
  std::size_t j = 0;
  for (const JsonView call : m["tool_calls"].elements()) {
    const std::string cp = p + ".tool_calls[" + std::to_string(j++) + "]";
    const JsonView fn = call["function"];
    if (!call.is_object() || !call["id"].is_string() || !fn.is_object() || !fn["name"].is_string()) {
      return ApiError::bad_request("Each tool call needs a string id and function.name.", cp, "invalid_value");
    }
    auto input = tool_input(call, cp);
    if (!input) return input.error();
    const std::string name = fn["name"].str();
    blocks.push_back({{"toolUse", {{"toolUseId", call["id"].str()}, {"name", name}, {"input", std::move(*input)}}}});
    conv.tool_history = true;
    if (std::find(conv.history_tools.begin(), conv.history_tools.end(), name) == conv.history_tools.end()) {
      conv.history_tools.push_back(name);
    }
  }
  return blocks;
}

Result<Conversation> convert_messages(JsonView messages, std::vector<std::string>& notes) {
  Conversation conv;
  std::size_t documents = 0;
  std::size_t i = 0;
  for (const JsonView m : messages.elements()) {
    const std::string p = "messages[" + std::to_string(i++) + "]";
    const std::string role = json_string(m, "role");
    const JsonView content = m["content"];
    if (role == "system" || role == "developer") {
      auto texts = text_parts(content, p);
      if (!texts) return texts.error();
      for (auto& t : *texts) {
        if (!t.empty()) conv.system.push_back({{"text", std::move(t)}});
      }
    } else if (role == "user") {
      json blocks = json::array();
      if (content.is_string() && !content.as_string().empty()) blocks.push_back({{"text", content.str()}});
      std::size_t k = 0;
      for (const JsonView part : content.elements()) {
        auto block = user_content_block(part, p + ".content[" + std::to_string(k++) + "]", documents);
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
                                      {{"toolUseId", m["tool_call_id"].to_json()}, {"content", std::move(result)},
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

// A string counts whatever it holds (as nlohmann's empty() had it: only
// containers and null are empty).
bool meaningful(JsonView v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.as_bool();
  if (v.is_number()) return v.as_double() != 0;
  if (v.is_object() || v.is_array()) return !v.empty();
  return true;
}

Result<json> tool_specs(JsonView tools) {
  json specs = json::array();
  std::size_t i = 0;
  for (const JsonView t : tools.elements()) {
    const std::string p = "tools[" + std::to_string(i++) + "]";
    const JsonView fn = t["function"];
    if (!t.is_object() || json_string(t, "type") != "function" || !fn.is_object()) {
      return unsupported("Only function tools are supported by Bedrock.", p + ".type", "unsupported_tool_type");
    }
    if (!fn["name"].is_string()) {
      return ApiError::bad_request("Missing required parameter: '" + p + ".function.name'.", p + ".function.name",
                                   "missing_required_parameter");
    }
    const JsonView parameters = fn["parameters"];
    json schema = parameters.is_object() ? parameters.to_json() : json{{"type", "object"}, {"properties", json::object()}};
    json spec = {{"name", fn["name"].str()}};
    if (const JsonView d = fn["description"]; d.is_string() && !d.as_string().empty()) spec["description"] = d.str();
    spec["inputSchema"] = {{"json", std::move(schema)}};
    specs.push_back({{"toolSpec", std::move(spec)}});
  }
  return specs;
}

// toolConfig (or null to omit it) from tools, tool_choice, response_format
// and whether the history holds tool blocks.
Result<json> tool_config(JsonView body, const Conversation& conv, std::vector<std::string>& notes) {
  const JsonView tools = body["tools"];  // read only when an array
  const bool has_tools = tools.is_array() && !tools.empty();
  // Absent reads as null.
  const JsonView choice = body["tool_choice"];
  const bool no_choice = !json_given(choice);
  auto specs = tool_specs(tools);
  if (!specs) return specs.error();

  if (const std::string forced = structured_output_tool(body); !forced.empty()) {
    if (has_tools) {
      return unsupported("response_format json_schema cannot be combined with tools on Bedrock.", "response_format",
                         "unsupported_parameter");
    }
    // structured_output_tool saw an object response_format; its json_schema
    // is the client's to get right, as OpenAI requires it.
    const JsonView js = body["response_format"]["json_schema"];
    if (!js.is_object()) {
      return ApiError::bad_request("Missing required parameter: 'response_format.json_schema'.",
                                   "response_format.json_schema", "missing_required_parameter");
    }
    json schema = js["schema"].is_object() ? js["schema"].to_json() : json{{"type", "object"}};
    std::string description = json_string(js, "description");
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
  if (no_choice || choice == "auto") {
    if (choice == "auto") config["toolChoice"] = {{"auto", json::object()}};
  } else if (choice == "none") {
    // Converse has no "none": without tools the model cannot call one, but
    // tool blocks in the history still need the declarations.
    if (!conv.tool_history) return json();
  } else if (choice == "required") {
    config["toolChoice"] = {{"any", json::object()}};
  } else if (choice.is_object() && json_string(choice, "type") == "function" && choice["function"]["name"].is_string()) {
    config["toolChoice"] = {{"tool", {{"name", choice["function"]["name"].str()}}}};
  } else {
    return unsupported("This tool_choice is not supported by Bedrock.", "tool_choice", "unsupported_parameter");
  }
  return config;
}

}  // namespace

std::string structured_output_tool(JsonView body) {
  const JsonView rf = body["response_format"];
  if (!rf.is_object() || json_string(rf, "type") != "json_schema") return {};
  const std::string name = json_string(rf["json_schema"], "name");
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

Result<json> to_converse_request(JsonView body, const ConverseOptions& options, std::vector<std::string>& notes) {
  if (const JsonView n = body["n"]; n.is_number_integer() && n.as_int64() != 1) {
    return ApiError::bad_request("Bedrock returns one choice per request: n must be 1.", "n", "unsupported_parameter");
  }
  auto conv = convert_messages(body["messages"], notes);
  if (!conv) return conv.error();

  json out = json::object();
  if (const JsonView rf = body["response_format"]; rf.is_object() && json_string(rf, "type") == "json_object") {
    // Converse has no JSON mode; an instruction is the closest it gets.
    conv->system.push_back({{"text", "Respond with a single valid JSON object and nothing else."}});
    notes.push_back("response_format json_object emulated with an instruction");
  }
  if (!conv->system.empty()) out["system"] = conv->system;
  out["messages"] = conv->messages;

  json inference = json::object();
  if (const JsonView mct = body["max_completion_tokens"]; mct.is_number_integer()) {
    inference["maxTokens"] = mct.to_json();
  } else if (const JsonView mt = body["max_tokens"]; mt.is_number_integer()) {
    inference["maxTokens"] = mt.to_json();
  } else if (options.default_max_tokens) {
    inference["maxTokens"] = *options.default_max_tokens;
  }
  if (const JsonView t = body["temperature"]; t.is_number()) {
    if (t.as_double() > 1) {
      if (options.params == ParamPolicy::reject) {
        return ApiError::bad_request("Bedrock models accept a temperature from 0 to 1.", "temperature", "invalid_value");
      }
      inference["temperature"] = 1;
      notes.push_back("clamped temperature to 1");
    } else {
      inference["temperature"] = t.to_json();
    }
  }
  if (const JsonView p = body["top_p"]; p.is_number()) inference["topP"] = p.to_json();
  json stops = json::array();
  auto stop = [&](JsonView v) {
    if (!v.is_string()) return;
    const std::string_view str = v.as_string();
    if (std::any_of(str.begin(), str.end(), [](unsigned char c) { return !std::isspace(c); })) stops.push_back(v.str());
  };
  if (const JsonView s = body["stop"]; s.is_array()) {
    for (const JsonView v : s.elements()) stop(v);
  } else {
    stop(s);
  }
  if (!stops.empty()) inference["stopSequences"] = std::move(stops);
  if (!inference.empty()) out["inferenceConfig"] = std::move(inference);

  auto tools = tool_config(body, *conv, notes);
  if (!tools) return tools.error();
  if (!tools->is_null()) out["toolConfig"] = std::move(*tools);

  for (const char* name : {"logprobs", "top_logprobs", "logit_bias", "seed", "presence_penalty", "frequency_penalty",
                           "reasoning_effort", "modalities", "audio", "prediction", "web_search_options"}) {
    if (const JsonView v = body[name]; v.present() && meaningful(v)) {
      if (auto e = unsupported_param(name, options.params, notes)) return *e;
    }
  }
  if (const JsonView ptc = body["parallel_tool_calls"]; ptc.is_boolean() && !ptc.as_bool()) {
    if (auto e = unsupported_param("parallel_tool_calls", options.params, notes)) return *e;
  }
  return out;
}

}  // namespace tollgate::bedrock
