#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>

namespace kuajing::server {

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

bool IsHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kEnterprise:
      return "enterprise";
    case Role::kOfficer:
      return "officer";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

bool ParseRole(std::string_view text, Role* out) {
  for (Role r : {Role::kEnterprise, Role::kOfficer, Role::kAdmin}) {
    if (text == RoleName(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

std::string Principal::Describe() const {
  return std::string(RoleName(role)) + ":" + key_id + (enterprise.empty() ? "" : "@" + enterprise);
}

std::string Sha256Hex(std::string_view data) {
  // Every request's API key is hashed here. OpenSSL 3's EVP_sha256() looks the algorithm up in
  // its providers again at each use ("implicit fetching", crypto(7), "Performance"), and
  // EVP_Digest makes and frees a context each time: the algorithm is fetched once instead, and
  // each thread keeps its context (bench/README.md, "Issue 7").
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) {
    // Out of memory, or no provider with SHA-256: the slow path still answers.
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  }
  return Hex(md, len);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return Hex(md, len);
}

StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return Unavailable("no randomness from the operating system");
  }
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

StatusOr<NewKey> MakeKey(Role role, std::string_view enterprise, int64_t now_ms) {
  unsigned char id[8], secret[32];
  if (RAND_bytes(id, sizeof id) != 1 || RAND_bytes(secret, sizeof secret) != 1) {
    return Unavailable("no randomness from the operating system");
  }
  NewKey k;
  k.stored.id = Hex(id, sizeof id);
  const std::string secret_hex = Hex(secret, sizeof secret);
  k.stored.enterprise = std::string(enterprise);
  k.stored.role = RoleName(role);
  k.stored.secret_hash = Sha256Hex(secret_hex);
  k.stored.created_ms = now_ms;
  k.token = "kj_" + k.stored.id + "_" + secret_hex;
  return k;
}

StatusOr<Principal> Authenticate(storage::AccountStore& accounts, std::string_view auth) {
  if (auth.substr(0, 7) == "Bearer ") auth.remove_prefix(7);
  // kj_ + 16 + _ + 64
  if (auth.size() != 84 || auth.substr(0, 3) != "kj_" || auth[19] != '_' ||
      !IsHex(auth.substr(3, 16)) || !IsHex(auth.substr(20))) {
    return Unauthenticated("send the API key as 'Authorization: Bearer kj_...'");
  }
  auto key = accounts.FindKey(auth.substr(3, 16));
  if (!key.ok()) return key.status();
  const std::string hash = Sha256Hex(auth.substr(20));
  if (!key->has_value() || (*key)->revoked_ms != 0 || hash.size() != (*key)->secret_hash.size() ||
      CRYPTO_memcmp(hash.data(), (*key)->secret_hash.data(), hash.size()) != 0) {
    return Unauthenticated("unknown, revoked or wrong API key");
  }
  Principal p;
  p.key_id = (*key)->id;
  p.enterprise = (*key)->enterprise;
  if (!ParseRole((*key)->role, &p.role)) return Internal("stored key with unknown role");
  return p;
}

}  // namespace kuajing::server
