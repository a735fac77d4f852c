#pragma once
// The Anthropic-compatible inbound API, request side: an Anthropic Messages
// request (POST /v1/messages, /v1/messages/count_tokens) becomes the
// gateway's canonical OpenAI chat request, which then goes through the
// middleware chain and the router like /v1/chat/completions (wire formats
// §2.12). Pure: no I/O, deterministic, tested with fixtures.
//
// Mapping:
//  - system (string or text blocks)     -> first `system` message (texts joined with "\n")
//  - messages of role system            -> a `system` message in place (the mid-conversation-
//                                          system beta: Claude Code sends one between turns)
//  - user text / image blocks           -> user content parts (text, image_url; base64 images
//                                          become data URLs, url images stay URLs)
//  - user document blocks               -> base64 PDF: `file` part; plain-text source: text part
//  - user tool_result blocks            -> one `tool` message each, before the rest of the turn;
//                                          text content joined with "\n"; images in a result
//                                          follow in the user message after the tool messages
//  - assistant text / tool_use blocks   -> content (texts joined with "\n") and tool_calls with
//                                          JSON-string arguments; thinking and redacted_thinking
//                                          blocks are checked, then dropped (OpenAI-shaped
//                                          upstreams cannot take them back)
//  - tool_result tool_reference blocks  -> "Tool loaded: <name>" text (tool search)
//  - tools (input_schema)               -> function tools (parameters)
//  - tool_choice auto/any/tool/none     -> "auto"/"required"/named function/"none";
//    disable_parallel_tool_use          -> parallel_tool_calls:false (only with tools)
//  - stop_sequences                     -> stop (at most 4: OpenAI's limit)
//  - max_tokens                         -> max_tokens, or max_completion_tokens when thinking is
//                                          enabled (reasoning models accept only that field)
//  - temperature, top_p                 -> the same; top_k is dropped with a note
//  - metadata.user_id                   -> user
//  - thinking {enabled, budget_tokens}  -> reasoning_effort: < 2048 low, < 8192 medium, else high
//  - thinking {adaptive}                -> reasoning_effort from output_config.effort, else medium;
//                                          both kinds send max_completion_tokens
//  - output_config.format json_schema   -> response_format json_schema
//  - output_config.effort               -> reasoning_effort: low/medium/high as they are, xhigh
//                                          and max as high (noted)
//  - context_management                 -> checked, then ignored (noted): only Anthropic's API
//                                          edits context, and it takes the request natively
//  - cache_control (anywhere)           -> ignored: a caching hint, never an error
//  - stream                             -> stream, with stream_options.include_usage so that the
//                                          final usage chunk reaches the Anthropic sink
// Unknown block types, server tools and unsupported image types are 400s
// naming the field, never silently dropped. The anthropic-beta header and any
// query string (Claude Code sends ?beta=true) change nothing here.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate {

enum class MessagesCall {
  create,        // POST /v1/messages: max_tokens is required, as in Anthropic's API
  count_tokens,  // POST /v1/messages/count_tokens: generation parameters are ignored
};

struct TranslatedMessagesRequest {
  nlohmann::json body;             // an OpenAI chat completions request
  std::vector<std::string> notes;  // adjustments for x-tollgate-notes ("dropped top_k")
};

// Errors are 400 invalid_request_error whose message starts with the
// Anthropic field path ("messages[1].content[0].source.media_type: ...").
// The client's body is read through the view; the result is a new tree that
// copies only what it forwards as it is (tool schemas, stop sequences).
Result<TranslatedMessagesRequest> translate_messages_request(JsonView anthropic_body, MessagesCall call);

}  // namespace tollgate
