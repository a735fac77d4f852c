// The Anthropic-compatible inbound API (/v1/messages and
// /v1/messages/count_tokens), both ways:
//  - requests (modes 0, 1): the body parsed as the dispatcher parses it
//    (JsonDocument, server default depth or the largest the config allows),
//    read as a tree, then translate_messages_request (create or
//    count_tokens). Checks: no exception; an error is a 400 whose message
//    starts with the Anthropic field path it names in `param`; a translation
//    is a chat completions body that passes validate_request, except where
//    chat validation has a bound the Messages API does not state (a model or
//    metadata.user_id over 256 characters, max_tokens over 2^31 - 1): those
//    are refused there with a 400 naming that parameter; a stream asks for
//    the usage chunk; the input-token estimate is not negative.
//  - whole responses (mode 2): anthropic_reply over a fuzzed status and an
//    OpenAI-shaped body, as AnthropicSink::send_response gets them. Checks:
//    an error status stays; a 200 stays 200 or becomes 502; the body is an
//    Anthropic message (content blocks of known types, tool inputs objects,
//    a known stop reason, counts not negative) or an Anthropic error.
//  - streams (mode 3): AnthropicStreamTranslator over fuzzed payloads, as
//    AnthropicSink::send_event gets them. Checks: every event's data is an
//    object whose type is the event's name; message_start first and once;
//    block indexes count blocks from 0; deltas and stops name started blocks,
//    each block stops at most once, and a block is stopped before the next
//    starts; message_delta then message_stop end a stream, or one error
//    event; nothing after the end.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounting/token_estimate.h"
#include "api/anthropic_messages_request.h"
#include "api/anthropic_response.h"
#include "api/anthropic_stream.h"
#include "fuzz_support.h"
#include "middleware/request_validation.h"
#include "tollgate/json_document.h"
#include "tollgate/request_context.h"

namespace {

using nlohmann::json;
using tollgate::JsonDocument;
using tollgate::JsonLimits;

bool longer_than(const json& obj, const char* key, std::size_t n) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() && obj[key].get_ref<const std::string&>().size() > n;
}

// What the Messages API accepts and chat validation refuses, by design (see
// the file comment).
bool documented_gap(const json& in, const tollgate::ApiError& e) {
  if (e.param == "model") return longer_than(in, "model", 256);
  if (e.param == "user") return in.contains("metadata") && longer_than(in["metadata"], "user_id", 256);
  if (e.param == "max_tokens" || e.param == "max_completion_tokens") {
    const auto m = in.find("max_tokens");
    return m != in.end() && m->is_number_integer() && !m->is_number_unsigned() && m->get<int64_t>() > 2147483647;
  }
  return false;
}

void fuzz_request(const std::string& text, tollgate::MessagesCall call, std::size_t depth) {
  auto parsed = JsonDocument::parse(text, JsonLimits{depth});
  if (!parsed) return;  // answered 400 before translation
  const json in = parsed.value()->root().to_json();
  auto translated = tollgate::translate_messages_request(in, call);
  if (!translated) {
    const tollgate::ApiError& e = translated.error();
    FUZZ_CHECK(e.status == 400 && !e.message.empty(), std::to_string(e.status) + " " + e.message);
    if (e.code == "invalid_body") {
      FUZZ_CHECK(!in.is_object(), e.message);
    } else {
      FUZZ_CHECK(!e.param.empty() && e.message.starts_with(e.param + ": "), e.param + " / " + e.message);
    }
    return;
  }
  const json& out = translated->body;
  FUZZ_CHECK(out.is_object(), out.dump());
  for (const auto& n : translated->notes) FUZZ_CHECK(!n.empty(), "an empty note");
  tollgate::RequestContext ctx;
  ctx.endpoint = tollgate::Endpoint::chat_completions;
  ctx.body = tollgate::RequestBody(out);
  if (auto refused = tollgate::validate_request(ctx)) {
    FUZZ_CHECK(refused->status == 400, refused->message);
    FUZZ_CHECK(documented_gap(in, *refused), refused->message + "\n  " +
                                                 out.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 2000));
  } else if (call == tollgate::MessagesCall::create && in.value("stream", false) == true) {
    FUZZ_CHECK(ctx.stream && ctx.client_wants_usage, "a stream without its usage chunk");
  }
  if (call == tollgate::MessagesCall::count_tokens) {
    FUZZ_CHECK(!out.contains("stream") && !out.contains("max_tokens"), "generation parameters on count_tokens");
  }
  FUZZ_CHECK(tollgate::estimate_request_input_tokens(ctx.body.view()) >= 0, "negative estimate");
}

