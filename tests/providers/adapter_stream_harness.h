#pragma once
// Runs a native stream transcript through an adapter's StreamDecoder and the
// StreamNormalizer, as HttpProvider does, and returns what the client sees:
// each payload parsed as JSON ("[DONE]" kept as a string), plus the decoder's
// error if the stream ended with one.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/provider_adapter.h"
#include "providers/stream_normalizer.h"

namespace tollgate::test {

struct ClientStream {
  std::vector<nlohmann::json> payloads;
  std::optional<ApiError> error;
  Usage usage;
};

// `reads` are fed one by one (so tests can split events anywhere); the body
// then ends. Mirrors StreamRun::pump: an error stops the stream without the
// normalizer's finish ([DONE] is not sent after an error).
inline ClientStream run_stream(StreamDecoder& decoder, const std::vector<std::string>& reads, bool client_wants_usage,
                               const ProviderProfile& profile = *ProviderProfiles::bundled().find("generic")) {
  StreamNormalizer norm(StreamNormalizer::Kind::chat, client_wants_usage, profile);
  ClientStream out;
  std::vector<std::string> sent;
  auto deliver = [&](std::vector<nlohmann::json>& chunks) {
    for (auto& c : chunks) {
      for (auto& p : norm.on_chunk(std::move(c))) sent.push_back(p);
    }
    chunks.clear();
  };
  std::vector<nlohmann::json> chunks;
  for (const auto& r : reads) {
    if (decoder.complete()) break;
    out.error = decoder.feed(r, chunks);
    deliver(chunks);
    if (out.error) break;
  }
  if (!out.error && !decoder.complete()) {
    out.error = decoder.finish(chunks);
    deliver(chunks);
  }
  if (!out.error) {
    for (auto& p : norm.finish()) sent.push_back(p);
  }
  for (const auto& p : sent) out.payloads.push_back(p == "[DONE]" ? nlohmann::json("[DONE]") : nlohmann::json::parse(p));
  out.usage = norm.usage();
  return out;
}

// "data: <payload>\n\n" for each payload.
inline std::string sse(const std::vector<std::string>& payloads) {
  std::string out;
  for (const auto& p : payloads) out += "data: " + p + "\n\n";
  return out;
}

}  // namespace tollgate::test
