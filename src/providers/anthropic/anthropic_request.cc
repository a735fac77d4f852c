#include "providers/anthropic/anthropic_request.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "providers/anthropic/anthropic_messages.h"
#include "providers/json_fields.h"

namespace tollgate::anthropic {
namespace {

using nlohmann::json;
using Step = std::optional<ApiError>;

// Fields this translator reads; anything else a client sends has no
// Anthropic counterpart and goes through the parameter policy.
const std::set<std::string, std::less<>> kHandled = {
    "model", "messages", "max_tokens", "max_completion_tokens", "stop", "temperature", "top_p", "top_k",
    "tools", "tool_choice", "parallel_tool_calls", "response_format", "user", "safety_identifier",
    "reasoning_effort", "stream", "stream_options", "n", "functions", "function_call"};

// Set to something other than null or false (logprobs:false asks for nothing).
bool present(JsonView v) { return json_given(v) && !(v.is_boolean() && !v.as_bool()); }

// The client's chat body is read through `in`; only values forwarded as they
// are (a tool's schema, a sampling parameter) are copied into `out`.
struct Builder {
  JsonView in;
  json& out;
  const RequestOptions& opt;
  std::vector<std::string>& notes;

  // A parameter Anthropic cannot take as given: dropped (and noted) or a 400.
  Step drop(const std::string& param, const std::string& why) {
    if (opt.policy == ParamPolicy::reject) {
      return ApiError::bad_request("Unsupported parameter '" + param + "' for this model: " + why + ".", param,
                                   "unsupported_parameter");
    }
    notes.push_back("dropped " + param);
    return std::nullopt;
  }
};

bool looks_like_contact(const std::string& s) {
  if (s.find('@') != std::string::npos) return true;
  int digits = 0;
  for (unsigned char c : s) {
    if (std::isdigit(c)) {
      ++digits;
    } else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')' && c != '.') {
      return false;
    }
  }
  return digits >= 7;
}

Step stop_sequences(Builder& b) {
  const JsonView stop = b.in["stop"];
  if (!json_given(stop)) return std::nullopt;
  json out = json::array();
  std::size_t given = 0;
  auto keep = [&](JsonView s) {
    ++given;
    // Anthropic rejects whitespace-only sequences.
    if (s.is_string() && s.as_string().find_first_not_of(" \t\r\n") != std::string_view::npos) out.push_back(s.str());
  };
  if (stop.is_array()) {
    for (JsonView s : stop.elements()) keep(s);
  } else {
    keep(stop);
  }
  if (out.size() < given) b.notes.push_back("dropped whitespace-only stop sequences");
  if (!out.empty()) b.out["stop_sequences"] = std::move(out);
  return std::nullopt;
}

Step sampling(Builder& b) {
  if (const JsonView t = b.in["temperature"]; t.is_number()) {
    double v = t.as_double();
    if (v > 1.0) {
      if (b.opt.policy == ParamPolicy::reject) {
        return ApiError::bad_request("Invalid 'temperature': Anthropic models accept 0 to 1, got " + json_quote(t) + ".",
                                     "temperature", "unsupported_value");
      }
      b.notes.push_back("temperature clamped to 1");
      b.out["temperature"] = 1;
    } else {
      b.out["temperature"] = t.to_json();
    }
  }
  if (const JsonView p = b.in["top_p"]; p.is_number()) {
    if (b.out.contains("temperature")) {
      if (auto e = b.drop("top_p", "it cannot be combined with temperature")) return e;
    } else {
      b.out["top_p"] = p.to_json();
    }
  }
  if (const JsonView k = b.in["top_k"]; k.is_number_integer()) b.out["top_k"] = k.to_json();
  return std::nullopt;
}

Step user_metadata(Builder& b) {
  for (const char* key : {"safety_identifier", "user"}) {
    const JsonView v = b.in[key];
    if (!v.is_string() || v.as_string().empty()) continue;
    const std::string id = v.str();
    // metadata.user_id must be an opaque id: no email or phone number.
    if (looks_like_contact(id) || id.size() > 256) {
      b.notes.push_back(std::string("dropped ") + key + " (not an opaque id)");
      return std::nullopt;
    }
    b.out["metadata"] = {{"user_id", id}};
    return std::nullopt;
  }
  return std::nullopt;
}

// Legacy `functions` stand in for `tools` when the client sent no `tools`
// member: each function reads as {"type": "function", "function": <it>}.
Step tool_definitions(Builder& b) {
  JsonView list = b.in["tools"];
  const bool legacy = !list.present() && b.in["functions"].is_array();
  if (legacy) list = b.in["functions"];
  if (!json_given(list)) return std::nullopt;
  if (!list.is_array()) return ApiError::bad_request("Invalid 'tools': expected an array.", "tools");
  json tools = json::array();
  bool strict_dropped = false;
  std::size_t i = 0;
  for (const JsonView t : list.elements()) {
    const std::string p = "tools[" + std::to_string(i++) + "]";
    if (!legacy && (!t.is_object() || json_string(t, "type") != "function")) {
      return ApiError::bad_request("Invalid '" + p + ".type': only function tools can be sent to Anthropic models.",
                                   p + ".type", "unsupported_tool_type");
    }
    const JsonView fn = legacy ? t : t["function"];
    if (!fn.is_object() || !fn["name"].is_string()) {
      return ApiError::bad_request("Missing required parameter: '" + p + ".function.name'.", p + ".function.name",
                                   "missing_required_parameter");
    }
    json tool = {{"name", fn["name"].str()}};
    if (const JsonView d = fn["description"]; d.is_string() && !d.as_string().empty()) tool["description"] = d.str();
    const JsonView parameters = fn["parameters"];
    json schema = parameters.is_object() ? parameters.to_json() : json{{"type", "object"}, {"properties", json::object()}};
    if (!schema.contains("type")) schema["type"] = "object";
    tool["input_schema"] = std::move(schema);
    if (json_true(fn, "strict")) {
      if (supports_structured_outputs(b.opt.model)) {
        tool["strict"] = true;
      } else {
        strict_dropped = true;
      }
    }
    tools.push_back(std::move(tool));
  }
  if (strict_dropped) b.notes.push_back("dropped tools[].strict");
  if (!tools.empty()) b.out["tools"] = std::move(tools);
  return std::nullopt;
}

Step tool_choice(Builder& b) {
  const bool has_tools = b.out.contains("tools");
  const JsonView parallel = b.in["parallel_tool_calls"];
  const bool parallel_off = parallel.is_boolean() && !parallel.as_bool();
  // Legacy `function_call` stands in for a missing `tool_choice`.
  JsonView given = b.in["tool_choice"];
  json legacy;
  if (!given.present()) {
    const JsonView fc = b.in["function_call"];
    if (fc.is_string()) {
      given = fc;
    } else if (fc.is_object() && fc.contains("name")) {
      legacy = {{"type", "function"}, {"function", {{"name", fc["name"].to_json()}}}};
      given = legacy;
    }
  }
  json choice;
  if (json_given(given)) {
    const JsonView fn = given["function"];
    if (given == "auto") {
      choice = {{"type", "auto"}};
    } else if (given == "none") {
      choice = {{"type", "none"}};
    } else if (given == "required") {
      choice = {{"type", "any"}};
    } else if (given.is_object() && json_string(given, "type") == "function" && fn.is_object() && fn["name"].is_string()) {
      choice = {{"type", "tool"}, {"name", fn["name"].str()}};
    } else {
      return ApiError::bad_request("Unsupported 'tool_choice' for Anthropic models: " + json_quote(given) + ".",
                                   "tool_choice", "unsupported_value");
    }
  }
  if (!has_tools) {
    if (!choice.is_null() && choice["type"] != "auto" && choice["type"] != "none") {
      return ApiError::bad_request("'tool_choice' " + json_quote(given) + " requires 'tools'.", "tool_choice",
                                   "invalid_value");
    }
    return std::nullopt;
  }
  if (parallel_off) {
    if (choice.is_null()) choice = {{"type", "auto"}};
    if (choice["type"] != "none") choice["disable_parallel_tool_use"] = true;
  }
  if (!choice.is_null()) b.out["tool_choice"] = std::move(choice);
  return std::nullopt;
}

// Anthropic rejects tool_use/tool_result history without a `tools` array.
void declare_history_tools(Builder& b, const ConvertedMessages& conv) {
  if (b.out.contains("tools") || conv.history_tools.empty()) return;
  json tools = json::array();
  for (const auto& name : conv.history_tools) {
    tools.push_back({{"name", name},
                     {"description", "A tool called earlier in this conversation."},
                     {"input_schema", {{"type", "object"}}}});
  }
  b.out["tools"] = std::move(tools);
  b.out["tool_choice"] = {{"type", "none"}};
  b.notes.push_back("declared tools from the conversation history");
}

Step response_format(Builder& b) {
  const JsonView rf = b.in["response_format"];
  if (!json_given(rf)) return std::nullopt;
  const std::string type = json_string(rf, "type");
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    b.out["system"].push_back({{"type", "text"}, {"text", "Respond with a single valid JSON object and nothing else."}});
    b.notes.push_back("response_format json_object emulated with a system instruction");
    return std::nullopt;
  }
  if (type != "json_schema") {
    return ApiError::bad_request("Invalid 'response_format.type': " + json(type).dump() + ".", "response_format.type");
  }
  const JsonView spec = rf["json_schema"];
  if (!spec.is_object() || !spec["schema"].is_object()) {
    return ApiError::bad_request("Missing required parameter: 'response_format.json_schema.schema'.",
                                 "response_format.json_schema.schema", "missing_required_parameter");
  }
  const JsonView schema = spec["schema"];
  if (supports_structured_outputs(b.opt.model)) {
    b.out["output_config"] = {{"format", {{"type", "json_schema"}, {"schema", schema.to_json()}}}};
    return std::nullopt;
  }
  // No native structured outputs: force a tool whose input is the answer.
  if (schema.contains("type") && !(schema["type"] == "object")) {
    return ApiError::bad_request("Invalid 'response_format.json_schema.schema': the root must be an object schema.",
                                 "response_format.json_schema.schema", "invalid_value");
  }
  const std::string name(kJsonToolName);
  json& tools = b.out["tools"];
  if (!tools.is_array()) tools = json::array();
  for (const auto& t : tools) {
    if (t["name"] == name) {
      return ApiError::bad_request("A tool named '" + name + "' cannot be combined with response_format json_schema.",
                                   "tools", "invalid_value");
    }
  }
  const std::string forced = b.out.contains("tool_choice") ? json_string(b.out["tool_choice"], "type") : "";
  if (forced == "any" || forced == "tool") {
    return ApiError::bad_request("'tool_choice' cannot force a tool together with response_format json_schema.",
                                 "tool_choice", "invalid_value");
  }
  std::string description = json_string(spec, "description");
  if (description.empty()) description = "Give the final answer as this tool's input.";
  json tool = {{"name", name}, {"description", description}, {"input_schema", schema.to_json()}};
  if (!tool["input_schema"].contains("type")) tool["input_schema"]["type"] = "object";
  tools.push_back(std::move(tool));
  b.out["tool_choice"] = {{"type", "tool"}, {"name", name}, {"disable_parallel_tool_use", true}};
  b.notes.push_back("response_format json_schema emulated with a forced tool");
  return std::nullopt;
}

