#pragma once
// Maps a request to the handler of its route: the gateway's own replies
// (health, metrics: no auth), model listing, count_tokens, the admin API
// and the LLM routes. The middleware chain decides first; it authenticates,
// then parses the body once (BodyParser: server.max_json_depth) and, for the
// Anthropic-compatible routes, translates it into the chat shape. Every
// answer goes to the ResponseSink it is given (through the Anthropic
// translating sink on /v1/messages); the dispatcher never touches a socket.
//
// One per worker; used from the worker's thread only.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/request_lifecycle.h"
#include "tollgate/response_sink.h"

namespace tollgate {

class Worker;
struct Route;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

class Dispatcher {
 public:
  explicit Dispatcher(Worker& worker) : worker_(worker) {}

  // Serves `http` (its body is moved out) for `request`, answering to `client`.
  boost::asio::awaitable<void> serve(RequestLifecycle& request, HttpRequest& http, ResponseSink& client) const;

 private:
  boost::asio::awaitable<void> serve_admin(RequestLifecycle& request, const HttpRequest& http, ResponseSink& out) const;
  boost::asio::awaitable<void> serve_llm(RequestLifecycle& request, ResponseSink& out) const;

  Worker& worker_;
};

}  // namespace tollgate
