#pragma once
// Runs the real gateway in-process on 127.0.0.1:0 against fake upstreams.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <spdlog/spdlog.h>

#include "server/gateway.h"
#include "support/fake_upstream.h"
#include "support/test_client.h"
#include "tollgate/config_loader.h"

namespace tollgate::test {

class GatewayTest : public ::testing::Test {
 protected:
  // Starts a gateway from YAML. "{UPSTREAM}" is replaced by the fake's base URL.
  void start(std::string yaml) {
    spdlog::set_level(spdlog::level::warn);
    for (std::size_t p; (p = yaml.find("{UPSTREAM}")) != std::string::npos;) yaml.replace(p, 10, upstream.base_url() + "/v1");
    auto loaded = load_config_string(yaml);
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    config = loaded.config;
    GatewayOptions options;
    options.seed = 1;
    options.sleep = [this](std::chrono::milliseconds d) -> boost::asio::awaitable<void> {
      std::lock_guard lock(sleeps_mu);
      sleeps.push_back(d);
      co_return;
    };
    if (customize) customize(options);
    gateway = std::make_unique<Gateway>(config, options);
    port = gateway->start();
  }

  // A typical config: one openai_compatible provider on the fake upstream.
  static std::string basic_yaml(const std::string& extra = "") {
    return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: up, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "sk-provider-secret-1234"}
  - {name: local-mock, type: mock, mock: {chunks: 3}}
models:
  - name: chat
    deployments: [{provider: up, model: upstream-model}]
    price: {input_per_million: 1.0, output_per_million: 2.0}
  - name: backup
    deployments: [{provider: local-mock, model: mock-gpt}]
router: {retries: 2, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)" + extra;
  }

  static nlohmann::json chat_body(bool stream = false) {
    nlohmann::json b = {{"model", "chat"}, {"messages", nlohmann::json::array({{{"role", "user"}, {"content", "Hello"}}})}};
    if (stream) b["stream"] = true;
    return b;
  }

  std::vector<std::chrono::milliseconds> recorded_sleeps() {
    std::lock_guard lock(sleeps_mu);
    return sleeps;
  }

  void TearDown() override {
    if (gateway) gateway->shutdown();
  }

  // Set before start() to change the gateway's options (e.g. a provider decorator).
  std::function<void(GatewayOptions&)> customize;
  FakeUpstream upstream;
  std::shared_ptr<const Config> config;
  std::unique_ptr<Gateway> gateway;
  uint16_t port = 0;
  std::mutex sleeps_mu;
  std::vector<std::chrono::milliseconds> sleeps;
};

// An OpenAI chat.completion.chunk payload with one content delta.
inline std::string content_chunk(const std::string& text, const char* finish = nullptr) {
  nlohmann::json c = {{"id", "chatcmpl-up"}, {"object", "chat.completion.chunk"}, {"created", 1700000000}, {"model", "upstream-model"},
                      {"choices", nlohmann::json::array({{{"index", 0}, {"delta", {{"content", text}}},
                                                          {"finish_reason", finish ? nlohmann::json(finish) : nlohmann::json(nullptr)}}})}};
  return c.dump();
}

inline std::string usage_chunk(int prompt, int completion) {
  nlohmann::json c = {{"id", "chatcmpl-up"}, {"object", "chat.completion.chunk"}, {"created", 1700000000}, {"model", "upstream-model"},
                      {"choices", nlohmann::json::array()},
                      {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}}}};
  return c.dump();
}

inline nlohmann::json completion_json(const std::string& text) {
  return {{"id", "chatcmpl-up"}, {"object", "chat.completion"}, {"created", 1700000000}, {"model", "upstream-model"},
          {"choices", nlohmann::json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}}})},
          {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 500}, {"total_tokens", 1500}}}};
}

}  // namespace tollgate::test
