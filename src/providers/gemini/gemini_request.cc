#include "providers/gemini/gemini_request.h"

#include <set>

#include "providers/gemini/gemini_contents.h"
#include "providers/gemini/gemini_schema.h"
#include "providers/json_fields.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

bool present(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && !it->is_null();
}

// Parameters with no Gemini counterpart. Dropping them changes what the
// client gets, so they follow the provider's policy (note or 400).
std::optional<ApiError> unsupported_params(const json& body, ParamPolicy policy, std::vector<std::string>& notes) {
  std::vector<std::string> found;
  for (const char* key : {"logit_bias", "logprobs", "top_logprobs", "prediction", "audio", "web_search_options",
                          "verbosity"}) {
    if (!present(body, key)) continue;
    if (std::string(key) == "logprobs" && body[key] == false) continue;
    found.emplace_back(key);
  }
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && *p == false) found.emplace_back("parallel_tool_calls");
  if (auto m = body.find("modalities"); m != body.end() && m->is_array() && *m != json::array({"text"})) {
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

Result<json> generation_config(const json& body, const RequestOptions& options, std::vector<std::string>& notes) {
  json gc = json::object();
  auto copy = [&](const char* from, const char* to) {
    if (present(body, from)) gc[to] = body[from];
  };
  copy("temperature", "temperature");
  copy("top_p", "topP");
  copy("top_k", "topK");
  if (present(body, "max_completion_tokens")) {
    gc["maxOutputTokens"] = body["max_completion_tokens"];
  } else if (present(body, "max_tokens")) {
    gc["maxOutputTokens"] = body["max_tokens"];
  }
  if (auto stop = body.find("stop"); stop != body.end()) {
    if (stop->is_string()) {
      gc["stopSequences"] = json::array({*stop});
    } else if (stop->is_array() && !stop->empty()) {
      gc["stopSequences"] = *stop;
    }
  }
  if (auto n = body.find("n"); n != body.end() && n->is_number_integer() && *n != 1) gc["candidateCount"] = *n;
  copy("seed", "seed");
  copy("presence_penalty", "presencePenalty");
  copy("frequency_penalty", "frequencyPenalty");

  if (auto rf = body.find("response_format"); rf != body.end() && rf->is_object()) {
    const std::string type = json_member(*rf, "type").is_null() ? "text" : json_string(*rf, "type");
    if (type == "json_object") {
      gc["responseMimeType"] = "application/json";
    } else if (type == "json_schema") {
      gc["responseMimeType"] = "application/json";
      const json& js = json_member(*rf, "json_schema");
      if (js.is_object() && js.contains("schema") && js["schema"].is_object()) gc["responseJsonSchema"] = js["schema"];
    } else if (type != "text") {
      return ApiError::bad_request("response_format type \"" + type + "\" is not supported by Gemini",
                                   "response_format.type", "invalid_value");
    }
  }
  if (auto effort = body.find("reasoning_effort"); effort != body.end() && effort->is_string()) {
    if (!thinking_model(options.model)) {
      // 1.x and 2.0 models answer 400 to any thinkingConfig.
      if (options.params == ParamPolicy::reject) {
        return ApiError::bad_request("'reasoning_effort' is not supported by " + options.model, "reasoning_effort",
                                     "unsupported_parameter");
      }
      notes.push_back("dropped reasoning_effort");
      return gc;
    }
    auto tc = thinking_config(effort->get<std::string>(), options.model, notes);
    if (!tc) return tc.error();
    gc["thinkingConfig"] = std::move(tc.value());
  }
  return gc;
}

// OpenAI tools -> one functionDeclarations entry; legacy `functions` too.
Result<json> declarations(const json& body, const std::set<std::string>* allowed) {
  json decls = json::array();
  auto add = [&](const json& fn, const std::string& at) -> std::optional<ApiError> {
    if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string()) {
      return ApiError::bad_request("a function tool needs a name", at, "invalid_value");
    }
    const std::string name = fn["name"];
    if (allowed && !allowed->count(name)) return std::nullopt;
    json d = {{"name", name}};
    if (auto desc = fn.find("description"); desc != fn.end() && desc->is_string()) d["description"] = *desc;
    if (auto params = fn.find("parameters"); params != fn.end() && params->is_object()) {
      json cleaned = clean_schema(*params);
      if (!is_empty_object_schema(cleaned)) d["parameters"] = std::move(cleaned);
    }
    decls.push_back(std::move(d));
    return std::nullopt;
  };
  if (auto tools = body.find("tools"); tools != body.end() && tools->is_array()) {
    for (std::size_t i = 0; i < tools->size(); ++i) {
      const json& t = (*tools)[i];
      const std::string at = "tools[" + std::to_string(i) + "]";
      if (const json& type = json_member(t, "type"); !t.is_object() || !(type.is_null() || type == "function")) {
        return ApiError::bad_request("only function tools can be sent to Gemini", at + ".type", "unsupported_tool_type");
      }
      if (auto err = add(json_member(t, "function"), at + ".function")) return *err;
    }
  } else if (auto fns = body.find("functions"); fns != body.end() && fns->is_array()) {
    for (std::size_t i = 0; i < fns->size(); ++i) {
      if (auto err = add((*fns)[i], "functions[" + std::to_string(i) + "]")) return *err;
    }
  }
  return decls;
}

