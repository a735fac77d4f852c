// TLS on both sides: the HTTPS listener, and upstream certificate
// verification (an untrusted upstream certificate is refused).
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "server/gateway_fixture.h"
#include "support/self_signed.h"

namespace tollgate::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// One HTTPS GET, trusting `ca_file` (verification on, host name checked).
std::pair<int, std::string> https_get(uint16_t port, const std::string& target, const std::string& ca_file) {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {res.result_int(), res.body()};
}

TEST_F(GatewayTest, ServesHttpsWithTheConfiguredCertificate) {
  auto cert = make_self_signed_cert();
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1, tls: {cert_file: ")" + cert.cert_file + R"(", key_file: ")" + cert.key_file + R"("}}
logging: {level: warn}
providers: [{name: m, type: mock}]
models: [{name: chat, deployments: [{provider: m, model: mock-gpt}]}]
)");
  auto [status, body] = https_get(port, "/v1/models", cert.cert_file);
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("\"chat\""), std::string::npos);
}

TEST_F(GatewayTest, RefusesAnUpstreamWithAnUntrustedCertificate) {
  // An HTTPS "upstream": a second gateway with a self-signed certificate.
  auto cert = make_self_signed_cert();
  auto loaded = load_config_string(R"(
server: {listen: "127.0.0.1:0", threads: 1, tls: {cert_file: ")" + cert.cert_file + R"(", key_file: ")" + cert.key_file + R"("}}
logging: {level: warn}
providers: [{name: m, type: mock}]
models: [{name: upstream-model, deployments: [{provider: m, model: mock-gpt}]}]
)");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  Gateway tls_upstream(loaded.config);
  uint16_t tls_port = tls_upstream.start();

  start(R"(
server: {listen: "127.0.0.1:0", threads: 1}
logging: {level: warn}
providers: [{name: up, type: openai_compatible, base_url: "https://127.0.0.1:)" + std::to_string(tls_port) + R"(/v1", api_key: "k"}]
models: [{name: chat, deployments: [{provider: up, model: upstream-model}]}]
router: {retries: 0}
)");
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(res.json()["error"]["code"], "upstream_tls_error");
  tls_upstream.shutdown();
}

}  // namespace
}  // namespace tollgate::test