Step thinking(Builder& b, bool client_max) {
  const JsonView given = b.in["reasoning_effort"];
  if (!json_given(given)) return std::nullopt;
  const std::string effort = given.is_string() ? given.str() : "";
  const auto& bg = b.opt.budgets;
  int64_t budget = 0;
  if (effort == "none") return std::nullopt;
  if (effort == "minimal") budget = bg.minimal;
  else if (effort == "low") budget = bg.low;
  else if (effort == "medium") budget = bg.medium;
  else if (effort == "high") budget = bg.high;
  else if (effort == "xhigh" || effort == "max") budget = bg.xhigh;
  else return ApiError::bad_request("Invalid 'reasoning_effort': " + json_quote(given) + ".", "reasoning_effort", "invalid_value");

  int64_t max_tokens = b.out["max_tokens"].get<int64_t>();
  if (!client_max && !b.opt.max_output_tokens) {
    // Unknown model: leave room for the answer after the thinking budget.
    max_tokens = std::max(max_tokens, budget + kDefaultMaxTokens);
    b.out["max_tokens"] = max_tokens;
  }
  // OpenAI's token limit includes reasoning; Anthropic wants budget < max_tokens.
  budget = std::min(budget, max_tokens - 1);
  if (budget < 1024) {
    if (b.opt.policy == ParamPolicy::reject) {
      return ApiError::bad_request("'reasoning_effort' needs max_tokens above 1024 on Anthropic models.",
                                   "reasoning_effort", "unsupported_value");
    }
    b.notes.push_back("dropped reasoning_effort (max_tokens too small for thinking)");
    return std::nullopt;
  }
  const std::string forced = b.out.contains("tool_choice") ? json_string(b.out["tool_choice"], "type") : "";
  if (forced == "any" || forced == "tool") {
    const bool emulated = json_string(b.out["tool_choice"], "name") == kJsonToolName;
    return ApiError::bad_request(emulated ? "response_format json_schema cannot be combined with reasoning_effort on this model."
                                          : "'tool_choice' cannot force a tool when reasoning_effort is set (Anthropic extended thinking).",
                                 emulated ? "response_format" : "tool_choice", "unsupported_value");
  }
  b.out["thinking"] = {{"type", "enabled"}, {"budget_tokens", budget}};
  // Extended thinking only takes default sampling.
  if (b.out.contains("temperature") && b.out["temperature"] != 1) {
    if (auto e = b.drop("temperature", "extended thinking requires the default")) return e;
    b.out.erase("temperature");
  }
  if (b.out.contains("top_k")) {
    if (auto e = b.drop("top_k", "extended thinking requires the default")) return e;
    b.out.erase("top_k");
  }
  if (b.out.contains("top_p") && b.out["top_p"].get<double>() < 0.95) {
    if (auto e = b.drop("top_p", "extended thinking allows only 0.95 to 1")) return e;
    b.out.erase("top_p");
  }
  return std::nullopt;
}

}  // namespace

