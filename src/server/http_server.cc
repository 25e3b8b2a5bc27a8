#include "server/http_server.h"

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/thread_name.h"

namespace kuajing::server {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Response MakeResponse(http::status status, std::string body, const std::string& content_type,
                      unsigned version, bool keep_alive) {
  Response r{status, version};
  r.set(http::field::server, "kuajing");
  r.set(http::field::content_type, content_type);
  r.keep_alive(keep_alive);
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

void AppendResponseHead(std::string& out, const Response& r) {
  const unsigned version = r.version();
  const auto reason = r.reason();
  const auto status = static_cast<unsigned>(r.result_int());
  char line[] = "HTTP/1.1 200 ";  // version and status written over (RFC 9112, 4)
  line[5] = static_cast<char>('0' + version / 10 % 10);
  line[7] = static_cast<char>('0' + version % 10);
  line[9] = static_cast<char>('0' + status / 100 % 10);
  line[10] = static_cast<char>('0' + status / 10 % 10);
  line[11] = static_cast<char>('0' + status % 10);
  out.append(line, sizeof line - 1);
  out.append(reason.data(), reason.size()).append("\r\n");
  for (const auto& field : r.base()) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size()).append(": ").append(value.data(), value.size());
    out.append("\r\n");
  }
  out.append("\r\n");
}

namespace {

// A request's body as a string, read as Beast's string_body reads it but appended, where
// string_body's reader grows the string with resize() and so zero-fills every byte before copying
// it in (4 % of the I/O threads' instructions at 100 documents per message; bench/README.md).
// Only the reading half: the parsed request becomes an http::request<http::string_body>.
struct AppendedStringBody {
  using value_type = std::string;
  static uint64_t size(const value_type& body) { return body.size(); }
  class reader {
   public:
    template <bool kIsRequest, class Fields>
    reader(http::header<kIsRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<uint64_t>& length, beast::error_code& ec) {
      // The parser has checked a Content-Length against its body limit already.
      if (length) body_.reserve(static_cast<size_t>(*length));
      ec = {};
    }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        body_.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      ec = {};
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace

class Session;

struct HttpServer::Impl {
  Handler* handler;
  ServerLimits limits;
  int threads;
  asio::io_context ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> pool;
  ServerCounters counters;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable drained;
  std::vector<std::weak_ptr<Session>> sessions;  // protected by mu

  void Accept();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : open_{&server->counters.connections_open}, stream_(std::move(socket)), server_(server) {}

