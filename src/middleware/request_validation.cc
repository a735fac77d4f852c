#include "middleware/request_validation.h"

#include <string>

namespace tollgate {
namespace {

// Integer parameters (max_tokens and its kin) are bounded so that every sum
// and product the gateway makes of them stays exact: 2^31 - 1 tokens is far
// beyond any model's output, and budgets multiply it by a price.
constexpr int64_t kMaxTokensParam = 2147483647;

std::string number_text(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

ApiError wrong_type(const std::string& param, const char* expected, JsonView got) {
  return ApiError::bad_request("Invalid type for '" + param + "': expected " + expected + ", but got " +
                                   got.type_description() + ".",
                               param, "invalid_type");
}

Decision check_number(JsonView body, const char* key, double lo, double hi) {
  const JsonView v = body[key];
  if (!v.present() || v.is_null()) return std::nullopt;
  if (!v.is_number()) return wrong_type(key, "a number", v);
  const double d = v.as_double();
  if (d < lo || d > hi) {
    return ApiError::bad_request("Invalid '" + std::string(key) + "': " + v.dump() + " is out of range [" +
                                     number_text(lo) + ", " + number_text(hi) + "].",
                                 key, "invalid_value");
  }
  return std::nullopt;
}

Decision check_int(JsonView body, const char* key, int64_t lo, int64_t hi) {
  const JsonView value = body[key];
  if (!value.present() || value.is_null()) return std::nullopt;
  if (!value.is_number_integer()) return wrong_type(key, "an integer", value);
  const bool huge = value.is_number_unsigned() && value.as_int64() == INT64_MAX;
  const auto v = value.as_int64();
  if (huge || v < lo || v > hi) {
    return ApiError::bad_request("Invalid '" + std::string(key) + "': " + value.dump() + " is out of range [" +
                                     std::to_string(lo) + ", " + std::to_string(hi) + "].",
                                 key, "invalid_value");
  }
  return std::nullopt;
}

// The messages array. Paths such as "messages[3].role" are only built for
// an error: a valid request pays nothing for them.
Decision check_message(JsonView m, std::size_t i);

Decision check_messages(JsonView body) {
  const JsonView messages = body["messages"];
  if (!messages.present()) return ApiError::bad_request("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!messages.is_array()) return wrong_type("messages", "an array", messages);
  if (messages.empty()) return ApiError::bad_request("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages", "empty_array");
  std::size_t i = 0;
  for (JsonView m : messages.elements()) {
    if (auto d = check_message(m, i++)) return d;
  }
  return std::nullopt;
}

Decision check_message(JsonView m, std::size_t i) {
  static const char* roles[] = {"system", "developer", "user", "assistant", "tool", "function"};
  auto path = [i] { return "messages[" + std::to_string(i) + "]"; };
  if (!m.is_object()) return wrong_type(path(), "an object", m);
  const JsonView role = m["role"];
  if (!role.present()) {
    return ApiError::bad_request("Missing required parameter: '" + path() + ".role'.", path() + ".role", "missing_required_parameter");
  }
  if (!role.is_string()) return wrong_type(path() + ".role", "a string", role);
  bool known = false;
  for (const char* r : roles) known = known || role == r;
  if (!known) {
    return ApiError::bad_request("Invalid value for '" + path() + ".role': " + role.dump().substr(0, 80) +
                                     ". Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                                 path() + ".role", "invalid_value");
  }
  const JsonView content = m["content"];
  const bool assistant = role == "assistant";
  const bool has_calls = m.contains("tool_calls") || m.contains("function_call");
  if (!content.present() || content.is_null()) {
    if (assistant && (has_calls || content.present())) return std::nullopt;
    return ApiError::bad_request("Missing required parameter: '" + path() + ".content'.", path() + ".content", "missing_required_parameter");
  }
  if (!content.is_string() && !content.is_array()) {
    return wrong_type(path() + ".content", "a string or an array of content parts", content);
  }
  std::size_t k = 0;
  for (JsonView part : content.elements()) {
    if (!part.is_object() || !part["type"].is_string()) {
      const std::string pp = path() + ".content[" + std::to_string(k) + "]";
      return ApiError::bad_request("Invalid '" + pp + "': each content part must be an object with a string 'type'.", pp, "invalid_value");
    }
    ++k;
  }
  if (role == "tool" && !m["tool_call_id"].is_string()) {
    return ApiError::bad_request("Missing required parameter: '" + path() + ".tool_call_id'.", path() + ".tool_call_id", "missing_required_parameter");
  }
  return std::nullopt;
}

Decision check_stream(RequestContext& ctx) {
  const JsonView body = ctx.body.view();
  if (const JsonView s = body["stream"]; s.present() && !s.is_null()) {
    if (!s.is_boolean()) return wrong_type("stream", "a boolean", s);
    ctx.stream = s.as_bool();
  }
  if (const JsonView so = body["stream_options"]; so.present() && !so.is_null()) {
    if (!so.is_object()) return wrong_type("stream_options", "an object", so);
    if (!ctx.stream) {
      return ApiError::bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
    }
    if (const JsonView iu = so["include_usage"]; iu.present() && !iu.is_null()) {
      if (!iu.is_boolean()) return wrong_type("stream_options.include_usage", "a boolean", iu);
      ctx.client_wants_usage = iu.as_bool();
    }
  }
  return std::nullopt;
}

Decision check_stop(JsonView body) {
  const JsonView stop = body["stop"];
  if (!stop.present() || stop.is_null() || stop.is_string()) return std::nullopt;
  if (!stop.is_array()) return wrong_type("stop", "a string or an array of strings", stop);
  if (stop.size() > 4) return ApiError::bad_request("Invalid 'stop': at most 4 stop sequences are allowed.", "stop", "invalid_value");
  for (JsonView s : stop.elements()) {
    if (!s.is_string()) return wrong_type("stop", "a string or an array of strings", s);
  }
  return std::nullopt;
}

Decision check_input(JsonView body, const char* key) {
  const JsonView input = body[key];
  if (!input.present() || input.is_null()) {
    return ApiError::bad_request("Missing required parameter: '" + std::string(key) + "'.", key, "missing_required_parameter");
  }
  if (input.is_string()) return std::nullopt;
  if (!input.is_array()) return wrong_type(key, "a string or an array", input);
  if (input.empty()) return ApiError::bad_request("Invalid '" + std::string(key) + "': empty array.", key, "empty_array");
  for (JsonView v : input.elements()) {
    if (v.is_string() || v.is_number_integer()) continue;
    if (!v.is_array()) return wrong_type(key, "strings, token arrays, or arrays of token arrays", v);
    // A token array holds token ids, nothing deeper.
    for (JsonView token : v.elements()) {
      if (!token.is_number_integer()) return wrong_type(key, "strings, token arrays, or arrays of token arrays", token);
    }
  }
  return std::nullopt;
}

}  // namespace

Decision validate_request(RequestContext& ctx) {
  const JsonView body = ctx.body.view();
  if (!body.is_object()) {
    return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_body");
  }
  const JsonView model = body["model"];
  if (!model.present() || model.is_null()) {
    return ApiError::bad_request("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  }
  if (!model.is_string()) return wrong_type("model", "a string", model);
  if (model.as_string().empty() || model.as_string().size() > 256) {
    return ApiError::bad_request("Invalid 'model': expected a model name of 1 to 256 characters.", "model", "invalid_value");
  }
  ctx.requested_model = model.str();

  if (const JsonView user = body["user"]; user.present() && !user.is_null()) {
    if (!user.is_string()) return wrong_type("user", "a string", user);
    if (user.as_string().size() > 256) {
      return ApiError::bad_request("Invalid 'user': expected at most 256 characters.", "user", "invalid_value");
    }
    ctx.end_user = user.str();  // budgets and the ledger track end users by it
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
      if ((d = check_int(body, "max_tokens", 1, kMaxTokensParam))) return d;
      if ((d = check_int(body, "max_completion_tokens", 1, kMaxTokensParam))) return d;
      if ((d = check_int(body, "top_logprobs", 0, 20))) return d;
      if ((d = check_int(body, "seed", INT64_MIN, INT64_MAX))) return d;
      if (const JsonView t = body["tools"]; t.present() && !t.is_null() && !t.is_array()) return wrong_type("tools", "an array", t);
      break;
    case Endpoint::completions:
      if ((d = check_input(body, "prompt"))) return d;
      if ((d = check_stream(ctx))) return d;
      if ((d = check_stop(body))) return d;
      if ((d = check_number(body, "temperature", 0, 2))) return d;
      if ((d = check_int(body, "n", 1, 128))) return d;
      if ((d = check_int(body, "max_tokens", 0, kMaxTokensParam))) return d;
      break;
    case Endpoint::embeddings:
      if ((d = check_input(body, "input"))) return d;
      if (body["stream"].as_bool()) {
        return ApiError::bad_request("Embeddings do not support streaming.", "stream", "invalid_value");
      }
      if (const JsonView f = body["encoding_format"]; f.present() && !f.is_null() && f != "float" && f != "base64") {
        return ApiError::bad_request("Invalid 'encoding_format': expected 'float' or 'base64'.", "encoding_format", "invalid_value");
      }
      if ((d = check_int(body, "dimensions", 1, 65536))) return d;
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
