#pragma once
// Where a response goes. Implemented by the session (the only thing that
// touches the client socket); used by the router and providers. All calls come
// from the connection's thread. Methods return false once the client is gone.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace tollgate {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;

  // A complete (non-streaming) response.
  virtual boost::asio::awaitable<bool> send_response(int status, std::string body,
                                                     HeaderList headers) = 0;
  // Starts a 200 text/event-stream response; after this no status can change.
  virtual boost::asio::awaitable<bool> start_stream(HeaderList headers) = 0;
  // One SSE event `data: <payload>\n\n`, flushed at once.
  virtual boost::asio::awaitable<bool> send_event(std::string_view payload) = 0;
  // A named SSE event `event: <name>\ndata: <payload>\n\n` (Anthropic-style
  // streams), flushed at once.
  virtual boost::asio::awaitable<bool> send_named_event(std::string_view name, std::string_view payload) = 0;
  // An SSE comment, to keep idle connections and proxies alive.
  virtual boost::asio::awaitable<bool> send_comment(std::string_view text) = 0;
  // Ends the stream (terminating chunk).
  virtual boost::asio::awaitable<void> end_stream() = 0;

  // Completes when the client closes its connection; never completes while
  // it stays. Used to cancel upstream work at once when the client leaves.
  virtual boost::asio::awaitable<void> wait_client_gone() = 0;

  // True once any response byte has been committed to the client.
  virtual bool committed() const = 0;
  virtual bool client_gone() const = 0;
};

}  // namespace tollgate
