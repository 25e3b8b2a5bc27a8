// API keys and who a request acts for.
//
// A key is "kj_<id>_<secret>": the id (16 hex digits) finds the stored key, the secret (64 hex
// digits, 256 random bits) is checked against its SHA-256, compared in constant time. Only the
// hash is stored; the whole key is shown once, when it is made.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/accounts.h"

namespace kuajing::server {

enum class Role { kEnterprise, kOfficer, kAdmin };
const char* RoleName(Role r);
bool ParseRole(std::string_view text, Role* out);

struct Principal {
  std::string key_id;
  Role role = Role::kEnterprise;
  std::string enterprise;        // the enterprise code an enterprise key acts for
  std::string Describe() const;  // "admin:a1b2c3d4e5f60718", for the audit trail
};

struct NewKey {
  std::string token;  // the whole key, to hand to its user once
  storage::ApiKey stored;
};

// Makes a key with fresh randomness from the operating system.
StatusOr<NewKey> MakeKey(Role role, std::string_view enterprise, int64_t now_ms);

// Checks "Bearer kj_..." (or the bare key). Unauthenticated if missing, malformed, unknown,
// revoked or wrong; Unavailable if the store failed.
StatusOr<Principal> Authenticate(storage::AccountStore& accounts, std::string_view authorization);

// `bytes` random bytes from the operating system, hex; Unavailable if there is no randomness.
StatusOr<std::string> RandomHex(size_t bytes);

std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` with `key`, hex.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace kuajing::server
