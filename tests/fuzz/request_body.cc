// A client's request body as the gateway reads it: JsonDocument::parse with
// a fuzzer-chosen server.max_json_depth (2..1024), then RequestBody, then
// validate_request for each model endpoint, the token estimates and the
// budget's worst-case cost (its output-limit reading).
// Checks:
//  - a parse error has a reason and an offset within the input; a parse
//    refused although the text is plain JSON is refused for a documented
//    reason (duplicate key, nesting, number range);
//  - no parse succeeds on a document nested deeper than the limit; a parsed
//    document reads back (to_json) as nlohmann reads the same text, and its
//    members' byte spans hold exactly their keys and values;
//  - serialize() of the body, unchanged and after fuzzer-chosen set/erase of
//    top-level members (model, stream_options, max_tokens, any member),
//    re-parses to the document with those changes; the view shows them too;
//    a copy's changes leave the original alone;
//  - validate_request gives nothing or a 400 naming its `param` in the
//    message (a non-object body has no parameter to name), and reads a
//    parsed document and its to_json() tree (what translating adapters get)
//    the same way;
//  - token estimates are never negative and agree between both readings;
//    the worst-case cost is finite and not negative, and a validated
//    max_tokens is never replaced by the gateway's default.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounting/token_estimate.h"
#include "fuzz_support.h"
#include "middleware/budget_middleware.h"
#include "middleware/limits_middleware.h"
#include "middleware/request_validation.h"
#include "tollgate/json_document.h"
#include "tollgate/pricing.h"
#include "tollgate/request_body.h"
#include "tollgate/request_context.h"

namespace {

using nlohmann::json;
using tollgate::Endpoint;
using tollgate::JsonDocument;
using tollgate::JsonError;
using tollgate::JsonLimits;
using tollgate::JsonView;
using tollgate::RequestBody;
using tollgate::RequestContext;

// Deepest nesting of a text the parser accepted (so it is valid JSON).
std::size_t nesting(std::string_view t) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') deepest = std::max(deepest, ++depth);
    else if (c == '}' || c == ']') --depth;
  }
  return deepest;
}

const tollgate::BudgetMiddleware& budget() {
  static const auto middleware = [] {
    auto config = std::make_shared<tollgate::Config>();
    tollgate::ProviderConfig oa;
    oa.name = "oa";
    oa.type = tollgate::ProviderType::openai;
    oa.base_url = "https://api.openai.com/v1";
    config->providers.push_back(oa);
    auto deployment = [](std::string model) {
      tollgate::DeploymentConfig d;
      d.provider = "oa";
      d.model = std::move(model);
      return d;
    };
    tollgate::ModelConfig known;  // priced by the bundled table
    known.name = "fz";
    known.deployments.push_back(deployment("gpt-4o"));
    known.deployments.push_back(deployment("no-such-model-in-any-table"));
    known.fallbacks = {"fz-priced"};
    tollgate::ModelConfig priced;  // priced by the YAML, no output limit known
    priced.name = "fz-priced";
    priced.deployments.push_back(deployment("custom"));
    priced.price = tollgate::PriceConfig{2.5, 10, std::nullopt};
    config->models = {known, priced};
    return std::make_unique<tollgate::BudgetMiddleware>(config, tollgate::PriceTable::bundled(), nullptr, nullptr);
  }();
  return *middleware;
}

void check_estimates(const RequestContext& tape_ctx, const RequestContext& tree_ctx) {
  const JsonView a = tape_ctx.body.view(), b = tree_ctx.body.view();
  const int64_t chat = tollgate::estimate_chat_prompt_tokens(a["messages"]);
  const int64_t input = tollgate::estimate_request_input_tokens(a);
  const int64_t prompt = tollgate::estimate_prompt_tokens(a);
  const int64_t request = tollgate::estimate_request_tokens(tape_ctx);
  FUZZ_CHECK(chat >= 0 && input >= 0 && prompt >= 0 && request >= 0, "a negative estimate");
  FUZZ_CHECK(chat == tollgate::estimate_chat_prompt_tokens(b["messages"]), "chat estimate differs by backend");
  FUZZ_CHECK(input == tollgate::estimate_request_input_tokens(b), "input estimate differs by backend");
  FUZZ_CHECK(prompt == tollgate::estimate_prompt_tokens(b), "prompt estimate differs by backend");
  FUZZ_CHECK(request == tollgate::estimate_request_tokens(tree_ctx), "request estimate differs by backend");
  for (JsonView m : a["messages"].elements()) {
    if (m["content"].is_string()) FUZZ_CHECK(tollgate::estimate_tokens(m["content"].as_string()) >= 0, "negative");
  }
}

