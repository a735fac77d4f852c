#include "providers/gemini/gemini_request.h"

#include <set>

#include "providers/gemini/gemini_contents.h"
#include "providers/gemini/gemini_schema.h"
#include "providers/json_fields.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

bool present(JsonView body, const char* key) { return json_given(body[key]); }

bool is_false(JsonView v) { return v.is_boolean() && !v.as_bool(); }

// Parameters with no Gemini counterpart. Dropping them changes what the
// client gets, so they follow the provider's policy (note or 400).
std::optional<ApiError> unsupported_params(JsonView body, ParamPolicy policy, std::vector<std::string>& notes) {
  std::vector<std::string> found;
  for (const char* key : {"logit_bias", "logprobs", "top_logprobs", "prediction", "audio", "web_search_options",
                          "verbosity"}) {
    if (!present(body, key)) continue;
    if (std::string(key) == "logprobs" && is_false(body[key])) continue;
    found.emplace_back(key);
  }
  if (is_false(body["parallel_tool_calls"])) found.emplace_back("parallel_tool_calls");
  if (const JsonView m = body["modalities"]; m.is_array() && !(m.size() == 1 && m.at(0) == "text")) {
    found.emplace_back("modalities");
  }
  for (const auto& key : found) {
    if (policy == ParamPolicy::reject) {
      return ApiError::bad_request("'" + key + "' is not supported by Gemini models", key, "unsupported_parameter");
    }
    notes.push_back("dropped " + key);
  }
  return std::nullopt;
}

bool thinking_model(const std::string& model) {
  return model.find("gemini-1.") == std::string::npos && model.find("gemini-2.0") == std::string::npos;
}

// reasoning_effort -> thinkingConfig: Gemini 3 takes a level, 2.x a token budget.
Result<json> thinking_config(const std::string& effort, const std::string& model, std::vector<std::string>& notes) {
  static const std::set<std::string> efforts = {"none", "minimal", "low", "medium", "high", "xhigh", "max"};
  if (!efforts.count(effort)) {
    return ApiError::bad_request("Invalid 'reasoning_effort': \"" + effort + "\"", "reasoning_effort", "invalid_value");
  }
  if (model.find("gemini-3") != std::string::npos) {
    const bool flash = model.find("flash") != std::string::npos;  // Flash also has minimal and medium
    std::string level;
    if (effort == "none" || effort == "minimal") {
      level = flash ? "minimal" : "low";
    } else if (effort == "low") {
      level = "low";
    } else if (effort == "medium") {
      level = flash ? "medium" : "high";
    } else {
      level = "high";
    }
    return json{{"thinkingLevel", level}};
  }
  int budget = 0;
  if (effort == "none") {
    // 2.5 Pro cannot turn thinking off; its smallest budget is 128.
    if (model.find("pro") != std::string::npos) {
      budget = 128;
      notes.push_back("reasoning_effort none: thinking budget 128 (the model cannot disable thinking)");
    }
  } else if (effort == "minimal") {
    budget = 128;
  } else if (effort == "low") {
    budget = 1024;
  } else if (effort == "medium") {
    budget = 2048;
  } else if (effort == "high") {
    budget = 4096;
  } else {
    budget = 24576;
  }
  return json{{"thinkingBudget", budget}};
}

Result<json> generation_config(JsonView body, const RequestOptions& options, std::vector<std::string>& notes) {
  json gc = json::object();
  auto copy = [&](const char* from, const char* to) {
    if (present(body, from)) gc[to] = body[from].to_json();
  };
  copy("temperature", "temperature");
  copy("top_p", "topP");
  copy("top_k", "topK");
  if (present(body, "max_completion_tokens")) {
    gc["maxOutputTokens"] = body["max_completion_tokens"].to_json();
  } else if (present(body, "max_tokens")) {
    gc["maxOutputTokens"] = body["max_tokens"].to_json();
  }
  if (const JsonView stop = body["stop"]; stop.is_string()) {
    gc["stopSequences"] = json::array({stop.str()});
  } else if (stop.is_array() && !stop.empty()) {
    gc["stopSequences"] = stop.to_json();
  }
  if (const JsonView n = body["n"]; n.is_number_integer() && n.as_int64() != 1) gc["candidateCount"] = n.to_json();
  copy("seed", "seed");
  copy("presence_penalty", "presencePenalty");
  copy("frequency_penalty", "frequencyPenalty");

  if (const JsonView rf = body["response_format"]; rf.is_object()) {
    // A type that is not a string is no type Gemini supports (a 400 below).
    const std::string type = json_given(rf["type"]) ? json_string(rf, "type") : "text";
    if (type == "json_object") {
      gc["responseMimeType"] = "application/json";
    } else if (type == "json_schema") {
      gc["responseMimeType"] = "application/json";
      if (const JsonView schema = rf["json_schema"]["schema"]; schema.is_object()) gc["responseJsonSchema"] = schema.to_json();
    } else if (type != "text") {
      return ApiError::bad_request("response_format type \"" + type + "\" is not supported by Gemini",
                                   "response_format.type", "invalid_value");
    }
  }
  if (const JsonView effort = body["reasoning_effort"]; effort.is_string()) {
    if (!thinking_model(options.model)) {
      // 1.x and 2.0 models answer 400 to any thinkingConfig.
      if (options.params == ParamPolicy::reject) {
        return ApiError::bad_request("'reasoning_effort' is not supported by " + options.model, "reasoning_effort",
                                     "unsupported_parameter");
      }
      notes.push_back("dropped reasoning_effort");
      return gc;
    }
    auto tc = thinking_config(effort.str(), options.model, notes);
    if (!tc) return tc.error();
    gc["thinkingConfig"] = std::move(tc.value());
  }
  return gc;
}

