#include "providers/bedrock/bedrock_embeddings.h"

#include "accounting/token_estimate.h"
#include <cstring>

#include <openssl/evp.h>

#include "providers/json_fields.h"

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

constexpr std::size_t kCohereMaxTexts = 96;

std::string base64_floats(const json& vec) {
  std::string packed;
  packed.reserve(vec.size() * 4);
  for (const auto& x : vec) {
    const float f = x.is_number() ? static_cast<float>(x.get<double>()) : 0.0f;
    char bytes[4];
    std::memcpy(bytes, &f, 4);  // little-endian on every platform this builds for
    packed.append(bytes, 4);
  }
  std::string b64(4 * ((packed.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(packed.data()),
                  static_cast<int>(packed.size()));
  return b64;
}

Result<std::vector<std::string>> input_texts(JsonView body) {
  const JsonView in = body["input"];
  std::vector<std::string> texts;
  if (in.is_string()) {
    texts.push_back(in.str());
    return texts;
  }
  for (const JsonView v : in.elements()) {
    if (!v.is_string()) {
      return ApiError::bad_request("Bedrock embedding models take text input, not token arrays.", "input",
                                   "unsupported_input");
    }
    texts.push_back(v.str());
  }
  if (texts.empty()) return ApiError::bad_request("'input' must not be empty.", "input", "invalid_value");
  return texts;
}

}  // namespace

EmbeddingFamily embedding_family(std::string_view model_id) {
  if (model_id.find("amazon.titan-embed") != std::string_view::npos) return EmbeddingFamily::titan;
  if (model_id.find("cohere.embed") != std::string_view::npos) return EmbeddingFamily::cohere;
  return EmbeddingFamily::unsupported;
}

Result<json> to_embedding_request(JsonView body, std::string_view model_id, ParamPolicy params,
                                  std::vector<std::string>& notes) {
  auto texts = input_texts(body);
  if (!texts) return texts.error();
  const json dimensions = body["dimensions"].to_json();  // absent: null
  bool dimensions_used = dimensions.is_null();
  json out;
  switch (embedding_family(model_id)) {
    case EmbeddingFamily::titan:
      if (texts->size() > 1) {
        return ApiError::bad_request("Titan embedding models on Bedrock embed one input per request; send " +
                                         std::to_string(texts->size()) + " requests with one input each.",
                                     "input", "unsupported_input");
      }
      out = {{"inputText", texts->front()}};
      if (!dimensions.is_null() && model_id.find("titan-embed-text-v2") != std::string_view::npos) {
        out["dimensions"] = dimensions;
        dimensions_used = true;
      }
      break;
    case EmbeddingFamily::cohere:
      if (texts->size() > kCohereMaxTexts) {
        return ApiError::bad_request("Cohere embedding models on Bedrock take at most 96 inputs per request.", "input",
                                     "unsupported_input");
      }
      out = {{"texts", *texts}, {"input_type", json_string(body, "input_type", "search_document")}};
      if (!dimensions.is_null() && model_id.find("embed-v4") != std::string_view::npos) {
        out["output_dimension"] = dimensions;
        dimensions_used = true;
      }
      break;
    case EmbeddingFamily::unsupported:
      return ApiError::bad_request("This Bedrock model has no embeddings mapping; supported are amazon.titan-embed-* "
                                   "and cohere.embed-* models.",
                                   "model", "unsupported_model");
  }
  if (!dimensions_used) {
    if (params == ParamPolicy::reject) {
      return ApiError::bad_request("'dimensions' is not supported by this embedding model on Bedrock.", "dimensions",
                                   "unsupported_parameter");
    }
    notes.push_back("dropped dimensions");
  }
  return out;
}

Result<json> from_embedding_response(const json& native, JsonView client_body, std::string_view model_id,
                                     Usage& usage) {
  if (!native.is_object()) return ApiError::bad_gateway("the upstream embeddings answer is not an object", "upstream_protocol_error");
  json vectors = json::array();
  if (auto e = native.find("embedding"); e != native.end() && e->is_array()) {
    vectors.push_back(*e);  // Titan: one vector
  } else if (auto es = native.find("embeddings"); es != native.end()) {
    // Cohere: a list of vectors, or {"float": [...]} when embedding types were asked for.
    if (es->is_array()) vectors = *es;
    if (es->is_object() && es->contains("float") && (*es)["float"].is_array()) vectors = (*es)["float"];
  }
  if (vectors.empty()) return ApiError::bad_gateway("the upstream embeddings answer has no vectors", "upstream_protocol_error");

  const bool base64 = json_string(client_body, "encoding_format", "float") == "base64";
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (!vectors[i].is_array()) return ApiError::bad_gateway("the upstream sent a malformed vector", "upstream_protocol_error");
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", base64 ? json(base64_floats(vectors[i])) : vectors[i]}});
  }

  usage = Usage{};
  if (auto n = native.find("inputTextTokenCount"); n != native.end() && n->is_number_integer()) {
    usage.prompt_tokens = n->get<int64_t>();
    usage.source = UsageSource::provider_final;
  } else {
    auto texts = input_texts(client_body);
    for (const auto& t : texts ? *texts : std::vector<std::string>{}) usage.prompt_tokens += estimate_tokens(t);
    usage.source = UsageSource::estimated;
  }
  return json{{"object", "list"},
              {"model", model_id},
              {"data", std::move(data)},
              {"usage", {{"prompt_tokens", usage.prompt_tokens}, {"total_tokens", usage.prompt_tokens}}}};
}

}  // namespace tollgate::bedrock
