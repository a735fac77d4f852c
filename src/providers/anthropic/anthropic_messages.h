#pragma once
// OpenAI chat messages -> Anthropic `system` + `messages` (wire formats §2.3,
// §2.4, §2.9). Pure; every rejection is an OpenAI-shaped 400 whose `param`
// names the offending path (e.g. messages[3].tool_calls[0].function.arguments).
//
// Policy:
//  - system and developer messages, wherever they appear, become `system`
//    text blocks in order of appearance (a later system message moves to the
//    top; Anthropic has no other place for it);
//  - consecutive same-role turns are merged block by block (never joined as
//    text); `tool` messages become tool_result blocks of the next user turn,
//    placed before any other block of that turn;
//  - empty text is dropped; a final assistant turn (prefill) loses trailing
//    whitespace;
//  - data-URL images become base64 image blocks (image/jpg -> image/jpeg,
//    extra parameters accepted; only jpeg/png/gif/webp), http(s) URLs become
//    url sources; PDF `file` parts become document blocks;
//  - an assistant `thinking_blocks` array (the extension this adapter emits)
//    is replayed before the turn's text and tool_use blocks, signatures kept.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate::anthropic {

struct ConvertedMessages {
  nlohmann::json system = nlohmann::json::array();    // text blocks
  nlohmann::json messages = nlohmann::json::array();  // alternating user/assistant turns
  // Names of the tools called in the history (tool_use blocks), in order of
  // first appearance; Anthropic wants them declared in `tools`.
  std::vector<std::string> history_tools;
  bool has_tool_results = false;
};

// `messages` is read through the view; content parts and tool-call arguments
// that are forwarded as they are are the only values copied.
Result<ConvertedMessages> convert_messages(JsonView messages);

// One image_url value ({"url": ...} or a bare string) as an Anthropic image
// source; `param` names it in errors.
Result<nlohmann::json> image_source(JsonView image_url, const std::string& param);

}  // namespace tollgate::anthropic