bool known_stop_reason(const json& r) {
  return r == "end_turn" || r == "max_tokens" || r == "tool_use" || r == "refusal";
}

void check_usage(const json& u) {
  FUZZ_CHECK(u.is_object(), u.dump());
  for (const char* k : {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"}) {
    FUZZ_CHECK(u.contains(k) && u[k].is_number_integer() && u[k].get<int64_t>() >= 0, u.dump());
  }
}

void check_error_body(const json& j) {
  FUZZ_CHECK(j.is_object() && j.value("type", "") == "error", j.dump());
  FUZZ_CHECK(j.contains("error") && j["error"].is_object(), j.dump());
  FUZZ_CHECK(!j["error"].value("type", "").empty() && !j["error"].value("message", "").empty(), j.dump());
}

void fuzz_reply(FuzzedDataProvider& fdp) {
  static constexpr int kStatuses[] = {200, 200, 200, 200, 400, 401, 403, 404, 413, 429, 500, 502, 503, 504, 529};
  const uint8_t pick = fdp.ConsumeIntegral<uint8_t>();
  const int status = pick < 15 ? kStatuses[pick] : fdp.ConsumeIntegralInRange<int>(400, 599);
  tollgate::Usage usage;
  if (fdp.ConsumeBool()) {
    usage.source = tollgate::UsageSource::provider_final;
    usage.prompt_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 30);
    usage.completion_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 30);
    usage.cached_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, usage.prompt_tokens);
    usage.cache_write_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, usage.prompt_tokens - usage.cached_tokens);
  }
  const std::string body = fdp.ConsumeRemainingBytesAsString();
  const tollgate::AnthropicReply reply = tollgate::anthropic_reply(status, body, usage, "req-fuzz");
  json j = json::parse(reply.body, nullptr, false);
  FUZZ_CHECK(j.is_object(), reply.body);
  if (status != 200) {
    FUZZ_CHECK(reply.status == status, std::to_string(reply.status));
    check_error_body(j);
    return;
  }
  if (reply.status == 502) {
    check_error_body(j);
    return;
  }
  FUZZ_CHECK(reply.status == 200, std::to_string(reply.status));
  FUZZ_CHECK(j.value("type", "") == "message" && j.value("role", "") == "assistant", reply.body);
  FUZZ_CHECK(j["id"].is_string() && j["id"].get<std::string>().starts_with("msg_"), reply.body);
  FUZZ_CHECK(j["content"].is_array() && j["model"].is_string(), reply.body);
  for (const auto& block : j["content"]) {
    const std::string type = block.value("type", "");
    FUZZ_CHECK(type == "text" || type == "thinking" || type == "tool_use", block.dump());
    if (type == "tool_use") FUZZ_CHECK(block["input"].is_object() && block["id"].is_string(), block.dump());
    if (type == "text") FUZZ_CHECK(block["text"].is_string(), block.dump());
  }
  FUZZ_CHECK(known_stop_reason(j["stop_reason"]), reply.body);
  check_usage(j["usage"]);
}

