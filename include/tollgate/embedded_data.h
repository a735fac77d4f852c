#pragma once
// Data files compiled into the binary by cmake/EmbedData.cmake.
#include <string_view>

namespace tollgate::embedded {
std::string_view prices();             // data/prices.json
std::string_view provider_profiles();  // data/provider_profiles.json
std::string_view model_capabilities(); // data/model_capabilities.json
}  // namespace tollgate::embedded
