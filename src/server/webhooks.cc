#include "server/webhooks.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <utility>

#include "common/thread_name.h"
#include "server/auth.h"

namespace kuajing::server {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

struct Url {
  std::string host, port, target;
};

std::optional<Url> ParseUrl(const std::string& url) {
  if (url.size() > 2000 || url.rfind("http://", 0) != 0) return std::nullopt;
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  u.host = authority.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (u.host.empty() || u.port.empty() || u.port.size() > 5 ||
      u.port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return u;
}

}  // namespace

Status WebhookDeliverer::CheckUrl(const std::string& url) {
  if (!ParseUrl(url)) {
    return InvalidArgument(
        "the webhook URL must be http://host[:port]/path (https is not supported yet)");
  }
  return Status::Ok();
}

WebhookDeliverer::WebhookDeliverer(storage::AccountStore* accounts, FeedReader feed,
                                   WebhookOptions options)
    : accounts_(accounts), feed_(std::move(feed)), options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

WebhookDeliverer::~WebhookDeliverer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WebhookDeliverer::Notify() {
  if (!any_hooks_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void WebhookDeliverer::WebhooksChanged() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reload_ = pending_ = true;
  }
  cv_.notify_all();
}

void WebhookDeliverer::Loop() {
  NameThisThread("kj-webhooks");
  std::vector<storage::Webhook> hooks;  // as last read, with the cursors moved since
  bool reread = false;                  // the webhooks changed and have not been read since
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // The timeout retries what backed off; without webhooks nothing needs waking but a change.
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [this] { return stopping_ || pending_ || reload_; });
    pending_ = false;
    reread |= std::exchange(reload_, false);
    lock.unlock();
    if (reread) {
      // A failed read is tried again next round (at most 100 ms on), not at once.
      auto read = accounts_->Webhooks();
      if (read.ok()) {
        hooks = std::move(*read);
        any_hooks_.store(!hooks.empty(), std::memory_order_relaxed);
        reread = false;
      }
    }
    bool worked = false;
    for (storage::Webhook& h : hooks) {
      // A few receipts per webhook per round, so one busy or broken receiver does not starve
      // others.
      for (int i = 0; i < 16 && DeliverOne(h); ++i) worked = true;
    }
    lock.lock();
    if (worked) pending_ = true;
  }
}

bool WebhookDeliverer::DeliverOne(storage::Webhook& hook) {
  const int64_t now = options_.clock();
  if (hook.next_attempt_ms > now) return false;
  auto page = feed_(hook.enterprise, hook.cursor, 1);
  if (!page.ok() || page->empty()) return false;
  const storage::StoredReceipt& r = (*page)[0];
  Status st = Post(hook, r);
  if (st.ok()) {
    hook.cursor = r.id;
    hook.attempts = 0;
    hook.next_attempt_ms = 0;
    hook.last_error.clear();
    ++delivered_;
    (void)accounts_->UpdateWebhook(hook);
    return true;
  }
  ++failed_;
  hook.attempts += 1;
  hook.last_error = st.message().substr(0, 500);
  if (hook.attempts >= options_.max_attempts) {
    storage::DeadLetter d{0, hook.enterprise, r.id, hook.attempts, hook.last_error, now};
    hook.cursor = r.id;
    hook.attempts = 0;
    hook.next_attempt_ms = 0;
    ++dead_;
    (void)accounts_->AddDeadLetter(d, hook);
    return true;
  }
  const int64_t backoff = std::min(options_.max_backoff_ms,
                                   options_.base_backoff_ms << std::min(hook.attempts - 1, 20));
  hook.next_attempt_ms = now + backoff;
  (void)accounts_->UpdateWebhook(hook);
  return false;
}

Status WebhookDeliverer::Post(const storage::Webhook& hook, const storage::StoredReceipt& r) {
  auto url = ParseUrl(hook.url);
  if (!url) return InvalidArgument("bad webhook URL " + hook.url);
  const std::string body = boost::json::serialize(boost::json::object{{"id", r.id},
                                                                      {"type", r.type},
                                                                      {"status", r.status},
                                                                      {"answers", r.answers_guid},
                                                                      {"xml", r.xml}});
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::milliseconds(options_.timeout_ms));
    stream.connect(resolver.resolve(url->host, url->port));
    http::request<http::string_body> req{http::verb::post, url->target, 11};
    req.set(http::field::host, url->host);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "kuajing-webhook");
    req.set("X-Kuajing-Signature", "sha256=" + HmacSha256Hex(hook.secret, body));
    req.set("X-Kuajing-Receipt-Id", std::to_string(r.id));
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignore;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignore);
    if (res.result_int() / 100 != 2)
      return Unavailable("the receiver answered HTTP " + std::to_string(res.result_int()));
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unavailable(std::string("delivery failed: ") + e.what());
  }
}

}  // namespace kuajing::server
