#include "storage/accounts.h"

#include <sqlite3.h>

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "storage/sqlite_stmt.h"

namespace kuajing::storage {

namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS api_keys(
  id TEXT PRIMARY KEY,
  enterprise TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks(
  enterprise TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  cursor INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY,
  enterprise TEXT NOT NULL,
  receipt_id INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reference_changes(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log(
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  who TEXT NOT NULL,
  what TEXT NOT NULL,
  detail TEXT NOT NULL);
)sql";

class SqliteAccounts final : public AccountStore {
 public:
  ~SqliteAccounts() override { sqlite3_close(db_); }

  static StatusOr<std::unique_ptr<AccountStore>> Open(const std::string& dir) {
    auto a = std::unique_ptr<SqliteAccounts>(new SqliteAccounts);
    const std::string path = dir + "/kuajing.db";
    ConfigureSqliteOnce();
    if (sqlite3_open(path.c_str(), &a->db_) != SQLITE_OK) return Unavailable("cannot open " + path);
    sqlite3_busy_timeout(a->db_, 10000);
    KJ_RETURN_IF_ERROR(a->Exec(kSchema));
    auto keys = a->Keys();
    if (!keys.ok()) return keys.status();
    for (ApiKey& k : *keys) a->keys_[k.id] = std::move(k);
    return std::unique_ptr<AccountStore>(std::move(a));
  }

  Status CreateKey(const ApiKey& k, const AuditEntry& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st =
        Run("INSERT INTO api_keys(id, enterprise, role, secret_hash, created_ms, revoked_ms) "
            "VALUES(?,?,?,?,?,0)",
            {k.id, k.enterprise, k.role, k.secret_hash}, {k.created_ms});
    if (st.ok()) st = InsertAudit(audit);
    KJ_RETURN_IF_ERROR(Finish(st));
    std::unique_lock<std::shared_mutex> keys_lock(keys_mu_);
    ApiKey& cached = keys_[k.id];
    cached = k;
    cached.revoked_ms = 0;
    return Status::Ok();
  }

  // From memory: every request is authenticated, and reading the key from SQLite cost about a
  // tenth of a millisecond (a statement prepared each time, on the database file the projector
  // writes) under the lock that the webhooks' updates also hold while they wait for the
  // projector's transactions. This process is the only writer of the keys (the data folder is
  // locked to one server), and CreateKey and RevokeKey update the copy once they are durable.
  StatusOr<std::optional<ApiKey>> FindKey(std::string_view id) override {
    std::shared_lock<std::shared_mutex> lock(keys_mu_);
    auto it = keys_.find(std::string(id));
    if (it == keys_.end()) return std::optional<ApiKey>();
    return std::optional<ApiKey>(it->second);
  }

  Status RevokeKey(std::string_view id, const AuditEntry& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = Run("UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                    {std::string(id)}, {audit.at_ms}, /*int_first=*/true);
    if (st.ok() && sqlite3_changes(db_) == 0) {
      auto rows = ReadKeys(
          "SELECT id, enterprise, role, secret_hash, created_ms, revoked_ms FROM api_keys WHERE id "
          "= ?",
          std::string(id));
      if (!rows.ok())
        st = rows.status();
      else if (rows->empty())
        st = NotFound("no key " + std::string(id));
    }
    if (st.ok()) st = InsertAudit(audit);
    KJ_RETURN_IF_ERROR(Finish(st));
    std::unique_lock<std::shared_mutex> keys_lock(keys_mu_);
    auto it = keys_.find(std::string(id));
    if (it != keys_.end() && it->second.revoked_ms == 0) it->second.revoked_ms = audit.at_ms;
    return Status::Ok();
  }

  StatusOr<std::vector<ApiKey>> Keys() override {
    std::lock_guard<std::mutex> lock(mu_);
    return ReadKeys(
        "SELECT id, enterprise, role, secret_hash, created_ms, revoked_ms FROM api_keys ORDER BY "
        "created_ms",
        "");
  }

  Status Audit(const AuditEntry& entry) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InsertAudit(entry);
  }

  StatusOr<std::vector<AuditEntry>> AuditLog(int64_t after_id, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(
        db_, "SELECT id, at_ms, who, what, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
        -1, &s, nullptr);
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int64(s, 2, limit);
    std::vector<AuditEntry> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back(AuditEntry{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), Text(s, 2),
                               Text(s, 3), Text(s, 4)});
    }
    sqlite3_finalize(s);
    return out;
  }

  Status PutWebhook(const Webhook& h, const AuditEntry& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = Run(
        "INSERT INTO webhooks(enterprise, url, secret, last_error, cursor, attempts, "
        "next_attempt_ms) "
        "VALUES(?,?,?,?,?,?,?) ON CONFLICT(enterprise) DO UPDATE SET url = excluded.url, "
        "secret = excluded.secret, last_error = '', attempts = 0, next_attempt_ms = 0",
        {h.enterprise, h.url, h.secret, h.last_error}, {h.cursor, h.attempts, h.next_attempt_ms});
    if (st.ok()) st = InsertAudit(audit);
    return Finish(st);
  }

  Status DeleteWebhook(std::string_view enterprise, const AuditEntry& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = Run("DELETE FROM webhooks WHERE enterprise = ?", {std::string(enterprise)}, {});
    if (st.ok() && sqlite3_changes(db_) == 0)
      st = NotFound("no webhook for " + std::string(enterprise));
    if (st.ok()) st = InsertAudit(audit);
    return Finish(st);
  }

  StatusOr<std::vector<Webhook>> Webhooks() override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_,
                       "SELECT enterprise, url, secret, cursor, attempts, next_attempt_ms, "
                       "last_error FROM webhooks",
                       -1, &s, nullptr);
    std::vector<Webhook> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back(Webhook{Text(s, 0), Text(s, 1), Text(s, 2), sqlite3_column_int64(s, 3),
                            static_cast<int>(sqlite3_column_int64(s, 4)),
                            sqlite3_column_int64(s, 5), Text(s, 6)});
    }
    sqlite3_finalize(s);
    return out;
  }

  Status UpdateWebhook(const Webhook& h) override {
    std::lock_guard<std::mutex> lock(mu_);
    return UpdateHook(h);
  }

  Status AddDeadLetter(const DeadLetter& d, const Webhook& h) override {
    std::lock_guard<std::mutex> lock(mu_);
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st =
        Run("INSERT INTO dead_letters(enterprise, last_error, receipt_id, attempts, at_ms) "
            "VALUES(?,?,?,?,?)",
            {d.enterprise, d.last_error}, {d.receipt_id, d.attempts, d.at_ms});
    if (st.ok()) st = UpdateHook(h);
    return Finish(st);
  }

  StatusOr<std::vector<DeadLetter>> DeadLetters(std::string_view enterprise, int64_t after_id,
                                                int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(
        db_,
        "SELECT id, enterprise, receipt_id, attempts, last_error, at_ms FROM dead_letters "
        "WHERE enterprise = ? AND id > ? ORDER BY id LIMIT ?",
        -1, &s, nullptr);
    sqlite3_bind_text(s, 1, enterprise.data(), static_cast<int>(enterprise.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, after_id);
    sqlite3_bind_int64(s, 3, limit);
    std::vector<DeadLetter> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back(DeadLetter{sqlite3_column_int64(s, 0), Text(s, 1), sqlite3_column_int64(s, 2),
                               static_cast<int>(sqlite3_column_int64(s, 3)), Text(s, 4),
                               sqlite3_column_int64(s, 5)});
    }
    sqlite3_finalize(s);
    return out;
  }

  Status AddReferenceChange(const ReferenceChange& c, const AuditEntry& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = Run("INSERT INTO reference_changes(kind, key, value) VALUES(?,?,?)",
                    {c.kind, c.key, c.value}, {});
    if (st.ok()) st = InsertAudit(audit);
    return Finish(st);
  }

  StatusOr<std::vector<ReferenceChange>> ReferenceChanges() override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "SELECT id, kind, key, value FROM reference_changes ORDER BY id", -1,
                       &s, nullptr);
    std::vector<ReferenceChange> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back(
          ReferenceChange{sqlite3_column_int64(s, 0), Text(s, 1), Text(s, 2), Text(s, 3)});
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  // Only the registration the deliverer read: every PUT draws a new secret, so a delivery in
  // flight while the webhook is put again (or deleted and put again) cannot write the old
  // registration's cursor, attempts and back-off onto the new one. Its progress is then dropped,
  // and the new registration may deliver that receipt again (delivery is at least once).
  Status UpdateHook(const Webhook& h) {
    return Run(
        "UPDATE webhooks SET cursor = ?, attempts = ?, next_attempt_ms = ?, last_error = ? WHERE "
        "enterprise = ? AND secret = ?",
        {h.last_error, h.enterprise, h.secret}, {h.cursor, h.attempts, h.next_attempt_ms},
        /*int_first=*/true);
  }

  static std::string Text(sqlite3_stmt* s, int col) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p ? p : "";
  }

  Status InsertAudit(const AuditEntry& e) {
    return Run("INSERT INTO audit_log(at_ms, who, what, detail) VALUES(?,?,?,?)",
               {e.who, e.what, e.detail}, {e.at_ms},
               /*int_first=*/true);
  }

  // Binds the integers then the texts (int_first) or the texts then the integers.
  // `tail` (if not empty) is bound last, after the texts and integers.
  Status Run(const char* sql, std::vector<std::string> texts, std::vector<int64_t> ints,
             bool int_first = false, const std::string& tail = "") {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) return Error(sql);
    int i = 1;
    auto bind_texts = [&] {
      for (const auto& t : texts)
        sqlite3_bind_text(s, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    };
    auto bind_ints = [&] {
      for (int64_t v : ints) sqlite3_bind_int64(s, i++, v);
    };
    if (int_first) {
      bind_ints();
      bind_texts();
    } else {
      bind_texts();
      bind_ints();
    }
    if (!tail.empty())
      sqlite3_bind_text(s, i++, tail.data(), static_cast<int>(tail.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? Status::Ok() : Error(sql);
  }

  StatusOr<std::vector<ApiKey>> ReadKeys(const char* sql, const std::string& arg) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) return Error(sql);
    if (!arg.empty())
      sqlite3_bind_text(s, 1, arg.data(), static_cast<int>(arg.size()), SQLITE_TRANSIENT);
    std::vector<ApiKey> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back(ApiKey{Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3),
                           sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5)});
    }
    sqlite3_finalize(s);
    return out;
  }

  Status Finish(const Status& st) {
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      return Unavailable(std::string(sql).substr(0, 40) + ": " + m);
    }
    return Status::Ok();
  }

  Status Error(const char* what) {
    return Unavailable(std::string(what).substr(0, 60) + ": " + sqlite3_errmsg(db_));
  }

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  // Every key by id, as stored (FindKey); guarded by keys_mu_, not mu_.
  std::shared_mutex keys_mu_;
  std::unordered_map<std::string, ApiKey> keys_;
};

}  // namespace

StatusOr<std::unique_ptr<AccountStore>> OpenSqliteAccounts(const std::string& dir) {
  return SqliteAccounts::Open(dir);
}

}  // namespace kuajing::storage