// tool_choice (or legacy function_call) -> functionCallingConfig and, for
// allowed_tools, the subset of declarations to send.
Result<json> tool_config(const json& body, std::set<std::string>& allowed, bool& restrict) {
  json choice = present(body, "tool_choice") ? body["tool_choice"]
                : present(body, "function_call") ? body["function_call"] : json();
  if (choice.is_null()) return json();
  if (choice.is_string()) {
    const std::string c = choice;
    if (c == "auto") return json{{"mode", "AUTO"}};
    if (c == "none") return json{{"mode", "NONE"}};
    if (c == "required") return json{{"mode", "ANY"}};
    return ApiError::bad_request("Invalid 'tool_choice': \"" + c + "\"", "tool_choice", "invalid_value");
  }
  if (!choice.is_object()) return ApiError::bad_request("Invalid 'tool_choice'", "tool_choice", "invalid_type");
  const std::string type = json_member(choice, "type").is_null() ? "function" : json_string(choice, "type");
  if (type == "function") {
    // {"type":"function","function":{"name"}} or legacy {"name"}.
    const json& fn = choice.contains("function") ? choice["function"] : choice;
    const std::string name = json_string(fn, "name");
    if (name.empty()) return ApiError::bad_request("tool_choice names no function", "tool_choice", "invalid_value");
    return json{{"mode", "ANY"}, {"allowedFunctionNames", json::array({name})}};
  }
  if (type == "allowed_tools") {
    const json& at = json_member(choice, "allowed_tools");
    if (!at.is_object()) return ApiError::bad_request("allowed_tools must be an object", "tool_choice.allowed_tools", "invalid_type");
    if (const json& tools = json_member(at, "tools"); tools.is_array()) {
      for (const auto& t : tools) {
        if (const json& fn = json_member(t, "function"); fn.is_object()) allowed.insert(json_string(fn, "name"));
      }
    }
    restrict = true;
    return json{{"mode", json_string(at, "mode") == "required" ? "ANY" : "AUTO"}};
  }
  return ApiError::bad_request("tool_choice type \"" + type + "\" is not supported by Gemini", "tool_choice.type",
                               "invalid_value");
}

// Legacy /v1/completions: the prompt becomes the single user turn.
Result<json> prompt_messages(const json& body) {
  for (const char* key : {"echo", "suffix"}) {
    if (present(body, key) && body[key] != false && body[key] != "") {
      return ApiError::bad_request(std::string("'") + key + "' cannot be emulated on Gemini", key, "unsupported_parameter");
    }
  }
  if (auto b = body.find("best_of"); b != body.end() && b->is_number_integer() && *b != 1) {
    return ApiError::bad_request("'best_of' cannot be emulated on Gemini", "best_of", "unsupported_parameter");
  }
  json prompt = body.contains("prompt") ? body["prompt"] : json("");
  if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) prompt = prompt[0];
  if (!prompt.is_string()) {
    return ApiError::bad_request("Gemini takes one text prompt (no token arrays or prompt lists)", "prompt", "invalid_value");
  }
  return json::array({{{"role", "user"}, {"content", prompt}}});
}

}  // namespace

Result<json> generate_request(Endpoint endpoint, const json& body, const RequestOptions& options,
                              std::vector<std::string>& notes) {
  if (auto err = unsupported_params(body, options.params, notes)) return *err;
  json messages;
  if (endpoint == Endpoint::completions) {
    auto m = prompt_messages(body);
    if (!m) return m.error();
    messages = std::move(m.value());
  } else {
    messages = body.contains("messages") ? body["messages"] : json::array();
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

Result<EmbedRequest> embed_request(const json& body, const std::string& model, bool vertex) {
  EmbedRequest out;
  const json& input = json_member(body, "input");
  if (input.is_string()) {
    out.inputs.push_back(input.get<std::string>());
  } else if (input.is_array() && !input.empty()) {
    for (const auto& v : input) {
      if (!v.is_string()) {
        return ApiError::bad_request("Gemini embeddings take text input only (no token arrays)", "input", "invalid_value");
      }
      out.inputs.push_back(v.get<std::string>());
    }
  } else {
    return ApiError::bad_request("'input' must be a string or an array of strings", "input", "invalid_value");
  }
  json dims = present(body, "dimensions") ? body["dimensions"] : json();

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
