#pragma once
// Turns upstream OpenAI-shaped stream chunks into the chunks a client may see,
// keeping the invariants of wire formats §1.8: role on each choice's first
// chunk, constant id/created/model, exactly one finish_reason per choice,
// injected usage chunks stripped (or emitted once at the end when the client
// asked), exactly one [DONE]. Pure: no I/O, one instance per stream.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/provider_profile.h"
#include "tollgate/usage.h"

namespace tollgate {

class StreamNormalizer {
 public:
  enum class Kind { chat, completion };

  StreamNormalizer(Kind kind, bool client_wants_usage, const ProviderProfile& profile);

  // Feeds one upstream chunk; returns the payloads to send (possibly none).
  std::vector<std::string> on_chunk(nlohmann::json chunk);
  // Ends the stream normally: missing finish reasons, the usage chunk when
  // asked for, then "[DONE]".
  std::vector<std::string> finish();

  // Used when the upstream reports no usage (wire formats §6).
  void set_prompt_estimate(int64_t tokens) { prompt_estimate_ = tokens; }
  // Usage reported by the upstream, or an estimate from the streamed text
  // when it reported none.
  Usage usage() const;
  bool saw_usage() const { return usage_.source != UsageSource::none; }
  // True when every choice that appeared has its finish_reason.
  bool all_finished() const;
  bool started() const { return !id_.is_null(); }

 private:
  struct ChoiceState {
    bool role_sent = false;
    bool finished = false;
    bool tool_calls = false;
  };

  void capture_usage(const nlohmann::json& chunk);
  std::string render(nlohmann::json& chunk) const;
  nlohmann::json envelope() const;

  Kind kind_;
  bool client_wants_usage_;
  const ProviderProfile& profile_;
  nlohmann::json id_, created_, model_, system_fingerprint_;
  std::map<int, ChoiceState> choices_;
  Usage usage_;
  std::size_t streamed_bytes_ = 0;
  int64_t prompt_estimate_ = 0;
  bool done_ = false;
};

}  // namespace tollgate
