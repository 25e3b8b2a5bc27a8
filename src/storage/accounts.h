// Accounts of the platform's users: API keys (stored hashed, rotatable, revocable) and the audit
// trail of what officers and administrators changed. Same contract as Store: each call is atomic
// and durable when it returns OK.
// Thread safety: an implementation serialises its own calls; safe from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kuajing::storage {

struct ApiKey {
  std::string id;           // public part of the key, e.g. "a1b2c3d4e5f60718"
  std::string enterprise;   // the enterprise code it acts for ("" for officer/admin keys)
  std::string role;         // "enterprise", "officer" or "admin"
  std::string secret_hash;  // SHA-256 of the secret part, hex; the secret itself is never stored
  int64_t created_ms = 0;
  int64_t revoked_ms = 0;  // 0 while valid
};

struct AuditEntry {
  int64_t id = 0;
  int64_t at_ms = 0;
  std::string who;   // key id and role, e.g. "admin:a1b2c3d4"
  std::string what;  // e.g. "key.create", "inventory.release"
  std::string detail;
};

// Where an enterprise wants its receipts pushed. The webhook follows the enterprise's receipt feed:
// `cursor` is the last receipt id delivered (or given up on), so nothing is missed or sent twice
// once acknowledged, across restarts.
struct Webhook {
  std::string enterprise;
  std::string url;     // http://host:port/path
  std::string secret;  // HMAC-SHA256 key of the signature header
  int64_t cursor = 0;
  int attempts = 0;  // failed attempts at the receipt after the cursor
  int64_t next_attempt_ms = 0;
  std::string last_error;
};

// A receipt the webhook gave up on after its attempts; still readable in the feed.
struct DeadLetter {
  int64_t id = 0;
  std::string enterprise;
  int64_t receipt_id = 0;
  int attempts = 0;
  std::string last_error;
  int64_t at_ms = 0;
};

// A registration change made over the API, replayed over the CSV reference data at start.
struct ReferenceChange {
  int64_t id = 0;
  std::string kind;   // "enterprise" or "goods"
  std::string key;    // code or hs8
  std::string value;  // a CSV row in the file's column order; empty = removed
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // Stores a new key and its audit entry in one transaction.
  virtual Status CreateKey(const ApiKey& key, const AuditEntry& audit) = 0;
  virtual StatusOr<std::optional<ApiKey>> FindKey(std::string_view id) = 0;
  // Marks the key revoked (NotFound if there is none; a second revocation is a no-op).
  virtual Status RevokeKey(std::string_view id, const AuditEntry& audit) = 0;
  virtual StatusOr<std::vector<ApiKey>> Keys() = 0;
  virtual Status Audit(const AuditEntry& entry) = 0;
  // Audit entries with id > after_id, oldest first, at most `limit`.
  virtual StatusOr<std::vector<AuditEntry>> AuditLog(int64_t after_id, int limit) = 0;

  // Registers or replaces an enterprise's webhook (with its audit entry).
  virtual Status PutWebhook(const Webhook& hook, const AuditEntry& audit) = 0;
  virtual Status DeleteWebhook(std::string_view enterprise, const AuditEntry& audit) = 0;
  virtual StatusOr<std::vector<Webhook>> Webhooks() = 0;
  // Records delivery progress: the new cursor and the retry state. Applies only while the stored
  // webhook is the registration `hook` was read from (same enterprise and secret; every PUT draws
  // a new secret); otherwise it changes nothing and returns Ok.
  virtual Status UpdateWebhook(const Webhook& hook) = 0;
  // Gives up on a receipt: a dead letter, and the cursor moves past it, in one transaction. The
  // dead letter is kept even if the webhook was put again meanwhile (the cursor is then not
  // moved, as in UpdateWebhook).
  virtual Status AddDeadLetter(const DeadLetter& letter, const Webhook& hook) = 0;
  virtual StatusOr<std::vector<DeadLetter>> DeadLetters(std::string_view enterprise,
                                                        int64_t after_id, int limit) = 0;

  // Appends a registration change (with its audit entry); all of them, oldest first.
  virtual Status AddReferenceChange(const ReferenceChange& change, const AuditEntry& audit) = 0;
  virtual StatusOr<std::vector<ReferenceChange>> ReferenceChanges() = 0;
};

// Opens the accounts in DIR/kuajing.db (its own connection to the platform's database).
StatusOr<std::unique_ptr<AccountStore>> OpenSqliteAccounts(const std::string& dir);

}  // namespace kuajing::storage
