#include "providers/mock/mock_provider.h"

#include "accounting/token_estimate.h"
#include <cmath>
#include <cstring>

#include <openssl/evp.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "providers/stream_normalizer.h"
#include "tollgate/provider_profile.h"

namespace tollgate {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using nlohmann::json;

namespace {

// The text of the last user message that has any: its string content, or its
// first text part.
std::string last_user_text(JsonView body) {
  if (const JsonView p = body["prompt"]; p.is_string()) return p.str();
  std::string_view last;
  for (const JsonView m : body["messages"].elements()) {
    if (m["role"] != "user") continue;
    const JsonView c = m["content"];
    if (c.is_string()) {
      last = c.as_string();
      continue;
    }
    for (const JsonView part : c.elements()) {
      if (part["type"] == "text" && part["text"].is_string()) {
        last = part["text"].as_string();
        break;
      }
    }
  }
  return std::string(last);
}

// Cuts at a UTF-8 boundary so the echo never produces invalid UTF-8.
std::string utf8_prefix(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

std::vector<std::string> split_pieces(const std::string& text, int pieces) {
  std::vector<std::string> out;
  pieces = std::max(1, pieces);
  std::size_t step = std::max<std::size_t>(1, (text.size() + pieces - 1) / pieces);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + step);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json embeddings_response(JsonView body, const std::string& model, int dims, Usage& usage) {
  std::vector<std::string> inputs;
  const JsonView in = body["input"];
  if (in.is_string()) {
    inputs.push_back(in.str());
  } else if (in.is_array()) {
    // Strings, token ids and token arrays (validated) dump as nlohmann dumped them.
    for (const JsonView v : in.elements()) inputs.push_back(v.dump());
  }
  json data = json::array();
  int64_t tokens = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    uint64_t h = fnv1a(inputs[i]);
    json vec = json::array();
    double norm = 0;
    std::vector<double> v(dims);
    for (int d = 0; d < dims; ++d) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      v[d] = static_cast<double>(h >> 11) / static_cast<double>(1ull << 53) * 2.0 - 1.0;
      norm += v[d] * v[d];
    }
    norm = std::sqrt(norm);
    for (double x : v) vec.push_back(norm > 0 ? x / norm : 0.0);
    json embedding = vec;
    if (body.value("encoding_format", "float") == "base64") {
      // Packed little-endian float32, as OpenAI sends it.
      std::string packed;
      for (const auto& x : vec) {
        float f = static_cast<float>(x.get<double>());
        char bytes[4];
        std::memcpy(bytes, &f, 4);
        packed.append(bytes, 4);
      }
      std::string b64(4 * ((packed.size() + 2) / 3), '\0');
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(packed.data()),
                      static_cast<int>(packed.size()));
      embedding = b64;
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", embedding}});
    tokens += estimate_tokens(inputs[i]);
  }
  usage.prompt_tokens = tokens;
  usage.source = UsageSource::provider_final;
  return {{"object", "list"}, {"model", model}, {"data", data},
          {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

}  // namespace

std::string mock_reply_text(JsonView body) {
  std::string said = last_user_text(body);
  if (said.empty()) return "Hello from the Tollgate mock provider.";
  return "Hello from the Tollgate mock provider. You said: " + utf8_prefix(said, 200);
}

asio::awaitable<AttemptOutcome> MockProvider::call(RequestContext& ctx, const DeploymentConfig& deployment,
                                                   const AttemptLimits& limits, ResponseSink& sink) {
  const auto& model = deployment.model;
  if (ctx.endpoint == Endpoint::embeddings) {
    Usage usage;
    auto body = embeddings_response(ctx.body.view(), model, std::max(1, config_.mock.embedding_dimensions), usage);
    ctx.usage = usage;
    std::string text = body.dump();
    HeaderList headers;
    co_await sink.send_response(200, std::move(text), std::move(headers));
    co_return AttemptOutcome{};
  }

  const bool chat = ctx.endpoint == Endpoint::chat_completions;
  const std::string text = mock_reply_text(ctx.body.view());
  Usage usage;
  usage.prompt_tokens = chat && ctx.body.contains("messages") ? estimate_chat_prompt_tokens(ctx.body["messages"])
                                                              : estimate_tokens(last_user_text(ctx.body.view()));
  usage.completion_tokens = estimate_tokens(text);
  usage.source = UsageSource::provider_final;
  const std::string id = (chat ? "chatcmpl-mock" : "cmpl-mock") + std::to_string(fnv1a(ctx.request_id) % 1000000000);
  const int64_t created = now_seconds();

  if (!ctx.stream) {
    json choice = chat ? json{{"index", 0},
                              {"message", {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}},
                              {"logprobs", nullptr},
                              {"finish_reason", "stop"}}
                       : json{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", "stop"}};
    json body = {{"id", id},
                 {"object", chat ? "chat.completion" : "text_completion"},
                 {"created", created},
                 {"model", model},
                 {"choices", json::array({choice})},
                 {"usage", usage.to_openai_json()}};
    ctx.usage = usage;
    std::string out = body.dump(-1, ' ', false, json::error_handler_t::replace);
    HeaderList headers;
    co_await sink.send_response(200, std::move(out), std::move(headers));
    co_return AttemptOutcome{};
  }

  StreamNormalizer norm(chat ? StreamNormalizer::Kind::chat : StreamNormalizer::Kind::completion,
                        ctx.client_wants_usage, *ProviderProfiles::bundled().find("generic"));
  auto emit = [&](json chunk) -> asio::awaitable<bool> {
    // Named, not a range-for temporary: GCC 12 ends such temporaries'
    // lifetime at the first suspension inside the loop.
    auto payloads = norm.on_chunk(std::move(chunk));
    for (auto& payload : payloads) {
      if (!sink.committed()) {
        HeaderList headers;
        const bool started = co_await sink.start_stream(std::move(headers));
        if (!started) co_return false;
      }
      if (!co_await sink.send_event(payload)) co_return false;
    }
    co_return true;
  };
  auto base = [&] {
    return json{{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", created}, {"model", model}};
  };
  auto pieces = split_pieces(text, config_.mock.chunks);
  auto ex = co_await asio::this_coro::executor;
  auto produce = [&]() -> asio::awaitable<bool> {
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (i > 0 && config_.mock.chunk_delay_ms > 0) {
        asio::steady_timer t(ex, std::chrono::milliseconds(config_.mock.chunk_delay_ms));
        co_await t.async_wait(asio::use_awaitable);
      }
      json c = base();
      c["choices"] = json::array({chat ? json{{"index", 0}, {"delta", {{"content", pieces[i]}}}, {"finish_reason", nullptr}}
                                       : json{{"index", 0}, {"text", pieces[i]}, {"finish_reason", nullptr}}});
      if (!co_await emit(std::move(c))) co_return false;
    }
    json last = base();
    last["choices"] = json::array({chat ? json{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}
                                        : json{{"index", 0}, {"text", ""}, {"finish_reason", "stop"}}});
    if (!co_await emit(std::move(last))) co_return false;
    json usage_chunk = base();
    usage_chunk["choices"] = json::array();
    usage_chunk["usage"] = usage.to_openai_json();
    if (!co_await emit(std::move(usage_chunk))) co_return false;
    // Named, not a range-for temporary: GCC 12 ends such temporaries'
    // lifetime at the first suspension inside the loop.
    auto payloads = norm.finish();
    for (auto& payload : payloads) {
      if (!co_await sink.send_event(payload)) co_return false;
    }
    co_return true;
  };
  auto r = co_await (produce() || sink.wait_client_gone());
  ctx.usage = norm.usage();
  if (r.index() == 1 || !std::get<0>(r)) {
    ctx.client_disconnected = true;
    AttemptOutcome o;
    o.failure = FailureClass::cancelled;
    o.error = ApiError::bad_request("client closed the connection", {}, "client_disconnected");
    co_return o;
  }
  co_return AttemptOutcome{};
}

}  // namespace tollgate
