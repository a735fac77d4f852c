#pragma once
// OpenAI messages -> Gemini `contents` and `systemInstruction` (wire formats
// §3.2, §3.6): strict user/model alternation, tool results as functionResponse
// parts named from the earlier call, images as inlineData / fileData. Pure.

#include <string>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate::gemini {

class ThoughtSignatureStore;

struct Contents {
  nlohmann::json contents = nlohmann::json::array();
  nlohmann::json system_parts = nlohmann::json::array();  // empty: no systemInstruction
};

// `messages` must be an array (the validation middleware checked the shapes
// of roles and content). Signatures for replayed tool calls are looked up in
// `signatures` (may be null) for `model`. Read through the view; nothing of
// `messages` is copied but the values forwarded as they are.
Result<Contents> convert_messages(JsonView messages, const std::string& model,
                                  const ThoughtSignatureStore* signatures);

// A data URL's media type and base64 payload; false if `url` is not a
// base64 data URL. "image/jpg" is normalised to "image/jpeg".
bool parse_data_url(const std::string& url, std::string& mime, std::string& data);

}  // namespace tollgate::gemini
