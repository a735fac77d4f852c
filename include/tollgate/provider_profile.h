#pragma once
// How one member of the OpenAI-compatible family differs from OpenAI, kept as
// data (data/provider_profiles.json, wire formats §5) rather than code.

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tollgate {

struct ProviderProfile {
  std::string name;
  std::vector<std::string> hosts;  // base_url hosts that select this profile
  // Whether the upstream honours stream_options.include_usage.
  bool stream_usage_opt_in = true;
  std::map<std::string, std::string> rename_params;   // e.g. seed -> random_seed
  std::vector<std::string> drop_params;               // removed before sending
  std::vector<std::string> drop_message_fields;       // e.g. messages[].name for Groq
  std::vector<std::string> drop_assistant_fields;     // e.g. reasoning_content replays
  std::map<std::string, std::string> finish_reasons;  // upstream -> OpenAI
  std::vector<std::string> strip_chunk_fields;        // upstream-only fields (x_groq)
  std::vector<std::string> strip_choice_fields;       // inside choices[] (vLLM stop_reason)
  // Dotted paths where usage may be found besides "usage" (e.g. x_groq.usage).
  std::vector<std::string> usage_paths;
  bool require_n_equals_1 = false;
  bool tool_call_id_alnum9 = false;  // Mistral: ids must be 9 [a-zA-Z0-9]
};

// Profiles are immutable and shared.
class ProviderProfiles {
 public:
  // The bundled profiles (data/provider_profiles.json). Throws on a malformed
  // bundled file (a build defect), at start-up only.
  static const ProviderProfiles& bundled();
  static ProviderProfiles parse(std::string_view json_text);

  const ProviderProfile* find(const std::string& name) const;
  // The profile whose hosts include `host`, else "generic".
  const ProviderProfile& for_host(const std::string& host) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::shared_ptr<const ProviderProfile>> by_name_;
};

}  // namespace tollgate
