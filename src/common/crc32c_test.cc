#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace kuajing {
namespace {

TEST(Crc32c, KnownValues) {
  // RFC 3720 (iSCSI), appendix B.4: 32 bytes of zeros, and "123456789" (the check value).
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32c, ContinuesAcrossPieces) {
  const std::string s = "a frame's header, then its payload of any length at all";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(Crc32c(s.substr(cut), Crc32c(s.substr(0, cut))), Crc32c(s)) << cut;
  }
}

TEST(Crc32c, OneFlippedBitChangesIt) {
  std::string s(1000, 'x');
  const uint32_t good = Crc32c(s);
  s[517] ^= 0x10;
  EXPECT_NE(Crc32c(s), good);
}

}  // namespace
}  // namespace kuajing
