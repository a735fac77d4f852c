#include "tollgate/request_context.h"

namespace tollgate {

const char* to_string(Endpoint e) {
  switch (e) {
    case Endpoint::chat_completions: return "chat_completions";
    case Endpoint::completions: return "completions";
    case Endpoint::embeddings: return "embeddings";
    case Endpoint::models: return "models";
    case Endpoint::model: return "model";
    case Endpoint::health: return "health";
    case Endpoint::messages: return "messages";
    case Endpoint::count_tokens: return "count_tokens";
    case Endpoint::responses: return "responses";
    case Endpoint::admin: return "admin";
    case Endpoint::response_object: return "response_object";
    case Endpoint::response_input_items: return "response_input_items";
    case Endpoint::response_input_tokens: return "response_input_tokens";
    case Endpoint::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace tollgate