// OpenAI tools -> one functionDeclarations entry; legacy `functions` too.
Result<json> declarations(JsonView body, const std::set<std::string>* allowed) {
  json decls = json::array();
  auto add = [&](JsonView fn, const std::string& at) -> std::optional<ApiError> {
    if (!fn.is_object() || !fn["name"].is_string()) {
      return ApiError::bad_request("a function tool needs a name", at, "invalid_value");
    }
    const std::string name = fn["name"].str();
    if (allowed && !allowed->count(name)) return std::nullopt;
    json d = {{"name", name}};
    if (const JsonView desc = fn["description"]; desc.is_string()) d["description"] = desc.str();
    if (const JsonView params = fn["parameters"]; params.is_object()) {
      json cleaned = clean_schema(params);
      if (!is_empty_object_schema(cleaned)) d["parameters"] = std::move(cleaned);
    }
    decls.push_back(std::move(d));
    return std::nullopt;
  };
  if (const JsonView tools = body["tools"]; tools.is_array()) {
    std::size_t i = 0;
    for (const JsonView t : tools.elements()) {
      const std::string at = "tools[" + std::to_string(i++) + "]";
      // A missing or null type means a function tool.
      if (const JsonView type = t["type"]; !t.is_object() || (json_given(type) && !(type == "function"))) {
        return ApiError::bad_request("only function tools can be sent to Gemini", at + ".type", "unsupported_tool_type");
      }
      if (auto err = add(t["function"], at + ".function")) return *err;
    }
  } else if (const JsonView fns = body["functions"]; fns.is_array()) {
    std::size_t i = 0;
    for (const JsonView fn : fns.elements()) {
      if (auto err = add(fn, "functions[" + std::to_string(i++) + "]")) return *err;
    }
  }
  return decls;
}

// tool_choice (or legacy function_call) -> functionCallingConfig and, for
// allowed_tools, the subset of declarations to send.
Result<json> tool_config(JsonView body, std::set<std::string>& allowed, bool& restrict) {
  const JsonView choice = present(body, "tool_choice")     ? body["tool_choice"]
                          : present(body, "function_call") ? body["function_call"]
                                                           : JsonView();
  if (!choice.present()) return json();
  if (choice.is_string()) {
    const std::string c = choice.str();
    if (c == "auto") return json{{"mode", "AUTO"}};
    if (c == "none") return json{{"mode", "NONE"}};
    if (c == "required") return json{{"mode", "ANY"}};
    return ApiError::bad_request("Invalid 'tool_choice': \"" + c + "\"", "tool_choice", "invalid_value");
  }
  if (!choice.is_object()) return ApiError::bad_request("Invalid 'tool_choice'", "tool_choice", "invalid_type");
  // A missing or null type means a function; any other non-string is no supported type.
  const std::string type = json_given(choice["type"]) ? json_string(choice, "type") : "function";
  if (type == "function") {
    // {"type":"function","function":{"name"}} or legacy {"name"}.
    const JsonView fn = choice.contains("function") ? choice["function"] : choice;
    const std::string name = json_string(fn, "name");
    if (name.empty()) return ApiError::bad_request("tool_choice names no function", "tool_choice", "invalid_value");
    return json{{"mode", "ANY"}, {"allowedFunctionNames", json::array({name})}};
  }
  if (type == "allowed_tools") {
    const JsonView at = choice["allowed_tools"];
    if (!at.is_object()) return ApiError::bad_request("allowed_tools must be an object", "tool_choice.allowed_tools", "invalid_type");
    for (const JsonView t : at["tools"].elements()) {
      if (const JsonView fn = t["function"]; fn.is_object()) allowed.insert(json_string(fn, "name"));
    }
    restrict = true;
    return json{{"mode", json_string(at, "mode") == "required" ? "ANY" : "AUTO"}};
  }
  return ApiError::bad_request("tool_choice type \"" + type + "\" is not supported by Gemini", "tool_choice.type",
                               "invalid_value");
}

