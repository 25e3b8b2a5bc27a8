// The platform's HTTP API (/api/v1): intake, receipts (feed with long-polling, re-fetch), the
// consumer quota query, the officer's queue and decisions, API keys and the audit trail, health,
// status and metrics. The routes are listed in docs/API.md.
//
// One mutex serialises everything that touches the platform and its store (the engine is
// single-threaded and every commit is fsync'd anyway); long polls wait on a poller thread, not on
// the I/O threads.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/platform.h"
#include "common/histogram.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/webhooks.h"
#include "storage/accounts.h"

namespace kuajing::server {

struct ApiOptions {
  std::function<int64_t()> clock;        // milliseconds since the epoch
  int max_wait_seconds = 60;             // longest long poll
  int feed_page_limit = 500;             // most receipts per feed page
  double quota_queries_per_minute = 20;  // per client address, public quota query
  const HttpServer* server = nullptr;    // for its counters in /metrics
  WebhookOptions webhooks;               // its clock defaults to `clock`
  // Structured log: one JSON object per line (requests, decisions); null = no log.
  std::function<void(const std::string&)> log;
  // The web single window's built assets (web/dist): served at / when the folder exists.
  std::string web_dir;
};

// Replays the stored registration changes over the reference data loaded from CSV (at start).
Status ApplyReferenceChanges(storage::AccountStore& accounts, reference::ReferenceData& reference);

class Api final : public Handler {
 public:
  Api(app::Platform* platform, storage::AccountStore* accounts, ApiOptions options);
  ~Api() override;

  void Handle(Request request, Reply reply) override;
  // Every route as (METHOD, path pattern with {params}): what docs/openapi.json must describe.
  static std::vector<std::pair<std::string, std::string>> Routes();
  // Answers every waiting long poll now (before a shutdown).
  void ReleaseWaiters();
  // The server whose counters /metrics reports (set once, before it starts).
  void set_server(const HttpServer* server) { options_.server = server; }

 private:
  struct Waiter {
    std::string enterprise;
    int64_t after = 0;
    int limit = 0;
    std::chrono::steady_clock::time_point deadline;
    Reply reply;
  };
  // A message waiting for the writer thread, which prepares the messages that are waiting and
  // commits them together (group commit): one fsync for many requests.
  struct IntakeJob {
    std::string body;
    codec::DecodeResult decoded;  // read on the I/O thread, before the queue
    // The body as the store keeps it (storage::BlobCodec), packed on the I/O thread too, for a
    // message that decoded; format 0 if not packed.
    app::Platform::StoredRaw stored;
    Principal who;
    Reply reply;
    std::chrono::steady_clock::time_point arrived;
    // The sender asked for `Prefer: return=minimal`: receipts without their XML but refusals'.
    bool minimal = false;
  };

  // A group the writer committed, waiting for the flush to disk before its answers go out.
  struct SyncJob {
    std::vector<IntakeJob> jobs;
    std::vector<std::optional<StatusOr<app::Answer>>> results;
    int64_t last_receipt_id = 0;  // the store's last receipt once this group is committed
  };

  // May take `req`'s body (a message handed to the writer).
  Response Dispatch(Request& req, const Reply& reply, bool* deferred, std::string* who);
  void Intake(Request& req, const Principal& who, const Reply& reply);  // takes req's body
  void WriterLoop();
  void SyncerLoop();
  // The receipts `enterprise` may read after `after`, up to the last one flushed to disk (a
  // committed group's receipts are shown only once its flush returned).
  StatusOr<std::vector<storage::StoredReceipt>> DurableFeed(const std::string& enterprise,
                                                            int64_t after, int limit);
  void NoteDurable(int64_t receipt_id);
  Response IntakeResponse(const StatusOr<app::Answer>& answer, const IntakeJob& job);
  Response Feed(const Request& req, const Principal& who, const Reply& reply, bool* deferred);
  Response ReceiptsOf(const std::string& guid, const Principal& who);
  Response QuotaQuery(const Request& req);
  Response Held(const Principal& who);
  Response Decide(const Request& req, const Principal& who);
  Response Stats(const Request& req, const char* what);
  Response HeldDocuments(const std::string& invt_no);
  // The web assets, read once at start: path ("/index.html") -> content type and bytes.
  std::map<std::string, std::pair<std::string, std::string>> web_files_;
  void LoadWebFiles();
  Response CreditEnterprises(const Request& req, const Principal& who);
  Response CreditEnterprise(const std::string& code, const Principal& who);
  Response CreditBuyers(const Request& req);
  Response CreditCorrect(const Request& req, const Principal& who, const char* kind,
                         const std::string& subject);
  Response ExportSummaries(const Request& req, const Principal& who);
  Response ExportSummaryRun(const Request& req, const Principal& who);
  Response ExportDues(const Principal& who);
  Response ExportLedger(const Request& req, const Principal& who);
  Response CreateKey(const Request& req, const Principal& who);
  Response RevokeKey(const std::string& id, const Principal& who);
  Response ListKeys();
  Response AuditLog(const Request& req);
  Response PutWebhook(const Request& req, const Principal& who);
  Response GetWebhook(const Principal& who);
  Response DeleteWebhook(const Principal& who);
  Response DeadLetters(const Request& req, const Principal& who);
  Response Registry(const Request& req, const Principal& who, const std::string& path);
  Response StatusPage(bool metrics);
  void PollLoop();
  void AfterCommit();

  app::Platform* platform_;
  storage::AccountStore* accounts_;
  ApiOptions options_;
  const int64_t started_ms_;

  std::mutex platform_mu_;  // the platform and its store
  // The last receipt flushed to disk: the feed, long polls and webhooks show none after it.
  std::atomic<int64_t> last_receipt_id_{0};

  std::mutex waiters_mu_;
  std::condition_variable waiters_cv_;
  std::vector<Waiter> waiters_;  // protected by waiters_mu_
  // Whether waiters_ may be non-empty (written under waiters_mu_; read by AfterCommit without).
  std::atomic<bool> has_waiters_{false};
  bool stopping_ = false;  // protected by waiters_mu_
  std::thread poller_;

  std::mutex limiter_mu_;
  std::map<std::string, std::pair<double, int64_t>> buckets_;  // address -> tokens, last refill

  std::unique_ptr<WebhookDeliverer> webhooks_;  // after platform_mu_: it reads the feed under it

  std::mutex intake_mu_;
  std::condition_variable intake_cv_;
  std::vector<IntakeJob> intake_;  // protected by intake_mu_
  bool intake_stopping_ = false;   // protected by intake_mu_
  std::thread writer_;

  // Committed groups waiting for their flush (at most kMaxUnsynced: the writer waits beyond).
  static constexpr size_t kMaxUnsynced = 8;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<SyncJob> unsynced_;  // protected by sync_mu_
  bool sync_stopping_ = false;    // protected by sync_mu_
  std::thread syncer_;

  // Responses by HTTP status, counted without a lock or a string built: every answer passes here.
  std::array<std::atomic<uint64_t>, 600> responses_{};
  std::mutex metrics_mu_;
  std::map<std::string, uint64_t> counters_;  // metric line (name{labels}) -> value
  // A message's arrival to its durable receipts (kuajing_intake_seconds).
  static constexpr std::array<double, 12> kIntakeBounds = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                           0.1,   0.2,   0.5,   1,    2,    5};
  DurationHistogram intake_latency_{kIntakeBounds};
};

}  // namespace kuajing::server