bool supports_structured_outputs(std::string_view model) {
  const auto pos = model.find("claude-");
  if (pos == std::string_view::npos) return false;
  std::vector<std::string> parts;
  std::string_view rest = model.substr(pos + 7);
  while (!rest.empty()) {
    const auto dash = rest.find('-');
    parts.emplace_back(rest.substr(0, dash));
    if (dash == std::string_view::npos) break;
    rest.remove_prefix(dash + 1);
  }
  // claude-<family>-<major>[-<minor>][-<date>]; the older claude-3-5-sonnet
  // naming predates structured outputs.
  auto small_number = [](const std::string& s) {
    return !s.empty() && s.size() <= 2 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (parts.size() < 2 || small_number(parts[0]) || !small_number(parts[1])) return false;
  const int major = std::stoi(parts[1]);
  const int minor = parts.size() > 2 && small_number(parts[2]) ? std::stoi(parts[2]) : 0;
  return major > 4 || (major == 4 && minor >= 5) || (parts[0] == "opus" && major == 4 && minor == 1);
}

bool expects_json_tool(JsonView chat_body) {
  const JsonView rf = chat_body["response_format"];
  if (!rf.is_object() || json_string(rf, "type") != "json_schema") return false;
  for (const JsonView t : chat_body["tools"].elements()) {
    if (t.is_object() && t["function"].is_object() && json_string(t["function"], "name") == kJsonToolName) return false;
  }
  return true;
}

Result<json> build_messages_body(JsonView chat_body, const RequestOptions& options, std::vector<std::string>& notes) {
  if (!chat_body.is_object()) return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  if (const JsonView n = chat_body["n"]; json_given(n) && !(n.is_number() && n.as_double() == 1)) {
    return ApiError::bad_request("Anthropic models return one choice per request: 'n' must be 1.", "n", "unsupported_value");
  }

  auto conv = convert_messages(chat_body["messages"]);
  if (!conv) return conv.error();

  json out = json::object();
  Builder b{chat_body, out, options, notes};
  out["model"] = options.model;
  out["messages"] = std::move(conv->messages);
  out["system"] = std::move(conv->system);

  std::optional<int64_t> client_max;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (const JsonView v = chat_body[key]; !client_max && v.is_number_integer()) client_max = v.as_int64();
  }
  out["max_tokens"] = client_max.value_or(options.max_output_tokens.value_or(kDefaultMaxTokens));

  Step step;
  if ((step = stop_sequences(b))) return *step;
  if ((step = sampling(b))) return *step;
  if ((step = tool_definitions(b))) return *step;
  if ((step = tool_choice(b))) return *step;
  declare_history_tools(b, *conv);
  if ((step = response_format(b))) return *step;
  if ((step = thinking(b, client_max.has_value()))) return *step;
  if ((step = user_metadata(b))) return *step;
  if (json_true(chat_body, "stream")) out["stream"] = true;

  // In key order, as they always were reported (a tape keeps the client's order).
  std::vector<std::string_view> unhandled;
  for (const auto [key, value] : chat_body.items()) {
    if (!kHandled.count(key) && present(value)) unhandled.push_back(key);
  }
  std::sort(unhandled.begin(), unhandled.end());
  for (const std::string_view key : unhandled) {
    if ((step = b.drop(std::string(key), "Anthropic has no equivalent"))) return *step;
  }
  if (out["system"].empty()) out.erase("system");
  return out;
}

