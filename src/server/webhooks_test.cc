#include "server/webhooks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

namespace kuajing::server {
namespace {

namespace fs = std::filesystem;
using storage::AccountStore;

// The accounts as stored, except that reading the webhooks fails while `failing` is set; counts
// the reads.
class FlakyAccounts final : public AccountStore {
 public:
  explicit FlakyAccounts(std::unique_ptr<AccountStore> real) : real_(std::move(real)) {}

  std::atomic<bool> failing{false};
  std::atomic<int> webhook_reads{0};

  StatusOr<std::vector<storage::Webhook>> Webhooks() override {
    ++webhook_reads;
    if (failing) return Unavailable("the accounts cannot be read (injected)");
    return real_->Webhooks();
  }

  Status CreateKey(const storage::ApiKey& k, const storage::AuditEntry& a) override {
    return real_->CreateKey(k, a);
  }
  StatusOr<std::optional<storage::ApiKey>> FindKey(std::string_view id) override {
    return real_->FindKey(id);
  }
  Status RevokeKey(std::string_view id, const storage::AuditEntry& a) override {
    return real_->RevokeKey(id, a);
  }
  StatusOr<std::vector<storage::ApiKey>> Keys() override { return real_->Keys(); }
  Status Audit(const storage::AuditEntry& e) override { return real_->Audit(e); }
  StatusOr<std::vector<storage::AuditEntry>> AuditLog(int64_t after, int limit) override {
    return real_->AuditLog(after, limit);
  }
  Status PutWebhook(const storage::Webhook& h, const storage::AuditEntry& a) override {
    return real_->PutWebhook(h, a);
  }
  Status DeleteWebhook(std::string_view enterprise, const storage::AuditEntry& a) override {
    return real_->DeleteWebhook(enterprise, a);
  }
  Status UpdateWebhook(const storage::Webhook& h) override { return real_->UpdateWebhook(h); }
  Status AddDeadLetter(const storage::DeadLetter& d, const storage::Webhook& h) override {
    return real_->AddDeadLetter(d, h);
  }
  StatusOr<std::vector<storage::DeadLetter>> DeadLetters(std::string_view enterprise, int64_t after,
                                                         int limit) override {
    return real_->DeadLetters(enterprise, after, limit);
  }
  Status AddReferenceChange(const storage::ReferenceChange& c,
                            const storage::AuditEntry& a) override {
    return real_->AddReferenceChange(c, a);
  }
  StatusOr<std::vector<storage::ReferenceChange>> ReferenceChanges() override {
    return real_->ReferenceChanges();
  }

 private:
  std::unique_ptr<AccountStore> real_;
};

// webhooks.cc, Loop: a read of the webhooks that fails is tried again on the next round (at most
// 100 ms later), not at once, which would spin and hammer the accounts; once a read succeeds, the
// webhooks are not read again until one is put or deleted.
TEST(WebhookDeliverer, AFailedReadOfTheWebhooksIsRetriedEachRoundNotAtOnce) {
  const fs::path dir = fs::temp_directory_path() / ("kj-webhooks-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto real = storage::OpenSqliteAccounts(dir.string());
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  FlakyAccounts accounts(std::move(*real));
  accounts.failing = true;
  std::atomic<int> feed_reads{0};
  {
    WebhookDeliverer deliverer(
        &accounts,
        [&](const std::string&, int64_t, int) -> StatusOr<std::vector<storage::StoredReceipt>> {
          ++feed_reads;
          return std::vector<storage::StoredReceipt>();
        },
        WebhookOptions{8, 1000, 60'000, 1000, [] { return int64_t{0}; }});
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    const int failed = accounts.webhook_reads;
    EXPECT_GE(failed, 2) << "the read was not tried again";
    EXPECT_LE(failed, 12) << "the read was retried without waiting for the next round";

    // Readable again: one more read, and none after it while nothing changes (a commit's Notify
    // finds no webhook and wakes nobody).
    accounts.failing = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int settled = accounts.webhook_reads;
    EXPECT_GT(settled, failed);
    for (int i = 0; i < 50; ++i) deliverer.Notify();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(accounts.webhook_reads, settled);

    // A change is read without waiting for the round's timeout.
    const auto asked = std::chrono::steady_clock::now();
    deliverer.WebhooksChanged();
    while (accounts.webhook_reads == settled &&
           std::chrono::steady_clock::now() - asked < std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(accounts.webhook_reads, settled + 1);
  }
  EXPECT_EQ(feed_reads, 0);  // no webhook: no feed was read
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kuajing::server