void fuzz_stream(FuzzedDataProvider& fdp) {
  const int64_t estimate = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 20);
  const bool done = fdp.ConsumeBool();
  std::vector<std::string> payloads;
  while (fdp.remaining_bytes() > 0) payloads.push_back(fdp.ConsumeRandomLengthString(4096));
  if (done) payloads.push_back("[DONE]");

  tollgate::AnthropicStreamTranslator translator(estimate, "req-fuzz");
  bool started = false, ended = false, message_delta = false;
  int next_block = 0, open_block = -1;
  std::set<int> stopped;
  for (const auto& payload : payloads) {
    const bool was_finished = translator.finished();
    const auto events = translator.on_payload(payload);
    if (was_finished) FUZZ_CHECK(events.empty(), "events after the end");
    for (const auto& ev : events) {
      FUZZ_CHECK(!ended, "an event after message_stop or error: " + ev.name);
      json d = json::parse(ev.data, nullptr, false);
      FUZZ_CHECK(d.is_object() && d.value("type", "") == ev.name, ev.name + " " + ev.data);
      if (ev.name == "error") {
        check_error_body(d);
        ended = true;
        continue;
      }
      if (ev.name == "message_start") {
        FUZZ_CHECK(!started, "two message_start events");
        started = true;
        FUZZ_CHECK(d["message"]["id"].is_string() && d["message"]["content"] == json::array(), ev.data);
        check_usage(d["message"]["usage"]);
        continue;
      }
      FUZZ_CHECK(started, "an event before message_start: " + ev.name);
      FUZZ_CHECK(!message_delta || ev.name == "message_stop", "an event after message_delta: " + ev.name);
      if (ev.name == "content_block_start") {
        FUZZ_CHECK(open_block < 0, "a block started while another is open");
        FUZZ_CHECK(d["index"] == next_block, ev.data);
        const std::string type = d["content_block"].value("type", "");
        FUZZ_CHECK(type == "text" || type == "thinking" || type == "tool_use", ev.data);
        open_block = next_block++;
      } else if (ev.name == "content_block_delta") {
        FUZZ_CHECK(d["index"].is_number_integer() && d["index"].get<int>() >= 0 && d["index"].get<int>() < next_block,
                   ev.data);
        FUZZ_CHECK(d["delta"].is_object(), ev.data);
      } else if (ev.name == "content_block_stop") {
        FUZZ_CHECK(d["index"] == open_block, ev.data);
        FUZZ_CHECK(stopped.insert(open_block).second, "a block stopped twice");
        open_block = -1;
      } else if (ev.name == "message_delta") {
        FUZZ_CHECK(open_block < 0, "message_delta with a block open");
        FUZZ_CHECK(known_stop_reason(d["delta"]["stop_reason"]), ev.data);
        check_usage(d["usage"]);
        message_delta = true;
      } else if (ev.name == "message_stop") {
        FUZZ_CHECK(message_delta, "message_stop without message_delta");
        ended = true;
      } else {
        FUZZ_CHECK(false, "an unknown event " + ev.name);
      }
    }
    FUZZ_CHECK(translator.finished() == ended, "finished() disagrees with the events");
  }
  if (done) FUZZ_CHECK(translator.finished(), "[DONE] did not end the stream");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = tollgate::fuzz::quiet_logs();
  (void)quiet;
  if (size > 128 * 1024) return 0;
  FuzzedDataProvider fdp(data, size);
  const uint8_t mode = fdp.ConsumeIntegral<uint8_t>();
  try {
    switch (mode & 3) {
      case 0:
      case 1:
        fuzz_request(fdp.ConsumeRemainingBytesAsString(),
                     (mode & 3) == 0 ? tollgate::MessagesCall::create : tollgate::MessagesCall::count_tokens,
                     (mode & 4) ? 1024 : 64);
        break;
      case 2: fuzz_reply(fdp); break;
      default: fuzz_stream(fdp); break;
    }
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("exception escaped: ") + e.what());
  }
  return 0;
}
