#pragma once
// A scriptable fake provider: a real HTTP/1.1 server on 127.0.0.1:<random
// port>, running its own io_context on its own thread, for integration tests
// of the gateway's upstream client (pooling, streaming, timeouts, resets,
// garbage responses, client-disconnect propagation).
//
//   tollgate::test::FakeUpstream upstream;
//   auto gate = tollgate::test::Gate::make();
//   upstream.enqueue(FakeResponse::chunked().sse_data(R"({"x":1})").wait(gate).sse_data("[DONE]"));
//   ... point the gateway at upstream.base_url(), send a request ...
//   ASSERT_TRUE(gate->wait_for_waiters(1));   // the first event is on the wire
//   ... check what the gateway's client saw so far ...
//   gate->open();                             // release the rest
//
// Tests never sleep: they open gates and wait (bounded, condition-variable
// based) for the server to reach a point.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tollgate::test {

inline constexpr std::chrono::milliseconds kDefaultWait{5000};

// A one-shot latch a test opens to release server-side steps. The server's
// coroutines wait on it without blocking the io_context. Thread-safe; shared
// between the test and any number of scripted responses.
class Gate {
 public:
  static std::shared_ptr<Gate> make() { return std::make_shared<Gate>(); }

  // Opens the gate (idempotent) and wakes every waiting connection.
  void open();
  bool is_open() const;

  // Number of times a connection has reached this gate (waits that found it
  // already open count too). Cumulative.
  std::size_t arrivals() const;
  // Blocks until arrivals() >= n or the timeout passes; true if reached.
  // Use it to know that the server is now parked at this gate.
  bool wait_for_waiters(std::size_t n = 1, std::chrono::milliseconds timeout = kDefaultWait) const;

  // For the server: records an arrival and registers `wake`, which open()
  // calls (under the gate's lock, so it must only post). Returns 0 if the
  // gate is already open (nothing registered), else an id for remove_waiter().
  std::uint64_t add_waiter(std::function<void()> wake);
  void remove_waiter(std::uint64_t id);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool open_ = false;
  std::size_t arrivals_ = 0;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::function<void()>> waiters_;
};

struct FakeStep {
  enum class Kind {
    kSend,     // write `bytes`: one chunk (chunked), body bytes (content-length) or raw bytes
    kWait,     // park until `gate` opens (a null gate never opens: until the server stops)
    kHeaders,  // write the status line and headers now (no-op if already written)
    kClose,    // close the connection (FIN) now, mid-body if the body is unfinished
    kReset,    // abort the connection with a TCP RST (SO_LINGER 0) now
  };
  Kind kind = Kind::kSend;
  std::string bytes;
  std::shared_ptr<Gate> gate;
};

// One scripted response. The status line and headers are written lazily: at
// the first kSend or kHeaders step, or when the script ends. So a kWait before
// any send holds the whole response (first-byte timeout tests), and a kWait
// after a send stalls mid-body (idle timeout tests). Each kSend is its own
// socket write.
struct FakeResponse {
  enum class Framing {
    kContentLength,  // Content-Length = declared_length or the sum of all kSend bytes
    kChunked,        // Transfer-Encoding: chunked; each kSend is one chunk; "0\r\n\r\n" at the end
    kRaw,            // no status line or headers: kSend bytes go to the socket as-is
  };

  int status = 200;
  Framing framing = Framing::kContentLength;
  std::vector<std::pair<std::string, std::string>> headers;  // written in this order
  std::optional<std::size_t> declared_length;                // lie about Content-Length
  std::vector<FakeStep> steps;

  // Content-Length response with a JSON body and content-type application/json.
  static FakeResponse json(int status, const nlohmann::json& body);
  // Content-Length response with an arbitrary body.
  static FakeResponse text(int status, std::string body,
                           std::string content_type = "text/plain");
  // Chunked text/event-stream response: one chunk "data: <payload>\n\n" per
  // payload, then (if `done`) "data: [DONE]\n\n".
  static FakeResponse sse(const std::vector<std::string>& data_payloads, bool done = true);
  // Chunked response with no steps yet; append them with the builders.
  static FakeResponse chunked(int status = 200, std::string content_type = "text/event-stream");
  // Raw bytes written verbatim, then the connection is closed.
  static FakeResponse raw(std::string bytes = {});
  // Accepts the request and sends nothing until `gate` opens (never, if null:
  // until the server stops); then closes the connection without a response.
  static FakeResponse hang(std::shared_ptr<Gate> gate = nullptr);

  // Builders; each appends (or, for hold_until, prepends) and returns *this.
  FakeResponse& header(std::string name, std::string value);
  FakeResponse& send(std::string bytes);
  FakeResponse& sse_data(std::string_view payload);  // send("data: " + payload + "\n\n")
  FakeResponse& wait(std::shared_ptr<Gate> gate);
  FakeResponse& flush_headers();
  FakeResponse& close();
  FakeResponse& reset();
  FakeResponse& hold_until(std::shared_ptr<Gate> gate);  // a wait before everything else
  FakeResponse& declare_content_length(std::size_t n);
};

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-cased names; repeats joined by ", "
  std::string body;
  std::size_t connection = 0;  // 1-based id of the connection it arrived on

  // Case-insensitive header lookup; empty string if absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The body parsed as JSON; throws nlohmann::json::parse_error if it is not.
  nlohmann::json json() const;
};

// Serves scripted responses until destroyed. All public members are
// thread-safe. Each request pops the next enqueued response (FIFO); when the
// queue is empty the default response is used: 500 with an OpenAI-shaped
// error "fake upstream: no scripted response", unless changed.
//
// Connections are kept alive between requests unless the request or the
// scripted response says "Connection: close", or the script is raw or ends
// with close/reset. While a response is being written the server also reads
// the socket, so a client that disconnects mid-response is noticed at once:
// the script is abandoned (even while parked at a gate), the connection is
// closed, and aborted_response_count() increments.
class FakeUpstream {
 public:
  // Binds 127.0.0.1:0 and starts serving before returning.
  FakeUpstream();
  // Stops: closes the listener and every connection (held gates included)
  // and joins the thread. Never waits for a gate.
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  void enqueue(FakeResponse response);
  void set_default_response(FakeResponse response);
  std::size_t pending_responses() const;  // enqueued and not yet used

  std::vector<RecordedRequest> requests() const;  // copy, in arrival order
  std::size_t request_count() const;
  std::size_t connection_count() const;         // TCP connections accepted so far
  std::size_t closed_connection_count() const;  // connections finished, for any reason
  // Responses cut short by the client going away (EOF or error while the
  // script was parked or writing). It moves together with
  // closed_connection_count(), after the server closed that connection.
  std::size_t aborted_response_count() const;

  // Bounded waits (condition variable, no polling). True if reached in time.
  using Timeout = std::chrono::milliseconds;
  bool wait_for_requests(std::size_t n, Timeout timeout = kDefaultWait) const;
  bool wait_for_connections(std::size_t n, Timeout timeout = kDefaultWait) const;
  bool wait_for_closed_connections(std::size_t n, Timeout timeout = kDefaultWait) const;
  bool wait_for_aborted_responses(std::size_t n, Timeout timeout = kDefaultWait) const;

  // Same as the destructor; idempotent. Recorded requests stay readable.
  // Call from a test thread, never from inside the server's own thread.
  void stop();


 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::test