Result<RequestBody> completion_to_chat(const RequestBody& completion_body) {
  const JsonView body = completion_body.view();
  const JsonView prompt = body["prompt"];
  std::string text;
  if (prompt.is_string()) {
    text = prompt.str();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt.at(0).is_string()) {
    text = prompt.at(0).str();
  } else {
    return ApiError::bad_request("Anthropic models take one text prompt: token arrays and several prompts cannot be emulated.",
                                 "prompt", "unsupported_value");
  }
  if (json_true(body, "echo")) {
    return ApiError::bad_request("'echo' cannot be emulated on Anthropic models.", "echo", "unsupported_parameter");
  }
  if (const JsonView s = body["suffix"]; s.is_string() && !s.as_string().empty()) {
    return ApiError::bad_request("'suffix' cannot be emulated on Anthropic models.", "suffix", "unsupported_parameter");
  }
  if (const JsonView bo = body["best_of"]; json_given(bo) && !(bo.is_number() && bo.as_double() == 1)) {
    return ApiError::bad_request("'best_of' cannot be emulated on Anthropic models.", "best_of", "unsupported_parameter");
  }
  if (json_given(body["logprobs"])) {
    return ApiError::bad_request("'logprobs' cannot be emulated on Anthropic models.", "logprobs", "unsupported_parameter");
  }
  // The client's document stays as it is: the chat request is the same body
  // with these members changed.
  RequestBody chat = completion_body;
  for (const char* key : {"prompt", "echo", "suffix", "best_of", "logprobs"}) chat.erase(key);
  chat.set("messages", json::array({{{"role", "user"}, {"content", text}}}));
  return chat;
}

}  // namespace tollgate::anthropic
