#pragma once
// Helpers for ledger tests: fully populated rows, field-by-field comparison,
// and a scratch spool directory removed at the end of the test.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "tollgate/store.h"

namespace tollgate::testing {

// Every field set to something non-default, varied by `i`.
inline SpendRow full_row(int i, RowKind kind = RowKind::spend) {
  SpendRow r;
  r.kind = kind;
  r.request_id = "req-" + std::to_string(i);
  r.start_time = TimePoint(SystemClock::duration(1'700'000'000'123'456'789LL + i));
  r.end_time = r.start_time + std::chrono::nanoseconds(987'654'321);
  r.key_id = "k" + std::to_string(i);
  r.key_alias = "alias \"quoted\" \\ back";
  r.key_name = "sk-...Wx9a";
  r.team_id = "team-é";
  r.user_id = "user-日本語";
  r.end_user = "end\nuser\t\x01";
  r.route = "/v1/chat/completions";
  r.requested_model = "gpt-4o";
  r.model_group = "gpt-4o-group";
  r.deployment = "gpt-4o-2024-08-06";
  r.provider = "openai";
  r.api_base = "https://api.openai.com/v1";
  r.stream = true;
  r.status = kind == RowKind::spend ? 200 : 429;
  r.error_type = kind == RowKind::spend ? "" : "rate_limit_error";
  r.reason = kind == RowKind::spend ? "" : "rpm limit 10 reached 🚦";
  r.prompt_tokens = 1'000'000'000'000LL + i;
  r.completion_tokens = 42;
  r.cached_tokens = 7;
  r.reasoning_tokens = -1;
  r.cost_usd = "0.0000123400";
  r.latency_ms = 1234;
  r.ttft_ms = i % 2 ? std::optional<int64_t>(56) : std::nullopt;
  r.overhead_ms = 3;
  r.cache_hit = i % 3 == 0;
  r.tags = {"prod", "tag with \"quotes\"", "", "ünïcödé"};
  r.metadata = {{"trace", "abc"}, {"n", -5}, {"u", 18446744073709551615ull}, {"pi", 3.141592653589793},
                {"nested", {{"a", {1, 2, nullptr, true}}}}, {"emoji", "😀"}};
  return r;
}

inline void expect_same_row(const SpendRow& a, const SpendRow& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.start_time, b.start_time);
  EXPECT_EQ(a.end_time, b.end_time);
  EXPECT_EQ(a.key_id, b.key_id);
  EXPECT_EQ(a.key_alias, b.key_alias);
  EXPECT_EQ(a.key_name, b.key_name);
  EXPECT_EQ(a.team_id, b.team_id);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.end_user, b.end_user);
  EXPECT_EQ(a.route, b.route);
  EXPECT_EQ(a.requested_model, b.requested_model);
  EXPECT_EQ(a.model_group, b.model_group);
  EXPECT_EQ(a.deployment, b.deployment);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.api_base, b.api_base);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error_type, b.error_type);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
  EXPECT_EQ(a.completion_tokens, b.completion_tokens);
  EXPECT_EQ(a.cached_tokens, b.cached_tokens);
  EXPECT_EQ(a.reasoning_tokens, b.reasoning_tokens);
  EXPECT_EQ(a.cost_usd, b.cost_usd);
  EXPECT_EQ(a.latency_ms, b.latency_ms);
  EXPECT_EQ(a.ttft_ms, b.ttft_ms);
  EXPECT_EQ(a.overhead_ms, b.overhead_ms);
  EXPECT_EQ(a.cache_hit, b.cache_hit);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.metadata.dump(), b.metadata.dump());
}

class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("tollgate-ledger-" + std::string(info ? info->name() : "x") + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace tollgate::testing
