// A small HTTP/1.1 server on Boost.Beast: keep-alive, limits on everything a client sends, and a
// graceful stop that lets requests in flight finish.
//
// Each request goes to Handler::Handle with a Reply callback that must be called exactly once,
// now or later (long polls answer later), from any thread. A connection reads its next request
// only after the reply to the previous one is written.
// Thread safety: Start/Stop/Wait from one controlling thread; Handle runs on the I/O threads.
#pragma once

#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace kuajing::server {

namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

struct Request {
  http::request<http::string_body> message;
  std::string remote_ip;
};

using Reply = std::function<void(Response)>;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void Handle(Request request, Reply reply) = 0;
};

struct ServerLimits {
  size_t max_body_bytes = (8 << 20) + (64 << 10);  // one message at the codec's limit, with room
  size_t max_header_bytes = 16 << 10;
  int max_connections = 1024;
  std::chrono::seconds idle_timeout{75};  // a keep-alive connection with no request is closed
  std::chrono::seconds read_timeout{30};  // to read a whole request once it has begun
};

struct ServerCounters {
  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> requests_too_large{0};
  std::atomic<uint64_t> requests_in_flight{0};
};

class HttpServer {
 public:
  HttpServer(Handler* handler, ServerLimits limits, int threads);
  ~HttpServer();

  // Binds host:port (port 0 picks a free one) and starts the I/O threads.
  Status Start(const std::string& host, uint16_t port);
  uint16_t port() const;
  // Stops accepting, lets requests in flight finish (at most `drain`), closes the connections and
  // joins the threads. Safe to call twice.
  void Stop(std::chrono::milliseconds drain = std::chrono::seconds(10));
  // Blocks until SIGINT or SIGTERM (the caller then answers its long polls and calls Stop()).
  static void WaitForSignal();

  const ServerCounters& counters() const;

  struct Impl;  // public only so the connection class in the .cc can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// A response with a body and the usual headers.
Response MakeResponse(http::status status, std::string body, const std::string& content_type,
                      unsigned version = 11, bool keep_alive = true);

// Appends the status line and the fields of `r`, and the empty line after them: the bytes Beast's
// serializer writes before the body. The server writes its answers with it.
void AppendResponseHead(std::string& out, const Response& r);

// True if the request's Prefer fields ask for `return=minimal` (RFC 7240, 4.2: the client will not
// read the representation, only the status). Preference names are case-insensitive, a value may
// be a token or a quoted string, parameters after ';' are ignored, and of a preference given more
// than once only the first counts (RFC 7240, 2), across several Prefer fields too.
bool PrefersMinimalReturn(const http::fields& fields);

}  // namespace kuajing::server
