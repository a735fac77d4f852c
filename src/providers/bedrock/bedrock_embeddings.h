#pragma once
// OpenAI /v1/embeddings <-> Bedrock InvokeModel for Titan and Cohere
// embedding models (POST /model/{id}/invoke). Pure.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/json_view.h"
#include "tollgate/usage.h"

namespace tollgate::bedrock {

enum class EmbeddingFamily { titan, cohere, unsupported };

// amazon.titan-embed-* -> titan, cohere.embed-* -> cohere, also behind a
// cross-region prefix ("us.") or inside an ARN.
EmbeddingFamily embedding_family(std::string_view model_id);

// The InvokeModel body:
//  - Titan: {"inputText", "dimensions"?}. Titan embeds one text per call and
//    the adapter makes exactly one upstream call, so an input array of more
//    than one item is a 400 (send one request per input).
//  - Cohere: {"texts": [...], "input_type"}; the client may pass Cohere's
//    input_type as an extra field (default "search_document"); at most 96
//    texts; `dimensions` becomes output_dimension on embed-v4 models.
// Token-array inputs are a 400: these models take text. `dimensions` a model
// cannot honour follows `params` (drop with a note, or 400).
Result<nlohmann::json> to_embedding_request(JsonView body, std::string_view model_id,
                                            ParamPolicy params, std::vector<std::string>& notes);

// The InvokeModel answer as an OpenAI embedding list, index aligned with the
// input order, base64-packed little-endian float32 when the client asked for
// encoding_format "base64". Titan reports its token count; Cohere does not,
// so its usage is an estimate from the input text.
Result<nlohmann::json> from_embedding_response(const nlohmann::json& native, JsonView client_body,
                                               std::string_view model_id, Usage& usage);

}  // namespace tollgate::bedrock
