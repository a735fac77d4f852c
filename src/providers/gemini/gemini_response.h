#pragma once
// Gemini GenerateContentResponse / embedding responses -> OpenAI shapes
// (wire formats §3.3, §3.6, §8). Pure apart from the id generator and clock
// passed in.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/usage.h"

namespace tollgate::gemini {

class ThoughtSignatureStore;

// "call_" + 24 random alphanumerics: unique across parallel calls.
std::string make_tool_call_id();

// finishReason -> OpenAI finish_reason. STOP becomes tool_calls when the
// candidate produced function calls; safety/recitation reasons become
// content_filter; unknown values, OTHER and the tool-call failures stop.
std::string map_finish_reason(const std::string& reason, bool has_function_calls);

// usageMetadata -> Usage (§8): prompt = promptTokenCount +
// toolUsePromptTokenCount, completion = candidatesTokenCount +
// thoughtsTokenCount, cached = cachedContentTokenCount, reasoning =
// thoughtsTokenCount. source is none when `meta` is not an object.
Usage usage_from_gemini(const nlohmann::json& meta);

struct ResponseOptions {
  Endpoint endpoint = Endpoint::chat_completions;  // chat_completions or completions
  std::string model;                               // fallback when modelVersion is absent
  std::string signature_model;                     // the deployment's model id, for signatures
  ThoughtSignatureStore* signatures = nullptr;     // where functionCall signatures are kept
  int64_t created = 0;                             // unix seconds
  std::function<std::string()> tool_call_id = make_tool_call_id;
};

// A non-streaming chat.completion (or text_completion). Candidates become
// choices; text parts are concatenated into content, thought parts into
// reasoning_content; functionCall parts become tool_calls with synthesized
// ids (their thoughtSignature is stored under that id). A prompt blocked by
// promptFeedback yields one choice with null content and content_filter.
Result<nlohmann::json> translate_generate_response(const nlohmann::json& native, const ResponseOptions& options,
                                                   Usage& usage);

// embedContent / batchEmbedContents / Vertex predict -> OpenAI list of
// embeddings in input order; `base64` packs little-endian float32. Usage is
// Vertex's token counts when present, else an estimate of `inputs`.
Result<nlohmann::json> translate_embed_response(const nlohmann::json& native, const std::vector<std::string>& inputs,
                                                const std::string& model, bool base64, Usage& usage);

}  // namespace tollgate::gemini