  void Start() {
    boost::system::error_code ec;
    // Each answer is one gathered write (Write): nothing for Nagle's algorithm to coalesce, and
    // with it on, a short last segment of a large answer could wait up to 40 ms for the client's
    // delayed acknowledgement of the one before (HttpServer.LargeAnswersAreNotHeldBack).
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto ep = stream_.socket().remote_endpoint(ec);
    remote_ip_ = ec ? "" : ep.address().to_string();
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Closes the connection if it is idle (between requests); a request in flight finishes first.
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) {
        boost::system::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

  // Closes the connection whatever it is doing (the server is stopping and the drain is over).
  void CloseNow() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void Read() {
    if (server_->stopping) return Close();
    parser_.emplace();
    // Beast reads at most the buffer's free capacity per receive (512 bytes at first): a 250 KB
    // message of 100 documents took ~120 receive calls and as many timer updates, each a costly
    // system call on these machines. 64 KiB of room per connection (64 MiB at the 1,024
    // connections limit) makes it four (bench/README.md "Where the time goes").
    if (buffer_.capacity() < kReadRoom) buffer_.reserve(kReadRoom);
    parser_->body_limit(server_->limits.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->limits.max_header_bytes));
    stream_.expires_after(first_request_ ? server_->limits.read_timeout
                                         : server_->limits.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    first_request_ = false;
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      ++server_->counters.requests_too_large;
      const bool body = ec == http::error::body_limit;
      return Write(MakeResponse(
          body ? http::status::payload_too_large : http::status::request_header_fields_too_large,
          std::string("{\"error\":\"") +
              (body ? "the body is over " + std::to_string(server_->limits.max_body_bytes) +
                          " bytes: split the message (at most 100 documents per message)"
                    : "the headers are over " + std::to_string(server_->limits.max_header_bytes) +
                          " bytes") +
              "\"}\n",
          "application/json", 11, false));
    }
    if (ec)
      return Close();  // closed by the peer, timeout, or a malformed request: nothing to answer
    ++server_->counters.requests;
    ++server_->counters.requests_in_flight;
    busy_ = true;
    auto parsed = parser_->release();
    Request req{
        http::request<http::string_body>(std::move(parsed.base()), std::move(parsed.body())),
        remote_ip_};
    const bool keep_alive = req.message.keep_alive();
    const unsigned version = req.message.version();
    auto self = shared_from_this();
    server_->handler->Handle(std::move(req), [self, keep_alive, version](Response r) {
      r.version(version);
      r.keep_alive(keep_alive && r.keep_alive() && !self->server_->stopping);
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  // The response's head is written into a string of its own and sent with the body in one
  // gathered write: Beast's serializer walked nested views of the head's and the body's buffers,
  // about 17 K instructions per response, a seventh of the I/O threads' work with one document
  // per message (bench/README.md). The bytes are the serializer's (http_server_test).
  void Write(Response r) {
    struct Out {
      std::string head, body;
      bool keep_alive;
    };
    auto out = std::make_shared<Out>();
    out->head.reserve(256);
    AppendResponseHead(out->head, r);
    out->body = std::move(r.body());
    out->keep_alive = r.keep_alive();
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(out->head),
                                                       asio::buffer(out->body)};
    stream_.expires_after(server_->limits.read_timeout);
    // All of it in each call while the socket takes it, as Beast's serializer wrote: asio's
    // transfer_all hands the socket at most 64 KiB a call, and each call of a large answer ended
    // in a short segment (three calls for the 170 KB answer of 100 documents' receipts).
    const auto all = [](const boost::system::error_code& ec, size_t) -> size_t {
      return ec ? 0 : std::numeric_limits<size_t>::max();
    };
    asio::async_write(stream_, buffers, all,
                      [self = shared_from_this(), out](beast::error_code ec, size_t) {
                        if (self->busy_) {
                          self->busy_ = false;
                          if (--self->server_->counters.requests_in_flight == 0)
                            self->server_->drained.notify_all();
                        }
                        if (ec || !out->keep_alive) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // Declared first so that it is destroyed last: the count drops only once the socket is closed,
  // and Stop() waits for it before the I/O context goes away.
  struct OpenCount {
    std::atomic<uint64_t>* n;
    ~OpenCount() { --*n; }
  } open_;
  beast::tcp_stream stream_;
  static constexpr size_t kReadRoom = 64 * 1024;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<AppendedStringBody>> parser_;
  HttpServer::Impl* server_;
  std::string remote_ip_;
  bool busy_ = false;
  bool first_request_ = true;
};

void HttpServer::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopping) Accept();
      return;
    }
    if (counters.connections_open >= static_cast<uint64_t>(limits.max_connections)) {
      // Over the limit: answer 503 at once and close, so the client knows to back off.
      ++counters.connections_refused;
      auto res = std::make_shared<Response>(MakeResponse(
          http::status::service_unavailable, "{\"error\":\"too many connections; retry later\"}\n",
          "application/json", 11, false));
      res->set(http::field::retry_after, "1");
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      http::async_write(*s, *res, [s, res](beast::error_code, size_t) {
        boost::system::error_code ignore;
        s->shutdown(tcp::socket::shutdown_both, ignore);
      });
    } else {
      ++counters.connections_open;
      auto session = std::make_shared<Session>(std::move(socket), this);
      {
        std::lock_guard<std::mutex> lock(mu);
        std::erase_if(sessions, [](const auto& w) { return w.expired(); });
        sessions.push_back(session);
      }
      session->Start();
    }
    if (!stopping) Accept();
  });
}

HttpServer::HttpServer(Handler* handler, ServerLimits limits, int threads)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = handler;
  impl_->limits = limits;
  impl_->threads = std::max(1, threads);
}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Status HttpServer::Start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("not an IP address: " + host);
  auto acc = std::make_unique<tcp::acceptor>(impl_->ioc);
  tcp::endpoint ep(address, port);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                       ec.message());
  impl_->acceptor = std::move(acc);
  impl_->Accept();
  for (int i = 0; i < impl_->threads; ++i)
    impl_->pool.emplace_back([this] {
      NameThisThread("kj-http");
      impl_->ioc.run();
    });
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  return impl_->acceptor ? impl_->acceptor->local_endpoint().port() : 0;
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  if (impl_->pool.empty()) return;
  impl_->stopping = true;
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    for (auto& w : impl_->sessions) {
      if (auto s = w.lock()) s->CloseIfIdle();
    }
    impl_->drained.wait_for(lock, drain,
                            [this] { return impl_->counters.requests_in_flight == 0; });
    for (auto& w : impl_->sessions) {
      if (auto s = w.lock()) s->CloseNow();
    }
  }
  // A handler may hold a connection for an instant after it has answered (the intake writer drops
  // its copy of the answer callback after posting the answer). The sessions live in the I/O
  // context and touch this server when they die, so the I/O threads keep running until the last
  // one is gone; bounded, for a handler that never answers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (impl_->counters.connections_open > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->pool) t.join();
  impl_->pool.clear();
}

void HttpServer::WaitForSignal() {
  asio::io_context sig_ctx;
  asio::signal_set signals(sig_ctx, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});
  sig_ctx.run();
}

const ServerCounters& HttpServer::counters() const { return impl_->counters; }

bool PrefersMinimalReturn(const http::fields& fields) {
  const auto ows = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  // In the order received: Beast's range runs through the fields from the first Prefer to the
  // last, others between them included.
  const auto [first, last] = fields.equal_range(http::field::prefer);
  for (auto it = first; it != last; ++it) {
    if (it->name() != http::field::prefer) continue;
    const std::string_view value = it->value();
    // Each preference up to a comma outside a quoted string (RFC 9110, 5.6.1 and 5.6.4).
    size_t begin = 0;
    while (begin <= value.size()) {
      size_t end = begin;
      bool quoted = false;
      for (; end < value.size() && (quoted || value[end] != ','); ++end) {
        if (value[end] == '\\' && quoted) {
          ++end;
        } else if (value[end] == '"') {
          quoted = !quoted;
        }
      }
      end = std::min(end, value.size());
      std::string_view pref = value.substr(begin, end - begin);
      pref = pref.substr(0, pref.find(';'));  // its parameters
      const size_t eq = pref.find('=');
      if (boost::beast::iequals(ows(pref.substr(0, eq)), "return")) {  // the first "return" decides
        std::string_view word = eq == std::string_view::npos ? "" : ows(pref.substr(eq + 1));
        if (word.size() >= 2 && word.front() == '"' && word.back() == '"') {
          word = word.substr(1, word.size() - 2);
        }
        return boost::beast::iequals(word, "minimal");
      }
      begin = end + 1;
    }
  }
  return false;
}

}  // namespace kuajing::server
