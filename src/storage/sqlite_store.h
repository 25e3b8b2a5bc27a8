// The embedded store: one SQLite database file in WAL mode with synchronous=FULL, so a commit is
// on disk before Commit() returns. Tables: messages (raw bytes), receipts, state, quota_ledger.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace kuajing::storage {

// Opens (creating if needed) DIR/kuajing.db. Fails with Unavailable if the file cannot be opened
// or the schema cannot be created.
StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& dir);

}  // namespace kuajing::storage