void check_validation(const RequestBody& body, const json& tree, Endpoint endpoint) {
  RequestContext ctx, tree_ctx;
  ctx.endpoint = tree_ctx.endpoint = endpoint;
  ctx.route_model = tree_ctx.route_model = "fz";
  ctx.body = body;
  tree_ctx.body = RequestBody(tree);
  const tollgate::Decision d = tollgate::validate_request(ctx);
  const tollgate::Decision t = tollgate::validate_request(tree_ctx);
  FUZZ_CHECK(d.has_value() == t.has_value(), "validation differs between a document and its tree");
  if (d) {
    FUZZ_CHECK(d->message == t->message && d->param == t->param, d->message + " vs " + t->message);
    FUZZ_CHECK(d->status == 400, std::to_string(d->status) + " " + d->message);
    FUZZ_CHECK(!d->message.empty(), "a validation error without a message");
    if (body.view().is_object()) {
      FUZZ_CHECK(!d->param.empty() && d->message.find(d->param) != std::string::npos, d->message + " / " + d->param);
    } else {
      FUZZ_CHECK(d->code == "invalid_body", d->code);
    }
  } else {
    const JsonView v = body.view();
    FUZZ_CHECK(ctx.requested_model == v["model"].as_string() && !ctx.requested_model.empty(), ctx.requested_model);
    FUZZ_CHECK(ctx.stream == tree_ctx.stream && ctx.client_wants_usage == tree_ctx.client_wants_usage, "flags differ");
    if (endpoint != Endpoint::embeddings) FUZZ_CHECK(ctx.stream == v["stream"].as_bool(), "stream flag");
    FUZZ_CHECK(!ctx.client_wants_usage || ctx.stream, "usage asked for without a stream");
  }
  check_estimates(ctx, tree_ctx);

  std::optional<int64_t> inject;
  const double cost = budget().worst_case_cost(ctx, &inject);
  FUZZ_CHECK(std::isfinite(cost) && cost >= 0, std::to_string(cost));
  if (!d && endpoint != Endpoint::embeddings &&
      (body.view()["max_tokens"].is_number_integer() || body.view()["max_completion_tokens"].is_number_integer())) {
    FUZZ_CHECK(!inject, "a validated output limit replaced by the default");
  }
}

// The changes the gateway makes to top-level members, chosen by `ops`,
// applied to the body and to a tree that models them.
void patch(RequestBody& body, json& expected, uint8_t ops, uint8_t pick) {
  auto set = [&](const std::string& key, json value) {
    body.set(key, value);
    expected[key] = std::move(value);
  };
  auto erase = [&](const std::string& key) {
    body.erase(key);
    expected.erase(key);
  };
  if (ops & 1) set("model", "fz-upstream-model");
  if (ops & 2) set("stream_options", json{{"include_usage", true}});
  if (ops & 4) erase("stream_options");
  if (ops & 8) set("max_tokens", 4096);
  if ((ops & 16) && !expected.empty()) {
    auto it = expected.begin();
    std::advance(it, pick % expected.size());
    const std::string key = it.key();
    erase(key);
  }
  if ((ops & 32) && !expected.empty()) {
    // Another member's value under a (maybe new) key: any JSON the document can hold.
    auto it = expected.begin();
    std::advance(it, pick % expected.size());
    set((ops & 64) ? "model" : "fz-added", it.value());
  }
  if (ops & 128) erase("model");
}

