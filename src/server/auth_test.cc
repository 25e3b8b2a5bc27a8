#include "server/auth.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace kuajing::server {
namespace {

// FIPS 180-2's examples, and one of several blocks; each thread hashes with a context of its own.
TEST(Auth, Sha256HexIsSha256) {
  auto check = [] {
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  };
  check();
  check();  // the same context again
  std::thread other(check);
  other.join();
}

}  // namespace
}  // namespace kuajing::server
