#pragma once
// The OpenAI Responses API, streaming side: the OpenAI chat stream payloads
// a provider sends (after the StreamNormalizer) become the Responses API's
// named SSE events, each `{"type": <event name>, "sequence_number": n, ...}`
// with n counting from 0. Pure: no I/O, one instance per stream, one thread.
//
//   first payload            -> response.created, response.in_progress (status
//                               in_progress, output [])
//   delta.reasoning_content  -> a reasoning item: output_item.added, then
//                               reasoning_summary_part.added and one
//                               reasoning_summary_text.delta per fragment
//   delta.content / refusal  -> a message item: output_item.added, content_part.added
//                               (output_text), then output_text.delta per fragment
//   delta.tool_calls         -> per chat tool_calls index, a function_call item:
//                               output_item.added (call_id and name from the first
//                               fragment), then function_call_arguments.delta per
//                               non-empty fragment
//   a new item               -> an open reasoning or message item is closed first
//                               (..._text.done, ..._part.done, output_item.done);
//                               function_call items stay open until the choice
//                               finishes, so interleaved fragments still land
//   finish_reason            -> every open item is closed (function_call_arguments.done
//                               + output_item.done in output order)
//   usage chunk (choices [])  -> kept for the terminal event
//   [DONE]                   -> exactly one terminal event with the whole Response
//                               (all items, usage): response.incomplete when the
//                               finish_reason was length or content_filter,
//                               else response.completed
//   {"error":{...}}          -> response.failed (error {code, message}; see
//                               responses_error); the stream ends there
//   on_end() before a terminal event (the upstream broke off)
//                            -> response.failed with server_error; never a fake completion
// Payloads after the terminal event are ignored.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/responses_response.h"
#include "tollgate/usage.h"

namespace tollgate {

struct ResponsesEvent {
  std::string type;  // the SSE `event:` name, e.g. "response.output_text.delta"
  std::string data;  // the JSON payload, whose "type" is the same name
};

class ResponsesStreamTranslator {
 public:
  // `input_tokens_estimate` is the usage's input when the stream carries no
  // usage (it always does through the gateway: the sink asks for it).
  ResponsesStreamTranslator(ResponseEnvelope envelope, int64_t input_tokens_estimate);

  // One payload as the OpenAI side sends it: a chat.completion.chunk, the
  // usage chunk, "[DONE]", or an error event. Returns the events to send.
  std::vector<ResponsesEvent> on_payload(std::string_view payload);

  // The stream ends: a terminal event when none was sent yet.
  std::vector<ResponsesEvent> on_end();

  // True after the terminal event.
  bool finished() const { return finished_; }
  // The Response as the terminal event carried it (null before).
  const nlohmann::json& final_response() const { return final_; }

 private:
  enum class Kind { reasoning, message, function_call };
  struct Item {
    Kind kind;
    std::string id;
    nlohmann::json body;  // the output item, filled as deltas arrive
    std::string text;     // accumulated text / summary / arguments
    bool open = true;
  };

  void emit(std::vector<ResponsesEvent>& out, const char* type, nlohmann::json payload);
  void ensure_started(const nlohmann::json& chunk, std::vector<ResponsesEvent>& out);
  Item& open_item(Kind kind, nlohmann::json body, std::vector<ResponsesEvent>& out);
  void close_item(std::size_t index, std::vector<ResponsesEvent>& out);
  void close_text_items(std::vector<ResponsesEvent>& out);
  void close_all(std::vector<ResponsesEvent>& out);
  void on_choice(const nlohmann::json& choice, std::vector<ResponsesEvent>& out);
  void on_tool_fragment(const nlohmann::json& call, std::vector<ResponsesEvent>& out);
  nlohmann::json output_items() const;
  void finish(std::vector<ResponsesEvent>& out);
  void fail(const nlohmann::json& error, std::vector<ResponsesEvent>& out);

  ResponseEnvelope env_;
  int64_t input_tokens_estimate_;
  std::string model_;
  int64_t sequence_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<Item> items_;
  std::ptrdiff_t open_text_ = -1;  // the open reasoning or message item, or -1
  std::map<int64_t, std::size_t> tools_;  // chat tool_calls index -> item index
  nlohmann::json finish_reason_;
  Usage usage_;
  std::size_t streamed_bytes_ = 0;
  nlohmann::json final_;
};

}  // namespace tollgate
