#pragma once
// The provider-adapter targets: stream_<provider>.cc and response_<provider>.cc
// are one line each, calling fuzz_stream / fuzz_response with their type.
//
// Adapters are built from a minimal config through make_adapter, as the
// gateway builds them, and driven only through ProviderAdapter's interface.
// The RequestContext is default-constructed apart from the endpoint, stream
// flags and deployment model: request-body-dependent options (Anthropic's
// JSON tool, Bedrock's structured output, embeddings) are left to the
// request-body targets.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "providers/adapter_factory.h"
#include "providers/bedrock/eventstream.h"
#include "providers/provider_adapter.h"
#include "providers/stream_normalizer.h"

namespace tollgate::fuzz {

// Never in a fuzz input by chance; must never reach a client unless the
// upstream bytes themselves contained it.
inline constexpr const char* kProviderKey = "fz-provider-key-7c1e55";

inline ProviderConfig provider_config(ProviderType type) {
  ProviderConfig c;
  c.name = "fuzz";
  c.type = type;
  c.api_key = kProviderKey;
  switch (type) {
    case ProviderType::openai: c.base_url = "https://api.openai.com/v1"; break;
    case ProviderType::anthropic: c.base_url = "https://api.anthropic.com"; break;
    case ProviderType::gemini: c.base_url = "https://generativelanguage.googleapis.com"; break;
    case ProviderType::azure:
      c.base_url = "https://res.openai.azure.com";
      c.api_version = "2024-10-21";
      break;
    case ProviderType::cohere: c.base_url = "https://api.cohere.com"; break;
    case ProviderType::bedrock:
      c.api_key.clear();
      c.base_url = "https://bedrock-runtime.us-east-1.amazonaws.com";
      c.region = "us-east-1";
      c.aws_access_key_id = "AKIDEXAMPLE";
      c.aws_secret_access_key = kProviderKey;
      break;
    default: break;
  }
  return c;
}

inline const ProviderAdapter& adapter_for(ProviderType type) {
  // Adapters keep a reference to their config, which the gateway's Config
  // owns for their lifetime: so do these.
  static std::unique_ptr<ProviderConfig> configs[16];
  static std::unique_ptr<ProviderAdapter> adapters[16];
  auto& a = adapters[static_cast<int>(type)];
  if (!a) {
    quiet_logs();
    configs[static_cast<int>(type)] = std::make_unique<ProviderConfig>(provider_config(type));
    a = make_adapter(*configs[static_cast<int>(type)]);
  }
  return *a;
}

// The documented invariants of a Usage (include/tollgate/usage.h).
inline void check_usage(const Usage& u) {
  FUZZ_CHECK(u.prompt_tokens >= 0 && u.completion_tokens >= 0, "negative token counts");
  FUZZ_CHECK(u.cached_tokens >= 0 && u.cached_tokens <= u.prompt_tokens, "cached tokens not a subset of prompt");
  FUZZ_CHECK(u.cache_write_tokens >= 0 && u.cache_write_tokens <= u.prompt_tokens, "cache writes not a subset");
  FUZZ_CHECK(u.reasoning_tokens >= 0 && u.reasoning_tokens <= u.completion_tokens, "reasoning not a subset");
}

inline void check_error(const ApiError& e, bool input_has_key) {
  FUZZ_CHECK(e.status >= 400 && e.status <= 599, std::to_string(e.status));
  FUZZ_CHECK(!e.message.empty(), "an error without a message");
  FUZZ_CHECK(!e.retry_after_seconds || *e.retry_after_seconds >= 0, "negative retry-after");
  if (!input_has_key) FUZZ_CHECK(e.body().find(kProviderKey) == std::string::npos, e.body());
}

inline bool is_eventstream(ProviderType type) { return type == ProviderType::bedrock; }

// Bedrock's body is binary framing with CRCs; in "frames" mode the input is
// read as (event type, JSON payload) records and encoded with valid CRCs, so
// the fuzzer explores the ConverseStream events rather than the checksums.
inline std::string bedrock_frames(FuzzedDataProvider& fdp) {
  std::string out;
  while (fdp.remaining_bytes() > 0) {
    const bool exception = fdp.ConsumeIntegralInRange<int>(0, 15) == 0;
    const std::string type = fdp.ConsumeRandomLengthString(32);
    const std::string payload = fdp.ConsumeRandomLengthString(2048);
    out += exception ? bedrock::encode_bedrock_exception(type, payload) : bedrock::encode_bedrock_event(type, payload);
  }
  return out;
}

struct StreamRun {
  std::vector<nlohmann::json> chunks;  // decoder output
  std::vector<std::string> sent;       // what the client gets
  std::optional<ApiError> error;
  bool complete = false;
};

// As HttpProvider::StreamRun::pump: feed each read until the decoder is
// complete or fails; finish() at the end of the body; then the normalizer.
inline StreamRun run_stream(ProviderType type, const RequestContext& ctx, const std::vector<std::string_view>& reads,
                            bool normalize) {
  const ProviderAdapter& adapter = adapter_for(type);
  auto made = adapter.stream_decoder(ctx, is_eventstream(type) ? "application/vnd.amazon.eventstream"
                                                               : "text/event-stream");
  FUZZ_CHECK(made.ok(), "no decoder for the adapter's own stream type");
  StreamDecoder& decoder = *made.value();
  StreamNormalizer norm(ctx.endpoint == Endpoint::completions ? StreamNormalizer::Kind::completion
                                                              : StreamNormalizer::Kind::chat,
                        ctx.client_wants_usage, adapter.stream_profile());
  StreamRun run;
  std::vector<nlohmann::json> chunks;
  auto deliver = [&] {
    for (auto& c : chunks) {
      run.chunks.push_back(c);
      if (normalize)
        for (auto& p : norm.on_chunk(std::move(c))) run.sent.push_back(std::move(p));
    }
    chunks.clear();
  };
  bool ended = false;
  for (auto read : reads) {
    if (decoder.complete()) break;
    run.error = decoder.feed(read, chunks);
    deliver();
    if (run.error) {
      ended = true;
      break;
    }
  }
  if (!ended && !decoder.complete()) {
    run.error = decoder.finish(chunks);
    deliver();
  }
  run.complete = decoder.complete();
  if (normalize) {
    if (!run.error && !run.complete && !norm.all_finished()) {
      run.error = ApiError::bad_gateway("truncated", "upstream_stream_truncated");
    }
    if (!run.error)
      for (auto& p : norm.finish()) run.sent.push_back(std::move(p));
    check_usage(norm.usage());
  }
  return run;
}

// What a client sees satisfies wire formats §1.8.
inline void check_client_stream(const StreamRun& run, const RequestContext& ctx) {
  const bool chat = ctx.endpoint != Endpoint::completions;
  nlohmann::json id, created, model;
  std::map<int, bool> seen_choice, finished;
  bool usage_chunk = false;
  for (std::size_t i = 0; i < run.sent.size(); ++i) {
    const std::string& p = run.sent[i];
    if (p == "[DONE]") {
      FUZZ_CHECK(i + 1 == run.sent.size(), "payloads after [DONE]");
      continue;
    }
    FUZZ_CHECK(!usage_chunk, "a chunk after the usage chunk");
    auto j = nlohmann::json::parse(p, nullptr, false);
    FUZZ_CHECK(j.is_object(), p);
    FUZZ_CHECK(j.value("object", "") == (chat ? "chat.completion.chunk" : "text_completion"), p);
    if (id.is_null()) {
      id = j["id"], created = j["created"], model = j["model"];
      FUZZ_CHECK(id.is_string() && !id.get_ref<const std::string&>().empty(), p);
    }
    FUZZ_CHECK(j["id"] == id && j["created"] == created && j["model"] == model, "stream identity changed");
    const auto& choices = j["choices"];
    FUZZ_CHECK(choices.is_array(), p);
    if (choices.empty()) {
      FUZZ_CHECK(ctx.client_wants_usage && j.contains("usage") && j["usage"].is_object(), p);
      usage_chunk = true;
      continue;
    }
    if (ctx.client_wants_usage) FUZZ_CHECK(j.contains("usage") && j["usage"].is_null(), p);
    else FUZZ_CHECK(!j.contains("usage"), p);
    for (const auto& c : choices) {
      if (!c.is_object()) continue;
      FUZZ_CHECK(c.contains("index") && c["index"].is_number_integer(), p);
      const int index = c["index"].get<int>();
      if (chat && !seen_choice[index]) {
        FUZZ_CHECK(c.contains("delta") && c["delta"].is_object() && c["delta"].value("role", "") == "assistant", p);
      }
      seen_choice[index] = true;
      FUZZ_CHECK(c.contains("finish_reason"), p);
      if (!c["finish_reason"].is_null()) {
        FUZZ_CHECK(!finished[index], "two finish reasons for one choice");
        finished[index] = true;
      }
    }
  }
  if (!run.error) {
    FUZZ_CHECK(!run.sent.empty() && run.sent.back() == "[DONE]", "a stream that ended well without [DONE]");
    FUZZ_CHECK(usage_chunk == ctx.client_wants_usage, "usage chunk sent iff asked for");
    for (const auto& [index, seen] : seen_choice) FUZZ_CHECK(finished[index], "a choice without finish_reason");
  } else {
    FUZZ_CHECK(run.sent.empty() || run.sent.back() != "[DONE]", "[DONE] sent on a failed stream");
  }
}

inline int fuzz_stream(ProviderType type, const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  FuzzedDataProvider fdp(data, size);
  const uint8_t mode = fdp.ConsumeIntegral<uint8_t>();
  RequestContext ctx;
  ctx.endpoint = (mode & 1) ? Endpoint::completions : Endpoint::chat_completions;
  ctx.stream = true;
  ctx.client_wants_usage = (mode & 2) != 0;
  ctx.deployment_model = "fuzz-model";
  ctx.requested_model = ctx.route_model = "fuzz";

  Split split;
  std::string framed;
  std::vector<std::string_view> reads;
  if (is_eventstream(type) && (mode & 4)) {
    const std::size_t chunk = fdp.ConsumeIntegralInRange<std::size_t>(1, 256);
    framed = bedrock_frames(fdp);
    for (std::size_t at = 0; at < framed.size(); at += chunk) reads.push_back(std::string_view(framed).substr(at, chunk));
    split.payload = framed;
  } else {
    split = split_input(fdp);
    reads = split.pieces();
  }
  const bool input_has_key = split.payload.find(kProviderKey) != std::string::npos;

  StreamRun live;
  try {
    live = run_stream(type, ctx, reads, true);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("exception escaped the stream path: ") + e.what());
  }
  check_client_stream(live, ctx);
  if (live.error) check_error(*live.error, input_has_key);
  if (!input_has_key) {
    for (const auto& p : live.sent) FUZZ_CHECK(p.find(kProviderKey) == std::string::npos, p);
  }

