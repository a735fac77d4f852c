#pragma once
// Anthropic Messages response -> OpenAI chat.completion (wire formats §2.6,
// §2.10, §8). Pure.
//
//  - text blocks are concatenated into message.content (null when the answer
//    is only tool calls); tool_use blocks become tool_calls with the input
//    serialised as the arguments string;
//  - thinking blocks become the de-facto extension message.reasoning_content,
//    and message.thinking_blocks keeps them with their signatures so a
//    client can replay them on the next turn (Anthropic requires that with
//    thinking plus tools);
//  - the synthetic json tool (response_format json_schema emulation) is
//    un-wrapped: its input becomes content and the finish reason "stop";
//  - usage: prompt = input + cache_creation + cache_read, cached = cache_read,
//    cache_write = cache_creation, completion = output (thinking included).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/usage.h"

namespace tollgate::anthropic {

// Anthropic usage counters, as last reported.
struct AnthropicUsage {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_creation = 0;
  int64_t cache_read = 0;
  int64_t thinking = 0;  // when the API reports it separately
  bool seen = false;

  // Replaces each counter present in `usage`. Stream message_delta values are
  // running totals: keeping the latest is right, adding them is not.
  void update(const nlohmann::json& usage);
  Usage normalized() const;
};

// stop_reason -> finish_reason (§2.6 table); unknown and null read as "stop".
std::string finish_reason_for(const std::string& stop_reason);

struct ResponseOptions {
  int64_t created = 0;      // unix seconds, the gateway's receive time
  bool completion = false;  // answer a /v1/completions request (text_completion)
  bool json_tool = false;   // un-wrap the synthetic json tool (expects_json_tool)
};

// The OpenAI id for an Anthropic message id: "chatcmpl-msg_..." (or
// "cmpl-msg_..." for completions), so logs can be matched with the upstream.
std::string openai_id(const std::string& message_id, bool completion);

Result<nlohmann::json> translate_message(const nlohmann::json& native, const ResponseOptions& options, Usage& usage);

}  // namespace tollgate::anthropic