// Legacy /v1/completions: the prompt becomes the single user turn.
Result<json> prompt_messages(JsonView body) {
  for (const char* key : {"echo", "suffix"}) {
    if (present(body, key) && !is_false(body[key]) && !(body[key] == "")) {
      return ApiError::bad_request(std::string("'") + key + "' cannot be emulated on Gemini", key, "unsupported_parameter");
    }
  }
  if (const JsonView b = body["best_of"]; b.is_number_integer() && b.as_int64() != 1) {
    return ApiError::bad_request("'best_of' cannot be emulated on Gemini", "best_of", "unsupported_parameter");
  }
  JsonView prompt = body["prompt"];  // absent: ""
  if (prompt.is_array() && prompt.size() == 1 && prompt.at(0).is_string()) prompt = prompt.at(0);
  if (prompt.present() && !prompt.is_string()) {
    return ApiError::bad_request("Gemini takes one text prompt (no token arrays or prompt lists)", "prompt", "invalid_value");
  }
  return json::array({{{"role", "user"}, {"content", prompt.str()}}});
}

}  // namespace

Result<json> generate_request(Endpoint endpoint, JsonView body, const RequestOptions& options,
                              std::vector<std::string>& notes) {
  if (auto err = unsupported_params(body, options.params, notes)) return *err;
  static const json kNoMessages = json::array();
  json prompt_turn;  // a completion's prompt as the one user message
  JsonView messages;
  if (endpoint == Endpoint::completions) {
    auto m = prompt_messages(body);
    if (!m) return m.error();
    prompt_turn = std::move(m.value());
    messages = prompt_turn;
  } else {
    messages = body.contains("messages") ? body["messages"] : JsonView(kNoMessages);
  }
  auto converted = convert_messages(messages, options.model, options.signatures);
  if (!converted) return converted.error();
  Contents& c = converted.value();

  json out = json::object();
  if (c.contents.empty()) {
    if (c.system_parts.empty()) {
      return ApiError::bad_request("the request has no message with content to send", "messages", "invalid_value");
    }
    // Gemini needs at least one turn: a system-only conversation is asked as the user.
    out["contents"] = json::array({{{"role", "user"}, {"parts", std::move(c.system_parts)}}});
  } else {
    if (!c.system_parts.empty()) out["systemInstruction"] = {{"parts", std::move(c.system_parts)}};
    out["contents"] = std::move(c.contents);
  }

  std::set<std::string> allowed;
  bool restrict = false;
  auto tc = tool_config(body, allowed, restrict);
  if (!tc) return tc.error();
  auto decls = declarations(body, restrict ? &allowed : nullptr);
  if (!decls) return decls.error();
  if (!decls->empty()) {
    out["tools"] = json::array({{{"functionDeclarations", std::move(decls.value())}}});
    if (!tc->is_null()) out["toolConfig"] = {{"functionCallingConfig", std::move(tc.value())}};
  }

  auto gc = generation_config(body, options, notes);
  if (!gc) return gc.error();
  if (!gc->empty()) out["generationConfig"] = std::move(gc.value());
  return out;
}

Result<EmbedRequest> embed_request(JsonView body, const std::string& model, bool vertex) {
  EmbedRequest out;
  const JsonView input = body["input"];
  if (input.is_string()) {
    out.inputs.push_back(input.str());
  } else if (input.is_array() && !input.empty()) {
    for (const JsonView v : input.elements()) {
      if (!v.is_string()) {
        return ApiError::bad_request("Gemini embeddings take text input only (no token arrays)", "input", "invalid_value");
      }
      out.inputs.push_back(v.str());
    }
  } else {
    return ApiError::bad_request("'input' must be a string or an array of strings", "input", "invalid_value");
  }
  const json dims = present(body, "dimensions") ? body["dimensions"].to_json() : json();

  if (vertex) {
    json instances = json::array();
    for (const auto& text : out.inputs) instances.push_back({{"content", text}});
    out.method = ":predict";
    out.body = {{"instances", std::move(instances)}};
    if (!dims.is_null()) out.body["parameters"] = {{"outputDimensionality", dims}};
    return out;
  }
  auto one = [&](const std::string& text) {
    json r = {{"content", {{"parts", json::array({{{"text", text}}})}}}};
    if (!dims.is_null()) r["outputDimensionality"] = dims;
    return r;
  };
  if (input.is_string()) {
    out.method = ":embedContent";
    out.body = one(out.inputs[0]);
    return out;
  }
  json requests = json::array();
  for (const auto& text : out.inputs) {
    json r = one(text);
    r["model"] = "models/" + model;
    requests.push_back(std::move(r));
  }
  out.method = ":batchEmbedContents";
  out.body = {{"requests", std::move(requests)}};
  return out;
}

}  // namespace tollgate::gemini
