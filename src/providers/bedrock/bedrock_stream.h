#pragma once
// ConverseStream (binary event-stream frames) -> OpenAI chat.completion.chunk
// objects (wire formats §4.2, T28, T29). Pure: no I/O.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/bedrock/eventstream.h"
#include "providers/provider_adapter.h"

namespace tollgate::bedrock {

// State machine per stream:
//   messageStart             -> role chunk
//   contentBlockStart toolUse -> tool-call header (index counts tool calls
//                               only; arguments start as "")
//   contentBlockDelta         -> content / arguments fragment /
//                               reasoning_content (extension)
//   messageStop              -> stop reason remembered, nothing emitted yet
//   metadata                 -> finish chunk, then a usage-only chunk
//                               (choices: []); the stream is complete
// Usage arrives after messageStop, so the finish chunk waits for metadata;
// a body that ends after messageStop without metadata still finishes (usage
// is then estimated downstream). An `exception` frame, a bad CRC or a
// malformed frame ends the stream with an error.
class ConverseStreamDecoder final : public StreamDecoder {
 public:
  // `model` is put in every chunk. A toolUse block named `structured_tool`
  // (response_format emulation, may be empty) streams as content instead.
  ConverseStreamDecoder(std::string model, std::string structured_tool);

  std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) override;
  std::optional<ApiError> finish(std::vector<nlohmann::json>& out) override;
  bool complete() const override { return done_; }

 private:
  std::optional<ApiError> on_message(const EventStreamMessage& msg, std::vector<nlohmann::json>& out);
  std::optional<ApiError> on_event(const std::string& type, const nlohmann::json& payload,
                                   std::vector<nlohmann::json>& out);
  std::optional<ApiError> on_delta(const nlohmann::json& payload, std::vector<nlohmann::json>& out);
  nlohmann::json chunk(nlohmann::json delta, nlohmann::json finish_reason = nullptr) const;
  void emit_finish(std::vector<nlohmann::json>& out);

  EventStreamDecoder frames_;
  std::vector<EventStreamMessage> messages_;
  std::string model_;
  std::string structured_tool_;
  std::map<int, int> tool_index_;  // contentBlockIndex -> tool_calls[].index
  std::set<int> structured_blocks_;
  int next_tool_ = 0;
  std::optional<std::string> stop_reason_;
  bool done_ = false;
};

}  // namespace tollgate::bedrock
