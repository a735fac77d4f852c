#include "tollgate/config.h"

namespace tollgate {

const ProviderConfig* Config::find_provider(const std::string& name) const {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ModelConfig* Config::find_model(const std::string& name) const {
  for (const auto& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const char* to_string(ProviderType t) {
  switch (t) {
    case ProviderType::openai: return "openai";
    case ProviderType::openai_compatible: return "openai_compatible";
    case ProviderType::mock: return "mock";
    case ProviderType::anthropic: return "anthropic";
    case ProviderType::gemini: return "gemini";
    case ProviderType::vertex: return "vertex";
    case ProviderType::bedrock: return "bedrock";
    case ProviderType::azure: return "azure";
    case ProviderType::cohere: return "cohere";
  }
  return "unknown";
}

const char* to_string(RoutingStrategy s) {
  switch (s) {
    case RoutingStrategy::weighted: return "weighted";
    case RoutingStrategy::least_busy: return "least_busy";
    case RoutingStrategy::lowest_latency: return "lowest_latency";
    case RoutingStrategy::lowest_cost: return "lowest_cost";
    case RoutingStrategy::usage_based: return "usage_based";
  }
  return "weighted";
}

}  // namespace tollgate
