#pragma once
// Builds the adapter for a configured provider of any HTTP type.

#include <memory>

#include "providers/provider_adapter.h"
#include "tollgate/config.h"

namespace tollgate {

// Throws std::runtime_error for a type this build cannot serve (start-up only).
std::unique_ptr<ProviderAdapter> make_adapter(const ProviderConfig& config);

// One factory per native API, each defined beside its adapter.
std::unique_ptr<ProviderAdapter> make_anthropic_adapter(const ProviderConfig& config);
std::unique_ptr<ProviderAdapter> make_gemini_adapter(const ProviderConfig& config);  // gemini and vertex
std::unique_ptr<ProviderAdapter> make_bedrock_adapter(const ProviderConfig& config);
std::unique_ptr<ProviderAdapter> make_azure_adapter(const ProviderConfig& config);
std::unique_ptr<ProviderAdapter> make_cohere_adapter(const ProviderConfig& config);

}  // namespace tollgate