void check_round_trip(const RequestBody& body, const json& expected, std::size_t max_depth) {
  const std::string text = body.serialize();
  auto again = JsonDocument::parse(text, JsonLimits{max_depth + 2});
  FUZZ_CHECK(again.ok(), text.substr(0, 2000) + "\n  " + (again.ok() ? "" : again.error().describe()));
  FUZZ_CHECK(again.value()->root().to_json() == expected, text.substr(0, 2000) + "\n  expected " + expected.dump().substr(0, 2000));
  FUZZ_CHECK(body.view().to_json() == expected, "the view differs from the patched document");
  if (expected.is_object()) {
    std::size_t count = 0;
    for (auto [key, value] : body.view().items()) {
      ++count;
      FUZZ_CHECK(expected.contains(key) && value.to_json() == expected[std::string(key)], std::string(key));
    }
    FUZZ_CHECK(count == expected.size(), "items() count");
    FUZZ_CHECK(body.view().size() == expected.size(), "size()");
    for (auto& [key, value] : expected.items()) {
      FUZZ_CHECK(body.contains(key) && body.member_bytes(key) > 0, key);
    }
    for (const auto& c : body.changes().changes()) {
      if (!c.value) FUZZ_CHECK(!body.contains(c.key) && body.member_bytes(c.key) == 0, c.key);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = tollgate::fuzz::quiet_logs();
  (void)quiet;
  if (size > 128 * 1024) return 0;
  FuzzedDataProvider fdp(data, size);
  const std::size_t max_depth = fdp.ConsumeIntegralInRange<std::size_t>(2, 1024);
  const uint8_t ops = fdp.ConsumeIntegral<uint8_t>();
  const uint8_t pick = fdp.ConsumeIntegral<uint8_t>();
  const std::string text = fdp.ConsumeRemainingBytesAsString();

  // nlohmann reads a NUL byte as the end of the input: no reference then.
  const json reference = text.find('\0') == std::string::npos ? json::parse(text, nullptr, false)
                                                               : json(json::value_t::discarded);
  auto parsed = JsonDocument::parse(text, JsonLimits{max_depth});
  if (!parsed) {
    const JsonError& e = parsed.error();
    FUZZ_CHECK(!e.reason.empty(), "a parse error without a reason");
    FUZZ_CHECK(e.offset != JsonError::npos && e.offset <= text.size(), e.describe());
    if (!reference.is_discarded()) {
      // Plain JSON refused: only for a rule of ours.
      const bool ours = e.reason.find("duplicate key") == 0 || e.reason.find("nesting deeper") == 0 ||
                        e.reason.find("number out of range") == 0;
      FUZZ_CHECK(ours, e.describe());
    }
    return 0;
  }
  const auto doc = parsed.value();
  FUZZ_CHECK(doc->text() == text, "the document's text changed");
  FUZZ_CHECK(nesting(text) <= max_depth, "parsed a document deeper than the limit");
  const json tree = doc->root().to_json();
  FUZZ_CHECK(text.find('\0') != std::string::npos || (!reference.is_discarded() && reference == tree),
             "the parser and nlohmann read different values");
  if (tree.is_object()) {
    FUZZ_CHECK(doc->members().size() == tree.size(), "member spans");
    for (const auto& m : doc->members()) {
      FUZZ_CHECK(m.begin < m.value_begin && m.value_begin < m.value_end && m.value_end <= text.size(), std::string(m.key));
      const json value = json::parse(text.substr(m.value_begin, m.value_end - m.value_begin), nullptr, false);
      FUZZ_CHECK(!value.is_discarded() && tree.contains(m.key) && value == tree.at(std::string(m.key)), std::string(m.key));
      const std::string_view head = std::string_view(text).substr(m.begin, m.value_begin - m.begin);
      FUZZ_CHECK(head.front() == '"' && head.find(':') != std::string_view::npos, std::string(head));
    }
  }

  RequestBody body(doc);
  check_round_trip(body, tree, max_depth);
  for (Endpoint e : {Endpoint::chat_completions, Endpoint::completions, Endpoint::embeddings}) {
    check_validation(body, tree, e);
  }

  if (tree.is_object()) {
    RequestBody patched = body;  // as the parameter policy and the adapters do: a copy
    json expected = tree;
    patch(patched, expected, ops, pick);
    check_round_trip(patched, expected, max_depth);
    FUZZ_CHECK(body.changes().empty() && body.serialize() == RequestBody(doc).serialize(), "a copy's change leaked");
    check_validation(patched, expected, Endpoint::chat_completions);
  }
  return 0;
}
