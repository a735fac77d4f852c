// The Responses API inbound side (POST /v1/responses), both ways:
//  - requests (mode 0): the body parsed as the dispatcher parses it, read
//    through the tape, then translate_responses_request with no resolver or
//    with one that finds a fixed item. Checks: no exception; an error is a
//    400 whose message starts with the field path in `param`; a translation
//    is a chat completions body that passes validate_request; a stream asks
//    for the usage chunk; no reasoning item's encrypted_content reaches the
//    chat body; the input-token estimate is not negative.
//  - whole responses (mode 1): responses_reply over a fuzzed status and an
//    OpenAI-shaped body. Checks: an error status and body pass unchanged; a
//    200 stays 200 (a Response: object "response", an id, output items of
//    known types with ids, usage counts not negative) or becomes 502.
//  - streams (modes 2, 3): ResponsesStreamTranslator over fuzzed payloads,
//    then on_end. Checks: every event's data is an object whose type is its
//    name; sequence numbers 0, 1, 2, ...; response.created first; item events
//    name an added item by id and index; exactly one terminal event
//    (completed, incomplete or failed) and nothing after it; its Response
//    has usage and, when failed, an error code.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounting/token_estimate.h"
#include "api/responses_request.h"
#include "api/responses_response.h"
#include "api/responses_stream.h"
#include "fuzz_support.h"
#include "middleware/request_validation.h"
#include "tollgate/json_document.h"
#include "tollgate/request_context.h"

namespace {

using nlohmann::json;
using tollgate::JsonDocument;
using tollgate::JsonLimits;

struct OneItem : tollgate::ResponseItemResolver {
  std::optional<json> find_item(std::string_view id) const override {
    if (id.empty()) return std::nullopt;
    return json{{"type", "message"}, {"role", "user"}, {"content", std::string(id)}};
  }
  std::optional<json> conversation_before(std::string_view id) const override {
    if (id.size() % 2) return std::nullopt;
    return json::array({{{"role", "user"}, {"content", "earlier"}}});
  }
};

void fuzz_request(const std::string& text, bool with_store) {
  auto parsed = JsonDocument::parse(text, JsonLimits{64});
  if (!parsed) return;  // answered 400 before translation
  tollgate::RequestBody body(parsed.value());
  OneItem store;
  auto translated = tollgate::translate_responses_request(body.view(), with_store ? &store : nullptr);
  if (!translated) {
    const tollgate::ApiError& e = translated.error();
    FUZZ_CHECK(e.status == 400 && !e.message.empty() && e.type == "invalid_request_error", e.message);
    if (e.code == "invalid_body") {
      FUZZ_CHECK(!body.view().is_object(), e.message);
    } else {
      FUZZ_CHECK(!e.param.empty() && e.message.starts_with(e.param + ": "), e.param + " / " + e.message);
    }
    return;
  }
  const json& out = translated->body;
  FUZZ_CHECK(out.is_object() && translated->echo.is_object(), out.dump());
  tollgate::RequestContext ctx;
  ctx.endpoint = tollgate::Endpoint::chat_completions;
  ctx.body = tollgate::RequestBody(out);
  if (auto refused = tollgate::validate_request(ctx)) {
    FUZZ_CHECK(false, refused->message + "\n  " + out.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 2000));
  }
  if (body.view()["stream"].as_bool()) FUZZ_CHECK(ctx.stream && ctx.client_wants_usage, "a stream without its usage chunk");
  // Reasoning items stay behind: their encrypted content never goes upstream.
  const json in = body.to_json();
  if (in.contains("input") && in["input"].is_array()) {
    const std::string dumped = out.dump(-1, ' ', false, json::error_handler_t::replace);
    for (const auto& item : in["input"]) {
      if (!item.is_object() || item.value("type", "") != "reasoning") continue;
      if (auto ec = item.find("encrypted_content"); ec != item.end() && ec->is_string() && ec->get<std::string>().size() > 8) {
        FUZZ_CHECK(dumped.find(ec->get<std::string>()) == std::string::npos, "encrypted reasoning forwarded");
      }
    }
  }
  FUZZ_CHECK(tollgate::estimate_request_input_tokens(ctx.body.view()) >= 0, "negative estimate");
}

tollgate::ResponseEnvelope envelope() { return {"resp_fuzz", 1, json{{"store", true}}}; }

