#pragma once
// streamGenerateContent?alt=sse -> OpenAI chunks (wire formats §3.4, §3.8).
// Each SSE event (CRLF-framed) is a whole GenerateContentResponse carrying
// only the new parts. There is no [DONE]: the stream is complete at EOF once
// every candidate has reported a finishReason.

#include <map>
#include <string>
#include <vector>

#include "providers/gemini/gemini_response.h"
#include "providers/provider_adapter.h"
#include "providers/sse_parser.h"

namespace tollgate::gemini {

// Emits, per candidate: a role chunk on its first event; a content delta per
// text part, reasoning_content per thought part, and one tool_calls chunk per
// functionCall with id, name and the complete arguments (index counting tool
// calls only). Finish chunks wait for EOF (a later event may still carry
// usage; STOP with function calls becomes tool_calls), followed by a
// `{"choices":[],"usage":...}` chunk from the last usageMetadata seen. An
// `{"error":...}` event ends the stream with the mapped error; EOF before a
// finishReason is a truncated stream. Not thread-safe: one per stream.
class GeminiStreamDecoder final : public StreamDecoder {
 public:
  explicit GeminiStreamDecoder(ResponseOptions options, std::string secret = {});

  std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) override;
  std::optional<ApiError> finish(std::vector<nlohmann::json>& out) override;
  bool complete() const override { return complete_; }

 private:
  struct Candidate {
    int tool_calls = 0;
    std::string finish_reason;  // upstream value, empty until seen
  };
  std::optional<ApiError> take(std::vector<nlohmann::json>& out);
  std::optional<ApiError> on_event(const nlohmann::json& event, std::vector<nlohmann::json>& out);
  nlohmann::json chunk(int index, nlohmann::json delta) const;
  nlohmann::json text_chunk(int index, const std::string& text) const;

  ResponseOptions options_;
  std::string secret_;
  SseParser parser_;
  std::vector<SseEvent> events_;
  std::map<int, Candidate> candidates_;
  std::string id_;
  std::string model_;
  nlohmann::json usage_meta_;
  bool blocked_ = false;  // promptFeedback.blockReason without candidates
  bool complete_ = false;
  bool failed_ = false;
};

}  // namespace tollgate::gemini
