#include "api/responses_input_tokens.h"

#include <limits>
#include <string>

#include "accounting/token_estimate.h"

namespace tollgate {
namespace {

int64_t add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::numeric_limits<int64_t>::max();
  return out;
}

int64_t text_of(JsonView j) { return j.is_string() ? estimate_tokens(j.as_string()) : 0; }

// Same per-image figures as the chat estimate (token_estimate.cc).
constexpr int64_t kImageLowDetail = 85;
constexpr int64_t kImageDefault = 765;
// Per message (role and framing), per tool, and the reply primer, as for chat.
constexpr int64_t kPerMessage = 3;
constexpr int64_t kPerTool = 8;
constexpr int64_t kPrimer = 3;

int64_t content_tokens(JsonView content) {
  if (content.is_string()) return text_of(content);
  int64_t n = 0;
  for (JsonView part : content.elements()) {
    const JsonView type = part["type"];
    if (type == "input_text" || type == "output_text" || type == "text") {
      n = add(n, text_of(part["text"]));
    } else if (type == "refusal") {
      n = add(n, text_of(part["refusal"]));
    } else if (type == "input_image") {
      n = add(n, part["detail"] == "low" ? kImageLowDetail : kImageDefault);
    }
  }
  return n;
}

int64_t item_tokens(JsonView item) {
  int64_t n = kPerMessage;
  const JsonView type = item["type"];
  if (type == "function_call") {
    n = add(n, add(text_of(item["name"]), text_of(item["arguments"])));
  } else if (type == "function_call_output") {
    n = add(n, item["output"].is_string() ? text_of(item["output"]) : content_tokens(item["output"]));
  } else if (type == "reasoning") {
    for (JsonView s : item["summary"].elements()) n = add(n, text_of(s["text"]));
  } else if (!type.present() || type == "message") {
    n = add(n, add(text_of(item["role"]), content_tokens(item["content"])));
  }
  return n;
}

}  // namespace

int64_t estimate_responses_input_tokens(JsonView body) {
  int64_t n = kPrimer;
  if (body["instructions"].is_string()) n = add(n, add(kPerMessage + 1, text_of(body["instructions"])));
  const JsonView input = body["input"];
  if (input.is_string()) {
    n = add(n, add(kPerMessage + 1, text_of(input)));
  } else if (input.is_array()) {
    for (JsonView item : input.elements()) n = add(n, item_tokens(item));
  }
  for (JsonView tool : body["tools"].elements()) n = add(n, add(kPerTool, estimate_tokens(tool.dump())));
  return n;
}

}  // namespace tollgate
