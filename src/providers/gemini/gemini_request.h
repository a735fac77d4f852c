#pragma once
// OpenAI request -> Gemini / Vertex AI native request (wire formats §3.2,
// §3.6, §1.11). Pure: no I/O, deterministic, tested with fixtures.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/json_view.h"
#include "tollgate/request_context.h"

namespace tollgate::gemini {

class ThoughtSignatureStore;

struct RequestOptions {
  std::string model;  // upstream model id (thinking config, thought signatures)
  // Parameters Gemini has no counterpart for (logit_bias, logprobs,
  // parallel_tool_calls: false, ...): dropped with a note, or a 400 naming them.
  ParamPolicy params = ParamPolicy::drop;
  // Where thought signatures of earlier tool calls are looked up; null: none.
  const ThoughtSignatureStore* signatures = nullptr;
};

// A GenerateContentRequest for a chat completion, or for a legacy completion
// (its prompt becomes one user turn). `notes` collects dropped parameters for
// the x-tollgate-notes header. Errors are 400s naming the offending parameter:
// untranslatable input (token-array prompts, tool arguments that are not a
// JSON object, a tool message whose tool_call_id matches no earlier call, ...).
// `body` is read through the view; only values forwarded as they are (sampling
// parameters, a response schema) are copied.
Result<nlohmann::json> generate_request(Endpoint endpoint, JsonView body, const RequestOptions& options,
                                        std::vector<std::string>& notes);

// An embeddings request: Gemini `:embedContent` for one input,
// `:batchEmbedContents` for several; Vertex AI `:predict`. `method` is the
// part after the model in the URL (":embedContent", ...).
struct EmbedRequest {
  std::string method;
  nlohmann::json body;
  std::vector<std::string> inputs;  // in order, for usage estimates
};
Result<EmbedRequest> embed_request(JsonView body, const std::string& model, bool vertex);

}  // namespace tollgate::gemini
