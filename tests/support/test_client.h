#pragma once
// A blocking HTTP/1.1 test client for talking to the in-process gateway, with
// timeouts on every operation so a broken server fails a test instead of
// hanging it.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tollgate::test {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  // The `data:` payloads of an SSE body, in order.
  std::vector<std::string> sse_data() const;
};

class TestClient {
 public:
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TestClient();

  // One request on the client's keep-alive connection (opened on demand).
  ClientResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                         const std::map<std::string, std::string>& headers = {});
  ClientResponse post_json(const std::string& target, const nlohmann::json& body,
                           const std::map<std::string, std::string>& headers = {});

  // Raw socket access for malformed-input tests.
  void send_raw(const std::string& bytes);
  // Reads until `marker` appears in what was received, or EOF/timeout.
  std::string read_until(const std::string& marker);
  // Reads until the server closes the connection (or timeout).
  std::string read_to_eof();
  void close();
  bool connected() const;
  // True when the last read_until/read_to_eof ended because the server
  // closed the connection (not because of the client's timeout).
  bool saw_eof() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::test
