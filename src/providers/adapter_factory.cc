#include "providers/adapter_factory.h"

#include <stdexcept>

#include "providers/openai/openai_adapter.h"

namespace tollgate {

std::unique_ptr<ProviderAdapter> make_adapter(const ProviderConfig& config) {
  std::unique_ptr<ProviderAdapter> adapter;
  switch (config.type) {
    case ProviderType::openai:
    case ProviderType::openai_compatible: adapter = std::make_unique<OpenAiAdapter>(config); break;
    case ProviderType::anthropic: adapter = make_anthropic_adapter(config); break;
    case ProviderType::gemini:
    case ProviderType::vertex: adapter = make_gemini_adapter(config); break;
    case ProviderType::bedrock: adapter = make_bedrock_adapter(config); break;
    case ProviderType::azure: adapter = make_azure_adapter(config); break;
    case ProviderType::cohere: adapter = make_cohere_adapter(config); break;
    case ProviderType::mock: break;
  }
  if (!adapter) {
    throw std::runtime_error("provider \"" + config.name + "\": type " + to_string(config.type) +
                             " is not available in this build yet");
  }
  return adapter;
}

}  // namespace tollgate
