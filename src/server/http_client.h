// The enterprise side of the API for the command-line clients (loadgen, simulate): one keep-alive
// connection that posts CEB messages and reads the answers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>

namespace kuajing::server {

class MessageClient {
 public:
  // Connects to host:port (throws boost::system::system_error if it cannot).
  MessageClient(const std::string& host, const std::string& port)
      : resolver_(ioc_), stream_(ioc_), host_(host) {
    stream_.connect(resolver_.resolve(host, port));
    // Beast reads as much as the buffer has room for, and at least 512 bytes: with the default
    // (empty) buffer an answer of 100 documents' receipts (~170 KB) took ~280 reads of 512 bytes,
    // and those system calls were a sixth of the machine's CPU under loadgen (bench/README.md).
    buffer_.reserve(kReadBytes);
  }

  // Sends `Prefer: return=minimal` with every message from now on: the answers then carry the
  // receipts without their XML, but for refusals (docs/API.md, "Answers").
  void PreferMinimal(bool on) { minimal_ = on; }

  // POST /api/v1/messages with `key`; the answer, valid until the next Post (throws on a broken
  // connection). The answer's body is read into the previous answer's string: a fresh string
  // for every answer of 100 documents (~170 KB) was a fresh allocation whose pages the kernel
  // had to fault in, a third of the load generator's CPU (bench/README.md).
  const boost::beast::http::response<boost::beast::http::string_body>& Post(const std::string& key,
                                                                            std::string xml) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::verb::post, "/api/v1/messages", 11};
    req.set(http::field::host, host_);
    req.set(http::field::authorization, "Bearer " + key);
    req.set(http::field::content_type, "application/xml");
    if (minimal_) req.set(http::field::prefer, "return=minimal");
    req.keep_alive(true);
    req.body() = std::move(xml);
    req.prepare_payload();
    http::write(stream_, req);
    // A new answer (no fields of the last one) around the last one's string, emptied.
    http::response<http::string_body> fresh;
    fresh.body() = std::move(answer_.body());
    fresh.body().clear();
    http::response_parser<http::string_body> parser(std::move(fresh));
    parser.body_limit(256 << 20);
    http::read(stream_, buffer_, parser);
    answer_ = parser.release();
    return answer_;
  }

 private:
  static constexpr size_t kReadBytes = size_t{64} << 10;  // Beast reads at most this at once

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::response<boost::beast::http::string_body> answer_;
  std::string host_;
  bool minimal_ = false;
};

}  // namespace kuajing::server
