#include "middleware/request_validation.h"

#include <string>

namespace tollgate {
namespace {

using nlohmann::json;

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

ApiError wrong_type(const std::string& param, const char* expected, const json& got) {
  return ApiError::bad_request("Invalid type for '" + param + "': expected " + expected + ", but got " +
                                   type_name(got) + ".",
                               param, "invalid_type");
}

Decision check_number(const json& body, const char* key, double lo, double hi) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return wrong_type(key, "a number", *it);
  double v = it->get<double>();
  if (v < lo || v > hi) {
    return ApiError::bad_request("Invalid '" + std::string(key) + "': " + it->dump() + " is out of range [" +
                                     json(lo).dump() + ", " + json(hi).dump() + "].",
                                 key, "invalid_value");
  }
  return std::nullopt;
}

Decision check_int(const json& body, const char* key, int64_t lo, int64_t hi) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return wrong_type(key, "an integer", *it);
  auto v = it->get<int64_t>();
  if (v < lo || v > hi) {
    return ApiError::bad_request("Invalid '" + std::string(key) + "': " + std::to_string(v) + " is out of range [" +
                                     std::to_string(lo) + ", " + std::to_string(hi) + "].",
                                 key, "invalid_value");
  }
  return std::nullopt;
}

Decision check_messages(const json& body) {
  auto it = body.find("messages");
  if (it == body.end()) return ApiError::bad_request("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!it->is_array()) return wrong_type("messages", "an array", *it);
  if (it->empty()) return ApiError::bad_request("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages", "empty_array");
  static const char* roles[] = {"system", "developer", "user", "assistant", "tool", "function"};
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& m = (*it)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return wrong_type(p, "an object", m);
    auto role = m.find("role");
    if (role == m.end()) return ApiError::bad_request("Missing required parameter: '" + p + ".role'.", p + ".role", "missing_required_parameter");
    if (!role->is_string()) return wrong_type(p + ".role", "a string", *role);
    bool known = false;
    for (const char* r : roles) known = known || *role == r;
    if (!known) {
      return ApiError::bad_request("Invalid value for '" + p + ".role': " + role->dump() +
                                       ". Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                                   p + ".role", "invalid_value");
    }
    auto content = m.find("content");
    const bool assistant = *role == "assistant";
    const bool has_calls = m.contains("tool_calls") || m.contains("function_call");
    if (content == m.end() || content->is_null()) {
      if (assistant && (has_calls || content != m.end())) continue;
      return ApiError::bad_request("Missing required parameter: '" + p + ".content'.", p + ".content", "missing_required_parameter");
    }
    if (!content->is_string() && !content->is_array()) return wrong_type(p + ".content", "a string or an array of content parts", *content);
    if (content->is_array()) {
      for (std::size_t k = 0; k < content->size(); ++k) {
        const auto& part = (*content)[k];
        const std::string pp = p + ".content[" + std::to_string(k) + "]";
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
          return ApiError::bad_request("Invalid '" + pp + "': each content part must be an object with a string 'type'.", pp, "invalid_value");
        }
      }
    }
    if (*role == "tool" && (!m.contains("tool_call_id") || !m["tool_call_id"].is_string())) {
      return ApiError::bad_request("Missing required parameter: '" + p + ".tool_call_id'.", p + ".tool_call_id", "missing_required_parameter");
    }
  }
  return std::nullopt;
}

Decision check_stream(RequestContext& ctx) {
  const auto& body = ctx.body;
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) return wrong_type("stream", "a boolean", *s);
    ctx.stream = s->get<bool>();
  }
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) return wrong_type("stream_options", "an object", *so);
    if (!ctx.stream) {
      return ApiError::bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
    }
    if (auto iu = so->find("include_usage"); iu != so->end() && !iu->is_null()) {
      if (!iu->is_boolean()) return wrong_type("stream_options.include_usage", "a boolean", *iu);
      ctx.client_wants_usage = iu->get<bool>();
    }
  }
  return std::nullopt;
}