  // The same body in one read decodes to the same chunks (ids and clock
  // readings aside) and the same error.
  const StreamRun whole = run_stream(type, ctx, {std::string_view(split.payload)}, false);
  const StreamRun pieces = run_stream(type, ctx, reads, false);
  FUZZ_CHECK(whole.error.has_value() == pieces.error.has_value(), "the split changed whether the stream failed");
  if (whole.error) FUZZ_CHECK(whole.error->code == pieces.error->code, whole.error->code + " vs " + pieces.error->code);
  FUZZ_CHECK(whole.chunks.size() == pieces.chunks.size(),
             std::to_string(whole.chunks.size()) + " vs " + std::to_string(pieces.chunks.size()) + " chunks");
  for (std::size_t i = 0; i < whole.chunks.size(); ++i) {
    FUZZ_CHECK(without_ids(whole.chunks[i]) == without_ids(pieces.chunks[i]),
               whole.chunks[i].dump() + " vs " + pieces.chunks[i].dump());
  }
  return 0;
}

// translate_response over a fuzzed upstream body that parsed as JSON (the
// live path answers 502 for one that does not), or map_error /
// map_error_response over a fuzzed error body and status.
inline int fuzz_response(ProviderType type, const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const ProviderAdapter& adapter = adapter_for(type);
  FuzzedDataProvider fdp(data, size);
  const uint8_t mode = fdp.ConsumeIntegral<uint8_t>();
  RequestContext ctx;
  ctx.endpoint = (mode & 2) ? Endpoint::completions : Endpoint::chat_completions;
  ctx.deployment_model = "fuzz-model";
  ctx.requested_model = ctx.route_model = "fuzz";

  try {
    if (mode & 1) {
      static constexpr int kStatuses[] = {400, 401, 403, 404, 408, 409, 413, 422, 424, 429, 500, 502, 503, 504, 529};
      const int pick = fdp.ConsumeIntegralInRange<int>(0, 31);
      const int status = pick < 15 ? kStatuses[pick] : fdp.ConsumeIntegralInRange<int>(100, 599);
      std::optional<int> retry_after;
      if (mode & 4) retry_after = fdp.ConsumeIntegralInRange<int>(0, 86400);
      const std::string header_value = (mode & 8) ? fdp.ConsumeRandomLengthString(64) : std::string();
      const std::string body = fdp.ConsumeRemainingBytesAsString();
      const bool input_has_key =
          body.find(kProviderKey) != std::string::npos || header_value.find(kProviderKey) != std::string::npos;
      const auto failure = adapter.map_error(status, body, retry_after);
      check_error(failure.error, input_has_key);
      const auto with_headers = adapter.map_error_response(
          status, [&](std::string_view name) { return name == "x-amzn-errortype" ? header_value : std::string(); }, body,
          retry_after);
      check_error(with_headers.error, input_has_key);
      if (retry_after) {
        FUZZ_CHECK(failure.error.retry_after_seconds.value_or(*retry_after) >= 0, "negative retry-after");
      }
      return 0;
    }
    const std::string body = fdp.ConsumeRemainingBytesAsString();
    nlohmann::json native = nlohmann::json::parse(body, nullptr, false);
    if (native.is_discarded()) return 0;
    const bool input_has_key = body.find(kProviderKey) != std::string::npos;
    Usage usage;
    auto translated = adapter.translate_response(ctx, std::move(native), usage);
    if (!translated) {
      check_error(translated.error(), input_has_key);
      return 0;
    }
    check_usage(usage);
    const nlohmann::json& out = translated.value();
    FUZZ_CHECK(out.is_object(), out.dump());
    const std::string text = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!input_has_key) FUZZ_CHECK(text.find(kProviderKey) == std::string::npos, text);
    if (out.contains("choices")) FUZZ_CHECK(out["choices"].is_array(), text);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("exception escaped: ") + e.what());
  }
  return 0;
}

}  // namespace tollgate::fuzz
