#pragma once
// Anthropic Messages SSE stream -> OpenAI chat.completion.chunk objects: the
// state machine of wire formats §2.11. Pure (bytes in, chunks out); the
// StreamNormalizer downstream adds nothing Anthropic-specific.
//
//  message_start        role chunk {"role":"assistant","content":""}; input
//                       and cache usage recorded
//  text deltas          {"content": text}
//  tool_use start       {"tool_calls":[{index k, id, type, function{name,
//                       arguments:""}}]}, k counting tool_use blocks only (the
//                       placeholder input {} is never serialised)
//  input_json_delta     {"tool_calls":[{index k, function{arguments}}]};
//                       empty fragments skipped
//  thinking deltas      {"reasoning_content": text}; at the block's stop one
//                       {"thinking_blocks":[{type, thinking, signature}]}
//                       delta carries the whole block for replay
//  message_delta        stop_reason and usage recorded (latest value wins)
//  message_stop         finish chunk, then a usage-only chunk
//                       {"choices":[],"usage":...}; complete() turns true
//  event: error         an ApiError (overloaded_error -> 503 overloaded)
//  ping, unknown        nothing
//  EOF before message_stop: a 502 upstream_stream_truncated error.
//
// With response_format json_schema emulated by the synthetic json tool, that
// tool's input fragments stream as content and the finish reason is "stop".
// For /v1/completions, text deltas become text_completion choices.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/anthropic/anthropic_response.h"
#include "providers/provider_adapter.h"
#include "providers/sse_parser.h"

namespace tollgate::anthropic {

class AnthropicStreamDecoder final : public StreamDecoder {
 public:
  explicit AnthropicStreamDecoder(ResponseOptions options) : options_(options) {}

  std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) override;
  std::optional<ApiError> finish(std::vector<nlohmann::json>& out) override;
  bool complete() const override { return done_; }

 private:
  enum class BlockKind { text, tool, json_tool, thinking, redacted_thinking, other };
  struct Block {
    BlockKind kind = BlockKind::other;
    int tool_index = -1;
    std::string thinking;   // accumulated, for the replay block
    std::string signature;  // from signature_delta
    std::string data;       // redacted_thinking payload
  };

  std::optional<ApiError> take(std::vector<nlohmann::json>& out);
  std::optional<ApiError> handle(const SseEvent& event, std::vector<nlohmann::json>& out);
  void start(const nlohmann::json& message, std::vector<nlohmann::json>& out);
  void block_start(const nlohmann::json& data, std::vector<nlohmann::json>& out);
  void block_delta(const nlohmann::json& data, std::vector<nlohmann::json>& out);
  void block_stop(const nlohmann::json& data, std::vector<nlohmann::json>& out);
  void stop(std::vector<nlohmann::json>& out);
  void emit(nlohmann::json delta, std::vector<nlohmann::json>& out, nlohmann::json finish_reason = nullptr);

  ResponseOptions options_;
  SseParser parser_;
  std::vector<SseEvent> events_;
  std::string id_;
  std::string model_;
  std::map<int64_t, Block> blocks_;  // by Anthropic block index (all block kinds)
  int next_tool_ = 0;
  bool json_answered_ = false;
  std::string stop_reason_;
  AnthropicUsage usage_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace tollgate::anthropic
