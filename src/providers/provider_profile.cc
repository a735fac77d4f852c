#include "tollgate/provider_profile.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tollgate/embedded_data.h"

namespace tollgate {
namespace {

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end()) {
    for (const auto& v : *it) out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> string_map(const nlohmann::json& j, const char* key) {
  std::map<std::string, std::string> out;
  if (auto it = j.find(key); it != j.end()) {
    for (const auto& [k, v] : it->items()) out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

ProviderProfiles ProviderProfiles::parse(std::string_view json_text) {
  const auto doc = nlohmann::json::parse(json_text);
  ProviderProfiles out;
  for (const auto& [name, j] : doc.at("profiles").items()) {
    auto p = std::make_shared<ProviderProfile>();
    p->name = name;
    p->hosts = strings(j, "hosts");
    p->stream_usage_opt_in = j.value("stream_usage_opt_in", true);
    p->rename_params = string_map(j, "rename_params");
    p->drop_params = strings(j, "drop_params");
    p->drop_message_fields = strings(j, "drop_message_fields");
    p->drop_assistant_fields = strings(j, "drop_assistant_fields");
    p->finish_reasons = string_map(j, "finish_reasons");
    p->strip_chunk_fields = strings(j, "strip_chunk_fields");
    p->strip_choice_fields = strings(j, "strip_choice_fields");
    p->usage_paths = strings(j, "usage_paths");
    p->require_n_equals_1 = j.value("require_n_equals_1", false);
    p->tool_call_id_alnum9 = j.value("tool_call_id_alnum9", false);
    out.by_name_[name] = std::move(p);
  }
  if (!out.by_name_.count("generic")) throw std::runtime_error("provider profiles: no \"generic\" profile");
  return out;
}

const ProviderProfiles& ProviderProfiles::bundled() {
  static const ProviderProfiles profiles = parse(embedded::provider_profiles());
  return profiles;
}

const ProviderProfile* ProviderProfiles::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

const ProviderProfile& ProviderProfiles::for_host(const std::string& host) const {
  for (const auto& [name, p] : by_name_) {
    for (const auto& h : p->hosts) {
      if (h == host) return *p;
    }
  }
  return *by_name_.at("generic");
}

std::vector<std::string> ProviderProfiles::names() const {
  std::vector<std::string> out;
  for (const auto& [name, p] : by_name_) out.push_back(name);
  return out;
}

}  // namespace tollgate