Decision check_stop(const json& body) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null() || it->is_string()) return std::nullopt;
  if (!it->is_array()) return wrong_type("stop", "a string or an array of strings", *it);
  if (it->size() > 4) return ApiError::bad_request("Invalid 'stop': at most 4 stop sequences are allowed.", "stop", "invalid_value");
  for (const auto& s : *it) {
    if (!s.is_string()) return wrong_type("stop", "a string or an array of strings", s);
  }
  return std::nullopt;
}

Decision check_input(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return ApiError::bad_request("Missing required parameter: '" + std::string(key) + "'.", key, "missing_required_parameter");
  }
  if (it->is_string()) return std::nullopt;
  if (!it->is_array()) return wrong_type(key, "a string or an array", *it);
  if (it->empty()) return ApiError::bad_request("Invalid '" + std::string(key) + "': empty array.", key, "empty_array");
  for (const auto& v : *it) {
    if (!v.is_string() && !v.is_number_integer() && !v.is_array()) {
      return wrong_type(key, "strings, token arrays, or arrays of token arrays", v);
    }
  }
  return std::nullopt;
}

}  // namespace

Decision validate_request(RequestContext& ctx) {
  const auto& body = ctx.body;
  if (!body.is_object()) {
    return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  }
  auto model = body.find("model");
  if (model == body.end() || model->is_null()) {
    return ApiError::bad_request("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  }
  if (!model->is_string()) return wrong_type("model", "a string", *model);
  ctx.requested_model = model->get<std::string>();
  if (ctx.requested_model.empty() || ctx.requested_model.size() > 256) {
    return ApiError::bad_request("Invalid 'model': expected a model name of 1 to 256 characters.", "model", "invalid_value");
  }

  if (auto user = body.find("user"); user != body.end() && !user->is_null()) {
    if (!user->is_string()) return wrong_type("user", "a string", *user);
    if (user->get_ref<const std::string&>().size() > 256) {
      return ApiError::bad_request("Invalid 'user': expected at most 256 characters.", "user", "invalid_value");
    }
    ctx.end_user = user->get<std::string>();  // budgets and the ledger track end users by it
  }

  Decision d;
  switch (ctx.endpoint) {
    case Endpoint::chat_completions:
      if ((d = check_messages(body))) return d;
      if ((d = check_stream(ctx))) return d;
      if ((d = check_stop(body))) return d;
      if ((d = check_number(body, "temperature", 0, 2))) return d;
      if ((d = check_number(body, "top_p", 0, 1))) return d;
      if ((d = check_number(body, "presence_penalty", -2, 2))) return d;
      if ((d = check_number(body, "frequency_penalty", -2, 2))) return d;
      if ((d = check_int(body, "n", 1, 128))) return d;
      if ((d = check_int(body, "max_tokens", 1, INT64_MAX))) return d;
      if ((d = check_int(body, "max_completion_tokens", 1, INT64_MAX))) return d;
      if (auto t = body.find("tools"); t != body.end() && !t->is_null() && !t->is_array()) return wrong_type("tools", "an array", *t);
      break;
    case Endpoint::completions:
      if ((d = check_input(body, "prompt"))) return d;
      if ((d = check_stream(ctx))) return d;
      if ((d = check_stop(body))) return d;
      if ((d = check_number(body, "temperature", 0, 2))) return d;
      if ((d = check_int(body, "n", 1, 128))) return d;
      if ((d = check_int(body, "max_tokens", 0, INT64_MAX))) return d;
      break;
    case Endpoint::embeddings:
      if ((d = check_input(body, "input"))) return d;
      if (body.contains("stream") && body["stream"] == true) {
        return ApiError::bad_request("Embeddings do not support streaming.", "stream", "invalid_value");
      }
      if (auto f = body.find("encoding_format"); f != body.end() && !f->is_null() && *f != "float" && *f != "base64") {
        return ApiError::bad_request("Invalid 'encoding_format': expected 'float' or 'base64'.", "encoding_format", "invalid_value");
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

boost::asio::awaitable<Decision> RequestValidation::on_request(RequestContext& ctx) {
  if (ctx.endpoint == Endpoint::chat_completions || ctx.endpoint == Endpoint::completions ||
      ctx.endpoint == Endpoint::embeddings) {
    co_return validate_request(ctx);
  }
  co_return std::nullopt;
}

}  // namespace tollgate
