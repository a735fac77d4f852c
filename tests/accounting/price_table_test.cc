#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tollgate/embedded_data.h"
#include "tollgate/pricing.h"

namespace tollgate {
namespace {

// Amounts are in USD; 1e-10 dollars is far below any invoice line.
constexpr double kEps = 1e-10;

std::shared_ptr<const PriceTable> parse_ok(const std::string& text) {
  auto r = PriceTable::from_json(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : nullptr;
}

std::string parse_error(const std::string& text) {
  auto r = PriceTable::from_json(text);
  EXPECT_FALSE(r.ok()) << "expected a parse error for: " << text;
  return r.ok() ? "" : r.error().message;
}

Usage usage(int64_t prompt, int64_t completion, int64_t cached = 0, int64_t cache_write = 0,
            int64_t reasoning = 0) {
  Usage u;
  u.prompt_tokens = prompt;
  u.completion_tokens = completion;
  u.cached_tokens = cached;
  u.cache_write_tokens = cache_write;
  u.reasoning_tokens = reasoning;
  u.source = UsageSource::provider_final;
  return u;
}

ModelPrice make_price(double input, double output, double cached, double cache_write) {
  ModelPrice p;
  p.input_per_million = input;
  p.output_per_million = output;
  p.cached_input_per_million = cached;
  p.cache_write_per_million = cache_write;
  return p;
}

ModelPrice bundled_price(const std::string& provider, const std::string& model) {
  auto p = PriceTable::bundled()->find(provider, model);
  EXPECT_TRUE(p.has_value()) << provider << "/" << model << " not in the bundled table";
  return p.value_or(ModelPrice{});
}

// --- cost ---------------------------------------------------------------

TEST(CostUsd, Gpt4oRequestWithCachedTokensCostsExactlyTwoAndAHalfCents) {
  // 10,000 prompt tokens of which 4,000 cached, 500 completion, gpt-4o list price:
  //   6,000 uncached x $2.50/M = $0.0150
  //   4,000 cached   x $1.25/M = $0.0050
  //     500 output   x $10.00/M = $0.0050
  //   total                      $0.0250
  const auto price = bundled_price("openai", "gpt-4o");
  EXPECT_DOUBLE_EQ(cost_usd(usage(10'000, 500, 4'000), price), 0.025);
}

TEST(CostUsd, AnthropicRequestWithCacheReadAndWrite) {
  // claude-sonnet-4-5: 100,000 prompt tokens = 20,000 uncached + 50,000 cache
  // reads + 30,000 cache writes; 2,000 completion tokens (500 of them reasoning).
  //   20,000 x $3.00  = $0.0600
  //   50,000 x $0.30  = $0.0150
  //   30,000 x $3.75  = $0.1125
  //    2,000 x $15.00 = $0.0300
  //   total             $0.2175
  const auto price = bundled_price("anthropic", "claude-sonnet-4-5-20250929");
  EXPECT_NEAR(cost_usd(usage(100'000, 2'000, 50'000, 30'000, 500), price), 0.2175, kEps);
}

TEST(CostUsd, FullyCachedPromptIsBilledOnlyAtTheCachedPrice) {
  // One million gpt-4o-mini prompt tokens, all read from cache: $0.075, not
  // $0.15 (input price) and not $0.225 (both).
  const auto price = bundled_price("openai", "gpt-4o-mini");
  EXPECT_NEAR(cost_usd(usage(1'000'000, 0, 1'000'000), price), 0.075, kEps);
}

TEST(CostUsd, CachingNeverAddsToTheBill) {
  const auto price = make_price(2.0, 8.0, 0.5, 2.0);
  const double uncached = cost_usd(usage(50'000, 1'000), price);
  const double half_cached = cost_usd(usage(50'000, 1'000, 25'000), price);
  // 25,000 tokens move from $2.00/M to $0.50/M: $0.0375 cheaper, exactly.
  EXPECT_NEAR(uncached - half_cached, 0.0375, kEps);
  EXPECT_NEAR(uncached, 0.108, kEps);  // 50,000 x 2 + 1,000 x 8 = 108,000 / 1e6
}

TEST(CostUsd, ReasoningTokensAreBilledOnceAsPartOfCompletion) {
  const auto price = bundled_price("openai", "o3-mini");
  // 1,000 completion tokens of which 800 reasoning: 1,000 x $4.40/M = $0.0044.
  EXPECT_NEAR(cost_usd(usage(0, 1'000, 0, 0, 800), price), 0.0044, kEps);
}

TEST(CostUsd, UnknownCachePricesBillAtTheInputPrice) {
  auto table = parse_ok(R"({"models":{"m":{"input_per_million":1.0,"output_per_million":2.0}}})");
  ASSERT_TRUE(table);
  const auto price = table->find("", "m").value();
  EXPECT_EQ(price.cached_input_per_million, 1.0);
  EXPECT_EQ(price.cache_write_per_million, 1.0);
  // Caching reported or not, 1,000 prompt tokens cost $0.001.
  EXPECT_NEAR(cost_usd(usage(1'000, 0, 600, 400), price), 0.001, kEps);
  EXPECT_NEAR(cost_usd(usage(1'000, 0), price), 0.001, kEps);
}

TEST(CostUsd, InconsistentCountsAreClampedNotDoubleBilled) {
  const auto price = make_price(10.0, 30.0, 1.0, 20.0);
  // cached > prompt: the 1,000 prompt tokens are all cached, nothing more.
  EXPECT_NEAR(cost_usd(usage(1'000, 0, 5'000), price), 0.001, kEps);
  // cached + write > prompt: writes are capped at what is left of the prompt.
  EXPECT_NEAR(cost_usd(usage(1'000, 0, 600, 900), price), (600 * 1.0 + 400 * 20.0) / 1e6, kEps);
  // Negative counts bill nothing.
  EXPECT_EQ(cost_usd(usage(-5, -7, -1, -1), price), 0.0);
}

TEST(CostUsd, ZeroUsageIsFree) {
  EXPECT_EQ(cost_usd(Usage{}, bundled_price("openai", "gpt-4o")), 0.0);
}

TEST(PriceFromConfig, CachedDefaultsToInputPrice) {
  PriceConfig c;
  c.input_per_million = 3.0;
  c.output_per_million = 6.0;
  auto p = price_from_config(c);
  EXPECT_EQ(p.input_per_million, 3.0);
  EXPECT_EQ(p.output_per_million, 6.0);
  EXPECT_EQ(p.cached_input_per_million, 3.0);
  EXPECT_EQ(p.cache_write_per_million, 3.0);
  c.cached_input_per_million = 0.3;
  p = price_from_config(c);
  EXPECT_EQ(p.cached_input_per_million, 0.3);
  // 1,000 cached + 1,000 uncached + 1,000 out = 300 + 3,000 + 6,000 = 9,300 / 1e6.
  EXPECT_NEAR(cost_usd(usage(2'000, 1'000, 1'000), p), 0.0093, kEps);
}

// --- the bundled table ----------------------------------------------------

TEST(BundledTable, HasAtLeastFiftyModels) { EXPECT_GE(PriceTable::bundled()->size(), 50u); }

TEST(BundledTable, IsParsedOnceAndShared) {
  EXPECT_EQ(PriceTable::bundled().get(), PriceTable::bundled().get());
}

TEST(BundledTable, Gpt4oMiniHasTheListPrice) {
  const auto p = bundled_price("openai", "gpt-4o-mini");
  EXPECT_DOUBLE_EQ(p.input_per_million, 0.15);
  EXPECT_DOUBLE_EQ(p.output_per_million, 0.60);
  EXPECT_DOUBLE_EQ(p.cached_input_per_million, 0.075);
  EXPECT_EQ(p.max_output_tokens, 16384);
  EXPECT_EQ(p.context_window, 128000);
  // A typical chat turn: 1,200 prompt + 300 completion = $0.00036.
  EXPECT_NEAR(cost_usd(usage(1'200, 300), p), 0.00036, kEps);
}

TEST(BundledTable, SpotChecksAcrossProviders) {
  struct Case {
    const char* provider;
    const char* model;
    double input, output;
  } cases[] = {
      {"openai", "gpt-4.1", 2.00, 8.00},
      {"openai", "o1", 15.00, 60.00},
      {"openai", "text-embedding-3-small", 0.02, 0},
      {"openai", "gpt-3.5-turbo-instruct", 1.50, 2.00},
      {"anthropic", "claude-3-5-haiku-20241022", 0.80, 4.00},
      {"anthropic", "claude-opus-4-1", 15.00, 75.00},
      {"gemini", "gemini-2.0-flash", 0.10, 0.40},
      {"gemini", "gemini-2.5-pro", 1.25, 10.00},
      {"deepseek", "deepseek-chat", 0.28, 0.42},
      {"groq", "llama-3.3-70b-versatile", 0.59, 0.79},
      {"cohere", "command-r", 0.15, 0.60},
      {"bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", 3.00, 15.00},
      {"mock", "mock-gpt", 0.50, 1.50},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.provider) + "/" + c.model);
    const auto p = bundled_price(c.provider, c.model);
    EXPECT_DOUBLE_EQ(p.input_per_million, c.input);
    EXPECT_DOUBLE_EQ(p.output_per_million, c.output);
  }
}

TEST(BundledTable, EveryEntryIsSane) {
  const auto doc = nlohmann::json::parse(embedded::prices());
  const auto table = PriceTable::bundled();
  for (const auto& [key, entry] : doc.at("models").items()) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(entry.contains("provider"));
    const auto p = table->find("", key);
    ASSERT_TRUE(p.has_value());
    // Cache reads are a discount and cache writes a premium, never the reverse.
    EXPECT_LE(p->cached_input_per_million, p->input_per_million);
    EXPECT_GE(p->cache_write_per_million, p->input_per_million);
    // Nothing in the table costs more than $1,000 per million tokens: a
    // misplaced decimal point would.
    EXPECT_LT(p->input_per_million, 1000);
    EXPECT_LT(p->output_per_million, 1000);
    if (p->max_output_tokens && p->context_window) {
      EXPECT_LE(*p->max_output_tokens, *p->context_window);
    }
    for (const auto& alias : entry.value("aliases", nlohmann::json::array())) {
      const auto a = table->find("", alias.get<std::string>());
      ASSERT_TRUE(a.has_value()) << alias;
      EXPECT_EQ(a->input_per_million, p->input_per_million);
    }
  }
  const auto mock = table->find("mock", "mock-gpt");
  ASSERT_TRUE(mock.has_value());
  EXPECT_GT(mock->input_per_million, 0);
  EXPECT_GT(mock->output_per_million, 0);
}

// --- lookup ---------------------------------------------------------------

TEST(PriceLookup, ProviderPrefixedKeyWinsOverBareKey) {
  auto t = parse_ok(R"({"models":{
      "llama": {"input_per_million": 1, "output_per_million": 1},
      "groq/llama": {"input_per_million": 2, "output_per_million": 2}}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->find("groq", "llama")->input_per_million, 2);
  EXPECT_EQ(t->find("together", "llama")->input_per_million, 1);
  EXPECT_EQ(t->find("", "llama")->input_per_million, 1);
  EXPECT_EQ(t->find("", "groq/llama")->input_per_million, 2);
}

TEST(PriceLookup, HostedModelsNeedTheirProvider) {
  const auto t = PriceTable::bundled();
  EXPECT_DOUBLE_EQ(t->find("groq", "llama-3.3-70b-versatile")->input_per_million, 0.59);
  EXPECT_DOUBLE_EQ(
      t->find("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo")->input_per_million, 0.88);
  EXPECT_DOUBLE_EQ(
      t->find("fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct")->input_per_million,
      0.90);
  // Without the provider, a hosted open model has no single price.
  EXPECT_FALSE(t->find("openai", "llama-3.3-70b-versatile").has_value());
}

TEST(PriceLookup, DateSuffixesAreStripped) {
  const auto t = PriceTable::bundled();
  // A snapshot the table does not list falls back to its family's price.
  EXPECT_DOUBLE_EQ(t->find("openai", "gpt-4o-mini-2031-01-01")->input_per_million, 0.15);
  EXPECT_DOUBLE_EQ(t->find("openai", "gpt-4.1-2030-12-31")->input_per_million, 2.00);
  // A listed snapshot keeps its own price: gpt-4o-2024-05-13 was $5/$15.
  EXPECT_DOUBLE_EQ(t->find("openai", "gpt-4o-2024-05-13")->input_per_million, 5.00);
  EXPECT_DOUBLE_EQ(t->find("openai", "gpt-4o-2024-08-06")->input_per_million, 2.50);
  // Short suffixes are not dates and are not stripped.
  EXPECT_FALSE(t->find("openai", "gpt-4o-mini-0613").has_value());
  EXPECT_FALSE(t->find("openai", "no-such-model-2024-08-06").has_value());
}

TEST(PriceLookup, CompactDateSuffix) {
  auto t = parse_ok(R"({"models":{"claude-x": {"input_per_million": 3, "output_per_million": 15}}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->find("anthropic", "claude-x-20250101")->input_per_million, 3);
  EXPECT_FALSE(t->find("anthropic", "claude-x-2025").has_value());
}

TEST(PriceLookup, AliasesAndBedrockRegionPrefixes) {
  const auto t = PriceTable::bundled();
  EXPECT_DOUBLE_EQ(t->find("anthropic", "claude-3-5-sonnet-latest")->output_per_million, 15.00);
  EXPECT_DOUBLE_EQ(t->find("anthropic", "claude-haiku-4-5")->input_per_million, 1.00);
  EXPECT_DOUBLE_EQ(
      t->find("bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0")->input_per_million, 3.00);
  EXPECT_DOUBLE_EQ(
      t->find("bedrock", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0")->input_per_million, 3.00);
  // "us." is only a region prefix in front of a vendor.model id.
  EXPECT_FALSE(t->find("openai", "us.gpt-4o").has_value());
}

TEST(PriceLookup, UnknownModel) {
  EXPECT_FALSE(PriceTable::bundled()->find("openai", "gpt-17-ultra").has_value());
  EXPECT_FALSE(PriceTable::bundled()->find("openai", "").has_value());
}

// --- malformed tables -------------------------------------------------------

TEST(PriceTableErrors, NegativePriceNamesTheEntryAndField) {
  const auto msg = parse_error(
      R"({"models":{"gpt-x":{"input_per_million":-1,"output_per_million":1}}})");
  EXPECT_EQ(msg, R"(prices.json: models["gpt-x"].input_per_million: expected a non-negative number)");
}

TEST(PriceTableErrors, StringPriceIsRejected) {
  const auto msg = parse_error(
      R"({"models":{"m":{"input_per_million":1,"output_per_million":"2.00"}}})");
  EXPECT_EQ(msg, R"(prices.json: models["m"].output_per_million: expected a non-negative number)");
}

TEST(PriceTableErrors, MissingPriceIsNotTreatedAsFree) {
  const auto msg = parse_error(R"({"models":{"m":{"input_per_million":1}}})");
  EXPECT_NE(msg.find(R"(models["m"].output_per_million: missing)"), std::string::npos) << msg;
}

TEST(PriceTableErrors, MisspelledFieldIsRejected) {
  const auto msg = parse_error(
      R"({"models":{"m":{"input_per_million":1,"output_per_million":2,"cached_input_per_milion":0.1}}})");
  EXPECT_NE(msg.find(R"(models["m"]: unknown field "cached_input_per_milion")"), std::string::npos)
      << msg;
}

TEST(PriceTableErrors, EveryProblemIsReportedAtOnce) {
  const auto msg = parse_error(R"({"models":{
      "a": {"input_per_million": -1, "output_per_million": 1},
      "b": "cheap",
      "c": {"input_per_million": 1, "output_per_million": 1, "max_output_tokens": 1.5},
      "d": {"input_per_million": 1, "output_per_million": 1, "aliases": ["a"]}}})");
  EXPECT_NE(msg.find(R"(models["a"].input_per_million)"), std::string::npos) << msg;
  EXPECT_NE(msg.find(R"(models["b"]: expected an object)"), std::string::npos) << msg;
  EXPECT_NE(msg.find(R"(models["c"].max_output_tokens: expected a positive integer)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(R"(models["d"].aliases: "a" is also a model id)"), std::string::npos) << msg;
}

TEST(PriceTableErrors, DuplicateModelIdIsRejected) {
  const auto msg = parse_error(R"({"models":{
      "m": {"input_per_million": 1, "output_per_million": 1},
      "m": {"input_per_million": 9, "output_per_million": 9}}})");
  EXPECT_EQ(msg, R"(prices.json: models["m"]: duplicate model id)");
}

TEST(PriceTableErrors, DuplicateAliasIsRejected) {
  const auto msg = parse_error(R"({"models":{
      "m": {"input_per_million": 1, "output_per_million": 1, "aliases": ["x"]},
      "n": {"input_per_million": 2, "output_per_million": 2, "aliases": ["x"]}}})");
  EXPECT_EQ(msg, R"(prices.json: models["n"].aliases: "x" is already an alias of "m")");
}

TEST(PriceTableErrors, NotJsonOrWrongShape) {
  EXPECT_NE(parse_error("{").find("prices.json: not valid JSON"), std::string::npos);
  EXPECT_EQ(parse_error("[]"), R"(prices.json: expected an object with a "models" object)");
  EXPECT_EQ(parse_error(R"({"modles":{}})"),
            "prices.json: modles: unknown field\n"
            "prices.json: models: expected an object of model id -> price");
  EXPECT_EQ(parse_error(R"({"currency":"EUR","models":{}})"),
            R"(prices.json: currency: only "USD" is supported)");
}

TEST(PriceTableErrors, CommentsAndEmptyTablesAreFine) {
  auto t = parse_ok(R"({"_comment":"x","as_of":"2025-12","currency":"USD","models":{
      "_note": "ignored",
      "m": {"_why": "ignored", "note": "text", "provider": "p",
            "input_per_million": 0, "output_per_million": 0, "cached_input_per_million": null}}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->size(), 1u);
  EXPECT_EQ(parse_ok(R"({"models":{}})")->size(), 0u);
}

TEST(PriceTableFile, ReadsAFileAndNamesItInErrors) {
  const std::string path = testing::TempDir() + "tollgate_price_table_test.json";
  {
    std::ofstream(path) << R"({"models":{"house-model":{"input_per_million":4,"output_per_million":"x"}}})";
  }
  auto r = PriceTable::from_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            path + R"(: models["house-model"].output_per_million: expected a non-negative number)");

  {
    std::ofstream(path) << R"({"models":{"house-model":{"input_per_million":4,"output_per_million":8}}})";
  }
  r = PriceTable::from_file(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()->find("openai_compatible", "house-model")->output_per_million, 8);
  std::remove(path.c_str());

  r = PriceTable::from_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind(path + ": cannot open price file", 0), 0u) << r.error().message;
}

}  // namespace
}  // namespace tollgate
