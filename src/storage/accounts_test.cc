#include "storage/accounts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test_util.h"

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

ApiKey Key(const std::string& id, const std::string& enterprise) {
  return ApiKey{id, enterprise, "enterprise", "hash-of-" + id, 1000, 0};
}

AuditEntry Audit(int64_t at_ms, const std::string& what, const std::string& detail) {
  return AuditEntry{0, at_ms, "admin:test", what, detail};
}

// FindKey answers from memory (accounts.cc): what it answers must follow every create and
// revocation at once, and match what a fresh open reads from the file.
TEST(SqliteAccounts, FindKeyFollowsCreateAndRevokeAndTheFile) {
  const kuajing::testing::ScopedTempDir temp("kj-accounts-");
  const fs::path& dir = temp.path();
  fs::create_directories(dir);  // the platform makes the folder before it opens the accounts
  {
    auto accounts = OpenSqliteAccounts(dir.string());
    ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
    AccountStore& a = **accounts;
    auto none = a.FindKey("a1a1a1a1a1a1a1a1");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());

    ASSERT_TRUE(
        a.CreateKey(Key("a1a1a1a1a1a1a1a1", "4304962001"), Audit(1000, "key.create", "a")).ok());
    ASSERT_TRUE(
        a.CreateKey(Key("b2b2b2b2b2b2b2b2", "4304962002"), Audit(1001, "key.create", "b")).ok());
    auto found = a.FindKey("a1a1a1a1a1a1a1a1");
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->enterprise, "4304962001");
    EXPECT_EQ((*found)->secret_hash, "hash-of-a1a1a1a1a1a1a1a1");
    EXPECT_EQ((*found)->revoked_ms, 0);

    // A key made twice is refused, and the first one stays as it was.
    EXPECT_FALSE(
        a.CreateKey(Key("a1a1a1a1a1a1a1a1", "4304969999"), Audit(1002, "key.create", "a")).ok());
    EXPECT_EQ((*a.FindKey("a1a1a1a1a1a1a1a1"))->enterprise, "4304962001");

    ASSERT_TRUE(a.RevokeKey("a1a1a1a1a1a1a1a1", Audit(5000, "key.revoke", "a")).ok());
    EXPECT_EQ((*a.FindKey("a1a1a1a1a1a1a1a1"))->revoked_ms, 5000);
    // Revoking again changes nothing; an unknown key is NotFound and changes nothing either.
    ASSERT_TRUE(a.RevokeKey("a1a1a1a1a1a1a1a1", Audit(6000, "key.revoke", "a")).ok());
    EXPECT_EQ((*a.FindKey("a1a1a1a1a1a1a1a1"))->revoked_ms, 5000);
    EXPECT_EQ(a.RevokeKey("c3c3c3c3c3c3c3c3", Audit(6001, "key.revoke", "c")).code(),
              StatusCode::kNotFound);
    EXPECT_FALSE(a.FindKey("c3c3c3c3c3c3c3c3")->has_value());
    EXPECT_EQ((*a.FindKey("b2b2b2b2b2b2b2b2"))->revoked_ms, 0);
  }
  auto reopened = OpenSqliteAccounts(dir.string());
  ASSERT_TRUE(reopened.ok());
  auto a = (*reopened)->FindKey("a1a1a1a1a1a1a1a1");
  auto b = (*reopened)->FindKey("b2b2b2b2b2b2b2b2");
  ASSERT_TRUE(a.ok() && a->has_value() && b.ok() && b->has_value());
  EXPECT_EQ((*a)->revoked_ms, 5000);
  EXPECT_EQ((*b)->revoked_ms, 0);
  EXPECT_EQ((*b)->enterprise, "4304962002");
  EXPECT_EQ((*reopened)->Keys()->size(), 2u);
}

// The deliverer updates the webhook it read while the API may put or delete it at the same time
// (server/webhooks.cc): progress made for one registration must never land on the next one.
TEST(SqliteAccounts, WebhookProgressLandsOnlyOnTheRegistrationItWasReadFrom) {
  const kuajing::testing::ScopedTempDir temp("kj-accounts-hooks-");
  const fs::path& dir = temp.path();
  fs::create_directories(dir);
  auto accounts = OpenSqliteAccounts(dir.string());
  ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
  AccountStore& a = **accounts;
  auto only_hook = [&a]() -> Webhook {
    auto hooks = a.Webhooks();
    EXPECT_TRUE(hooks.ok());
    EXPECT_EQ(hooks->size(), 1u);
    return hooks->empty() ? Webhook{} : hooks->front();
  };
  const std::string ent = "4304962001";
  ASSERT_TRUE(a.PutWebhook(Webhook{ent, "http://a/1", "secret-1", 10, 0, 0, ""},
                           Audit(1000, "webhook.put", "1"))
                  .ok());
  Webhook first = only_hook();
  first.cursor = 11;
  ASSERT_TRUE(a.UpdateWebhook(first).ok());
  EXPECT_EQ(only_hook().cursor, 11);

  // Deleted and put again (starting at receipt 50) while a delivery of the first was in flight:
  // the late update of the first changes nothing.
  ASSERT_TRUE(a.DeleteWebhook(ent, Audit(1001, "webhook.delete", "")).ok());
  ASSERT_TRUE(a.PutWebhook(Webhook{ent, "http://a/2", "secret-2", 50, 0, 0, ""},
                           Audit(1002, "webhook.put", "2"))
                  .ok());
  first.cursor = 12;
  first.attempts = 3;
  first.next_attempt_ms = 99'000;
  first.last_error = "refused";
  ASSERT_TRUE(a.UpdateWebhook(first).ok());
  Webhook second = only_hook();
  EXPECT_EQ(second.url, "http://a/2");
  EXPECT_EQ(second.cursor, 50);
  EXPECT_EQ(second.attempts, 0);
  EXPECT_EQ(second.next_attempt_ms, 0);
  EXPECT_EQ(second.last_error, "");

  // Put again over it (a new URL keeps the stored position): the second registration's late
  // dead letter is kept, its cursor move is not.
  ASSERT_TRUE(a.PutWebhook(Webhook{ent, "http://a/3", "secret-3", 0, 0, 0, ""},
                           Audit(1003, "webhook.put", "3"))
                  .ok());
  second.cursor = 51;
  ASSERT_TRUE(a.AddDeadLetter(DeadLetter{0, ent, 51, 8, "timeout", 2000}, second).ok());
  Webhook third = only_hook();
  EXPECT_EQ(third.url, "http://a/3");
  EXPECT_EQ(third.cursor, 50);
  auto letters = a.DeadLetters(ent, 0, 10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].receipt_id, 51);

  // Its own registration's progress still lands.
  third.cursor = 52;
  ASSERT_TRUE(a.UpdateWebhook(third).ok());
  EXPECT_EQ(only_hook().cursor, 52);
}

}  // namespace
}  // namespace kuajing::storage