void check_usage(const json& u) {
  FUZZ_CHECK(u.is_object(), u.dump());
  for (const char* k : {"input_tokens", "output_tokens", "total_tokens"}) {
    FUZZ_CHECK(u.contains(k) && u[k].is_number_integer(), u.dump());
  }
}

void check_output(const json& output) {
  FUZZ_CHECK(output.is_array(), output.dump());
  for (const auto& item : output) {
    const std::string type = item.value("type", "");
    FUZZ_CHECK(type == "message" || type == "function_call" || type == "reasoning", item.dump());
    FUZZ_CHECK(item["id"].is_string() && !item["id"].get<std::string>().empty(), item.dump());
    if (type == "function_call") FUZZ_CHECK(item["arguments"].is_string() && item["call_id"].is_string(), item.dump());
  }
}

void fuzz_reply(FuzzedDataProvider& fdp) {
  static constexpr int kStatuses[] = {200, 200, 200, 200, 400, 401, 429, 500, 502, 503};
  const uint8_t pick = fdp.ConsumeIntegral<uint8_t>();
  const int status = pick < 10 ? kStatuses[pick] : fdp.ConsumeIntegralInRange<int>(400, 599);
  tollgate::Usage usage;
  if (fdp.ConsumeBool()) {
    usage.source = tollgate::UsageSource::provider_final;
    usage.prompt_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 30);
    usage.completion_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 30);
  }
  const std::string body = fdp.ConsumeRemainingBytesAsString();
  const tollgate::ResponsesReply reply = tollgate::responses_reply(status, body, usage, envelope());
  if (status != 200) {
    FUZZ_CHECK(reply.status == status && reply.body == body, "an error changed on its way");
    return;
  }
  json j = json::parse(reply.body, nullptr, false);
  FUZZ_CHECK(j.is_object(), reply.body);
  if (reply.status == 502) {
    FUZZ_CHECK(j["error"].is_object(), reply.body);
    return;
  }
  FUZZ_CHECK(reply.status == 200 && j.value("object", "") == "response" && j.value("id", "") == "resp_fuzz", reply.body);
  check_output(j["output"]);
  check_usage(j["usage"]);
}

void fuzz_stream(FuzzedDataProvider& fdp, bool done) {
  std::vector<std::string> payloads;
  while (fdp.remaining_bytes() > 0) payloads.push_back(fdp.ConsumeRandomLengthString(4096));
  if (done) payloads.push_back("[DONE]");
  tollgate::ResponsesStreamTranslator translator(envelope(), 7);
  int64_t next_seq = 0;
  bool ended = false;
  std::map<int64_t, std::string> items;  // output_index -> id
  auto check = [&](const std::vector<tollgate::ResponsesEvent>& events) {
    for (const auto& ev : events) {
      FUZZ_CHECK(!ended, "an event after the terminal event: " + ev.type);
      json d = json::parse(ev.data, nullptr, false);
      FUZZ_CHECK(d.is_object() && d.value("type", "") == ev.type, ev.type + " " + ev.data);
      FUZZ_CHECK(d["sequence_number"] == next_seq, ev.data);
      if (next_seq == 0) FUZZ_CHECK(ev.type == "response.created", ev.type);
      ++next_seq;
      if (ev.type == "response.completed" || ev.type == "response.incomplete" || ev.type == "response.failed") {
        ended = true;
        check_usage(d["response"]["usage"]);
        check_output(d["response"]["output"]);
        if (ev.type == "response.failed") FUZZ_CHECK(d["response"]["error"]["code"].is_string(), ev.data);
        continue;
      }
      if (ev.type == "response.output_item.added") {
        const int64_t index = d["output_index"].get<int64_t>();
        FUZZ_CHECK(index == static_cast<int64_t>(items.size()), ev.data);
        items[index] = d["item"]["id"].get<std::string>();
      } else if (d.contains("item_id")) {
        auto it = items.find(d["output_index"].get<int64_t>());
        FUZZ_CHECK(it != items.end() && it->second == d["item_id"], ev.data);
      }
    }
  };
  for (const auto& p : payloads) check(translator.on_payload(p));
  check(translator.on_end());
  FUZZ_CHECK(ended && translator.finished(), "no terminal event");
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
      case 0: fuzz_request(fdp.ConsumeRemainingBytesAsString(), mode & 4); break;
      case 1: fuzz_reply(fdp); break;
      default: fuzz_stream(fdp, (mode & 3) == 2); break;
    }
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("exception escaped: ") + e.what());
  }
  return 0;
}
