// Pushes each enterprise's receipts to its registered webhook, in feed order, signed.
//
// Every POST carries one receipt as JSON and the headers
//   X-Kuajing-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>
//   X-Kuajing-Receipt-Id: <the receipt's feed id>
// A 2xx answer moves the webhook's cursor past the receipt. Anything else (or no answer within
// the timeout) is retried with exponential back-off; after `max_attempts` the receipt becomes a
// dead letter and delivery goes on with the next one. The cursor is stored, so a restart neither
// loses nor repeats an acknowledged receipt (delivery is at least once: a receiver deduplicates
// by receipt id).
// Thread safety: one delivery thread; Notify() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/accounts.h"
#include "storage/store.h"

namespace kuajing::server {

struct WebhookOptions {
  int max_attempts = 8;
  int64_t base_backoff_ms = 1000;       // 1 s, 2 s, 4 s ... capped
  int64_t max_backoff_ms = 5 * 60'000;  // 5 minutes
  int timeout_ms = 5000;
  std::function<int64_t()> clock;
};

// Reads an enterprise's feed (the caller's locking around the store goes in here).
using FeedReader = std::function<StatusOr<std::vector<storage::StoredReceipt>>(
    const std::string& enterprise, int64_t after, int limit)>;

class WebhookDeliverer {
 public:
  WebhookDeliverer(storage::AccountStore* accounts, FeedReader feed, WebhookOptions options);
  ~WebhookDeliverer();  // stops the thread

  void Notify();  // new receipts may be there
  // The webhooks were put or deleted: read them again before the next round. The deliverer
  // keeps the list it read (and the cursors it moves) between rounds, so a commit with no
  // webhook registered costs no query of the accounts.
  void WebhooksChanged();
  uint64_t delivered() const { return delivered_; }
  uint64_t failed_attempts() const { return failed_; }
  uint64_t dead_letters() const { return dead_; }

  // Validates a webhook URL: http://host[:port]/path, at most 2,000 characters.
  static Status CheckUrl(const std::string& url);

 private:
  void Loop();
  bool DeliverOne(storage::Webhook& hook);  // true if it did any work
  Status Post(const storage::Webhook& hook, const storage::StoredReceipt& receipt);

  storage::AccountStore* accounts_;
  FeedReader feed_;
  WebhookOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // protected by mu_
  bool pending_ = false;   // protected by mu_
  bool reload_ = true;     // protected by mu_: read the webhooks before the next round
  // Whether the last read found any: if not, Notify wakes nobody (a commit then costs nothing
  // here).
  std::atomic<bool> any_hooks_{true};
  std::atomic<uint64_t> delivered_{0}, failed_{0}, dead_{0};
  std::thread thread_;
};

}  // namespace kuajing::server
