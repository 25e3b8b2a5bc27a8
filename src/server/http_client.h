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

  // POST /api/v1/messages with `key`; the answer (throws on a broken connection).
  boost::beast::http::response<boost::beast::http::string_body> Post(const std::string& key,
                                                                     std::string xml) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::verb::post, "/api/v1/messages", 11};
    req.set(http::field::host, host_);
    req.set(http::field::authorization, "Bearer " + key);
    req.set(http::field::content_type, "application/xml");
    req.keep_alive(true);
    req.body() = std::move(xml);
    req.prepare_payload();
    http::write(stream_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 << 20);
    http::read(stream_, buffer_, parser);
    return parser.release();
  }

 private:
  static constexpr size_t kReadBytes = size_t{64} << 10;  // Beast reads at most this at once

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::string host_;
};

}  // namespace kuajing::server
