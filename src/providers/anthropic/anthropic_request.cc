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
const std::set<std::string> kHandled = {
    "model", "messages", "max_tokens", "max_completion_tokens", "stop", "temperature", "top_p", "top_k",
    "tools", "tool_choice", "parallel_tool_calls", "response_format", "user", "safety_identifier",
    "reasoning_effort", "stream", "stream_options", "n", "functions", "function_call"};

// Set to something other than null or false (logprobs:false asks for nothing).
bool present(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>());
}

struct Builder {
  const json& in;
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
  auto it = b.in.find("stop");
  if (it == b.in.end() || it->is_null()) return std::nullopt;
  json list = it->is_array() ? *it : json::array({*it});
  json out = json::array();
  for (const auto& s : list) {
    // Anthropic rejects whitespace-only sequences.
    if (s.is_string() && s.get_ref<const std::string&>().find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(s);
  }
  if (out.size() < list.size()) b.notes.push_back("dropped whitespace-only stop sequences");
  if (!out.empty()) b.out["stop_sequences"] = std::move(out);
  return std::nullopt;
}

Step sampling(Builder& b) {
  if (auto t = b.in.find("temperature"); t != b.in.end() && t->is_number()) {
    double v = t->get<double>();
    if (v > 1.0) {
      if (b.opt.policy == ParamPolicy::reject) {
        return ApiError::bad_request("Invalid 'temperature': Anthropic models accept 0 to 1, got " + t->dump() + ".",
                                     "temperature", "unsupported_value");
      }
      b.notes.push_back("temperature clamped to 1");
      b.out["temperature"] = 1;
    } else {
      b.out["temperature"] = *t;
    }
  }
  if (auto p = b.in.find("top_p"); p != b.in.end() && p->is_number()) {
    if (b.out.contains("temperature")) {
      if (auto e = b.drop("top_p", "it cannot be combined with temperature")) return e;
    } else {
      b.out["top_p"] = *p;
    }
  }
  if (auto k = b.in.find("top_k"); k != b.in.end() && k->is_number_integer()) b.out["top_k"] = *k;
  return std::nullopt;
}

Step user_metadata(Builder& b) {
  for (const char* key : {"safety_identifier", "user"}) {
    auto it = b.in.find(key);
    if (it == b.in.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) continue;
    const std::string& id = it->get_ref<const std::string&>();
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

// Legacy `functions` / `function_call` become tools / tool_choice.
void legacy_functions(json& body) {
  if (auto f = body.find("functions"); f != body.end() && f->is_array() && !body.contains("tools")) {
    json tools = json::array();
    for (const auto& fn : *f) tools.push_back({{"type", "function"}, {"function", fn}});
    body["tools"] = std::move(tools);
  }
  if (auto fc = body.find("function_call"); fc != body.end() && !body.contains("tool_choice")) {
    if (fc->is_string()) body["tool_choice"] = *fc;
    if (fc->is_object() && fc->contains("name")) body["tool_choice"] = {{"type", "function"}, {"function", {{"name", (*fc)["name"]}}}};
  }
}

Step tool_definitions(Builder& b, const json& body) {
  auto it = body.find("tools");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return ApiError::bad_request("Invalid 'tools': expected an array.", "tools");
  json tools = json::array();
  bool strict_dropped = false;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string p = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || json_string(t, "type") != "function") {
      return ApiError::bad_request("Invalid '" + p + ".type': only function tools can be sent to Anthropic models.",
                                   p + ".type", "unsupported_tool_type");
    }
    const json& fn = t.contains("function") ? t["function"] : json();
    if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string()) {
      return ApiError::bad_request("Missing required parameter: '" + p + ".function.name'.", p + ".function.name",
                                   "missing_required_parameter");
    }
    json tool = {{"name", fn["name"]}};
    if (fn.contains("description") && fn["description"].is_string() && !fn["description"].get_ref<const std::string&>().empty()) {
      tool["description"] = fn["description"];
    }
    json schema = fn.contains("parameters") && fn["parameters"].is_object() ? fn["parameters"]
                                                                             : json{{"type", "object"}, {"properties", json::object()}};
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

Step tool_choice(Builder& b, const json& body) {
  const bool has_tools = b.out.contains("tools");
  const bool parallel_off = body.contains("parallel_tool_calls") && body["parallel_tool_calls"] == false;
  json choice;
  auto it = body.find("tool_choice");
  if (it != body.end() && !it->is_null()) {
    if (*it == "auto") {
      choice = {{"type", "auto"}};
    } else if (*it == "none") {
      choice = {{"type", "none"}};
    } else if (*it == "required") {
      choice = {{"type", "any"}};
    } else if (it->is_object() && json_string(*it, "type") == "function" && it->contains("function") &&
               (*it)["function"].is_object() && (*it)["function"].contains("name") && (*it)["function"]["name"].is_string()) {
      choice = {{"type", "tool"}, {"name", (*it)["function"]["name"]}};
    } else {
      return ApiError::bad_request("Unsupported 'tool_choice' for Anthropic models: " + it->dump() + ".", "tool_choice",
                                   "unsupported_value");
    }
  }
  if (!has_tools) {
    if (!choice.is_null() && choice["type"] != "auto" && choice["type"] != "none") {
      return ApiError::bad_request("'tool_choice' " + it->dump() + " requires 'tools'.", "tool_choice", "invalid_value");
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
  auto it = b.in.find("response_format");
  if (it == b.in.end() || it->is_null()) return std::nullopt;
  const std::string type = json_string(*it, "type");
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    b.out["system"].push_back({{"type", "text"}, {"text", "Respond with a single valid JSON object and nothing else."}});
    b.notes.push_back("response_format json_object emulated with a system instruction");
    return std::nullopt;
  }
  if (type != "json_schema") {
    return ApiError::bad_request("Invalid 'response_format.type': " + json(type).dump() + ".", "response_format.type");
  }
  const json& spec = it->contains("json_schema") ? (*it)["json_schema"] : json();
  if (!spec.is_object() || !spec.contains("schema") || !spec["schema"].is_object()) {
    return ApiError::bad_request("Missing required parameter: 'response_format.json_schema.schema'.",
                                 "response_format.json_schema.schema", "missing_required_parameter");
  }
  const json& schema = spec["schema"];
  if (supports_structured_outputs(b.opt.model)) {
    b.out["output_config"] = {{"format", {{"type", "json_schema"}, {"schema", schema}}}};
    return std::nullopt;
  }
  // No native structured outputs: force a tool whose input is the answer.
  if (schema.contains("type") && schema["type"] != "object") {
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
  json tool = {{"name", name}, {"description", description}, {"input_schema", schema}};
  if (!tool["input_schema"].contains("type")) tool["input_schema"]["type"] = "object";
  tools.push_back(std::move(tool));
  b.out["tool_choice"] = {{"type", "tool"}, {"name", name}, {"disable_parallel_tool_use", true}};
  b.notes.push_back("response_format json_schema emulated with a forced tool");
  return std::nullopt;
}

Step thinking(Builder& b, bool client_max) {
  auto it = b.in.find("reasoning_effort");
  if (it == b.in.end() || it->is_null()) return std::nullopt;
  const std::string effort = it->is_string() ? it->get<std::string>() : "";
  const auto& bg = b.opt.budgets;
  int64_t budget = 0;
  if (effort == "none") return std::nullopt;
  if (effort == "minimal") budget = bg.minimal;
  else if (effort == "low") budget = bg.low;
  else if (effort == "medium") budget = bg.medium;
  else if (effort == "high") budget = bg.high;
  else if (effort == "xhigh" || effort == "max") budget = bg.xhigh;
  else return ApiError::bad_request("Invalid 'reasoning_effort': " + it->dump() + ".", "reasoning_effort", "invalid_value");

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

bool expects_json_tool(const json& chat_body) {
  auto rf = chat_body.find("response_format");
  if (rf == chat_body.end() || !rf->is_object() || json_string(*rf, "type") != "json_schema") return false;
  if (auto tools = chat_body.find("tools"); tools != chat_body.end() && tools->is_array()) {
    for (const auto& t : *tools) {
      if (t.is_object() && t.contains("function") && t["function"].is_object() &&
          json_string(t["function"], "name") == kJsonToolName) {
        return false;
      }
    }
  }
  return true;
}

Result<json> build_messages_body(const json& chat_body, const RequestOptions& options, std::vector<std::string>& notes) {
  if (!chat_body.is_object()) return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  if (auto n = chat_body.find("n"); n != chat_body.end() && !n->is_null() && *n != 1) {
    return ApiError::bad_request("Anthropic models return one choice per request: 'n' must be 1.", "n", "unsupported_value");
  }
  json body = chat_body;
  legacy_functions(body);

  auto conv = convert_messages(body.contains("messages") ? body["messages"] : json());
  if (!conv) return conv.error();

  json out = json::object();
  Builder b{body, out, options, notes};
  out["model"] = options.model;
  out["messages"] = std::move(conv->messages);
  out["system"] = std::move(conv->system);

  std::optional<int64_t> client_max;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (!client_max && body.contains(key) && body[key].is_number_integer()) client_max = body[key].get<int64_t>();
  }
  out["max_tokens"] = client_max.value_or(options.max_output_tokens.value_or(kDefaultMaxTokens));

  Step step;
  if ((step = stop_sequences(b))) return *step;
  if ((step = sampling(b))) return *step;
  if ((step = tool_definitions(b, body))) return *step;
  if ((step = tool_choice(b, body))) return *step;
  declare_history_tools(b, *conv);
  if ((step = response_format(b))) return *step;
  if ((step = thinking(b, client_max.has_value()))) return *step;
  if ((step = user_metadata(b))) return *step;
  if (json_true(body, "stream")) out["stream"] = true;

  for (const auto& [key, value] : body.items()) {
    if (kHandled.count(key) || !present(body, key.c_str())) continue;
    if ((step = b.drop(key, "Anthropic has no equivalent"))) return *step;
  }
  if (out["system"].empty()) out.erase("system");
  return out;
}

Result<json> completion_to_chat(const json& completion_body) {
  const json& prompt = completion_body.contains("prompt") ? completion_body["prompt"] : json();
  std::string text;
  if (prompt.is_string()) {
    text = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    text = prompt[0].get<std::string>();
  } else {
    return ApiError::bad_request("Anthropic models take one text prompt: token arrays and several prompts cannot be emulated.",
                                 "prompt", "unsupported_value");
  }
  if (json_true(completion_body, "echo")) {
    return ApiError::bad_request("'echo' cannot be emulated on Anthropic models.", "echo", "unsupported_parameter");
  }
  if (auto s = completion_body.find("suffix"); s != completion_body.end() && s->is_string() && !s->get_ref<const std::string&>().empty()) {
    return ApiError::bad_request("'suffix' cannot be emulated on Anthropic models.", "suffix", "unsupported_parameter");
  }
  if (auto bo = completion_body.find("best_of"); bo != completion_body.end() && !bo->is_null() && *bo != 1) {
    return ApiError::bad_request("'best_of' cannot be emulated on Anthropic models.", "best_of", "unsupported_parameter");
  }
  if (auto lp = completion_body.find("logprobs"); lp != completion_body.end() && !lp->is_null()) {
    return ApiError::bad_request("'logprobs' cannot be emulated on Anthropic models.", "logprobs", "unsupported_parameter");
  }
  json chat = completion_body;
  for (const char* key : {"prompt", "echo", "suffix", "best_of", "logprobs"}) chat.erase(key);
  chat["messages"] = json::array({{{"role", "user"}, {"content", text}}});
  return chat;
}

}  // namespace tollgate::anthropic
