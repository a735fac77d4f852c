#pragma once
// The Anthropic-compatible inbound API, streaming side: the OpenAI stream
// payloads a provider sends (after the StreamNormalizer) become Anthropic's
// named SSE events (wire formats §2.7, §2.12). Pure: no I/O, one instance
// per stream, used by one thread.
//
//   first chunk              -> message_start (usage.input_tokens: the estimate given
//                               at construction; the real count arrives in message_delta)
//   delta.content / refusal  -> a text block: content_block_start {"type":"text","text":""},
//                               then text_delta per fragment
//   delta.reasoning_content  -> a thinking block (thinking_delta); no signature exists
//   delta.tool_calls         -> per OpenAI tool_calls index, a tool_use block:
//                               content_block_start with input {} (id and name from the
//                               first fragment), then every non-empty arguments fragment
//                               as input_json_delta partial_json, verbatim
//   any new block            -> the open block is stopped first (content_block_stop), so
//                               text is closed before a tool block starts
//   finish_reason            -> the open block is stopped; the reason is kept
//   usage chunk (choices [])  -> kept for message_delta; never forwarded
//   [DONE]                   -> message_delta {stop_reason, stop_sequence:null, usage with
//                               input/cache/output tokens}, then message_stop
//   {"error":{...}}          -> event `error`; the stream ends there (no message_stop)
// Block indexes count all blocks. A fragment for a tool whose block was
// already stopped (upstreams that interleave tool calls) is still sent at that
// tool's index; SDKs accumulate by index.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/usage.h"

namespace tollgate {

struct NamedEvent {
  std::string name;  // the SSE `event:` name, e.g. "content_block_delta"
  std::string data;  // the JSON payload
};

class AnthropicStreamTranslator {
 public:
  // `input_tokens_estimate` goes in message_start; `fallback_id` is the
  // message id when the first chunk has none.
  AnthropicStreamTranslator(int64_t input_tokens_estimate, std::string fallback_id);

  // One payload as the OpenAI side sends it: a chat.completion.chunk, the
  // usage chunk, "[DONE]", or an error event. Returns the events to send, in
  // order (possibly none). Payloads after the end are ignored.
  std::vector<NamedEvent> on_payload(std::string_view payload);

  // True after message_stop or an error event.
  bool finished() const { return finished_; }

 private:
  enum class BlockKind { none, text, thinking, tool_use };

  void ensure_started(const nlohmann::json& chunk, std::vector<NamedEvent>& out);
  void open_block(BlockKind kind, nlohmann::json content_block, std::vector<NamedEvent>& out);
  void close_block(std::vector<NamedEvent>& out);
  void delta(int index, nlohmann::json delta, std::vector<NamedEvent>& out);
  void on_tool_fragment(const nlohmann::json& call, std::vector<NamedEvent>& out);
  void on_choice(const nlohmann::json& choice, std::vector<NamedEvent>& out);
  void finish_message(std::vector<NamedEvent>& out);

  int64_t input_tokens_estimate_;
  std::string fallback_id_;
  bool started_ = false;
  bool finished_ = false;
  BlockKind open_kind_ = BlockKind::none;
  int open_index_ = -1;
  int next_index_ = 0;
  std::map<int64_t, int> tool_blocks_;  // OpenAI tool_calls index -> block index
  nlohmann::json finish_reason_;
  Usage usage_;
};

}  // namespace tollgate
