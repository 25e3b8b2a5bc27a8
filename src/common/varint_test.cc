#include "common/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kuajing {
namespace {

TEST(Varint, SlotPositionsComeBackAndOnlyIncreasingOnesBelowTheSize) {
  std::string out;
  SlotPositions w;
  for (uint64_t slot : {0, 1, 7, 1000, 1023}) w.Put(out, slot);
  VarintReader in(out);
  SlotPositions r;
  uint64_t slot = 0;
  for (uint64_t want : {0, 1, 7, 1000, 1023}) {
    ASSERT_TRUE(r.Next(in, 1024, &slot));
    EXPECT_EQ(slot, want);
  }
  EXPECT_TRUE(in.ok() && in.done());

  auto reads = [](std::initializer_list<uint64_t> steps, uint64_t size) {
    std::string bytes;
    for (uint64_t s : steps) PutVarint(bytes, s);
    VarintReader in(bytes);
    SlotPositions r;
    uint64_t slot;
    size_t n = 0;
    while (!in.done() && r.Next(in, size, &slot)) ++n;
    return n;
  };
  EXPECT_EQ(reads({0, 1, 1}, 8), 3u);
  EXPECT_EQ(reads({0, 0}, 8), 1u);             // the same slot twice
  EXPECT_EQ(reads({3, 4, 1}, 8), 2u);          // 3, 7, then 8: past the end
  EXPECT_EQ(reads({8}, 8), 0u);                // the first past the end
  EXPECT_EQ(reads({0}, 0), 0u);                // an empty table has no slot
  EXPECT_EQ(reads({1, ~uint64_t{0}}, 8), 1u);  // no wrap-around
}

// The pointer writers give the bytes the string writers give, and the reader reads them back:
// the edges of each length of varint, the signed extremes, texts empty and not.
TEST(Varint, PointerWritersWriteWhatTheStringWritersWrite) {
  std::vector<uint64_t> values = {0, 1, 0x7f, 0x80, 0x3fff, 0x4000, ~uint64_t{0}};
  for (int shift = 7; shift < 64; shift += 7) {
    values.push_back((uint64_t{1} << shift) - 1);
    values.push_back(uint64_t{1} << shift);
  }
  const std::vector<int64_t> signs = {0, 1, -1, 63, -64, 64, -65, INT64_MAX, INT64_MIN};
  const std::vector<std::string> texts = {"", "a", std::string(200, 'x')};
  std::string by_string;
  for (uint64_t v : values) PutVarint(by_string, v);
  for (int64_t v : signs) PutSigned(by_string, v);
  for (const std::string& t : texts) PutText(by_string, t);

  std::string by_pointer(values.size() * kMaxVarintBytes + signs.size() * kMaxVarintBytes + 400,
                         '\0');
  char* p = by_pointer.data();
  for (uint64_t v : values) p = PutVarintAt(p, v);
  for (int64_t v : signs) p = PutSignedAt(p, v);
  for (const std::string& t : texts) p = PutTextAt(p, t);
  by_pointer.resize(static_cast<size_t>(p - by_pointer.data()));
  EXPECT_EQ(by_pointer, by_string);
  PutVarint(by_string, ~uint64_t{0});
  EXPECT_EQ(by_string.size() - by_pointer.size(), kMaxVarintBytes);  // the most a varint takes

  VarintReader in(by_pointer);
  for (uint64_t v : values) EXPECT_EQ(in.Varint(), v);
  for (int64_t v : signs) EXPECT_EQ(in.Signed(), v);
  for (const std::string& t : texts) EXPECT_EQ(in.Text(), t);
  EXPECT_TRUE(in.ok() && in.done());
}

}  // namespace
}  // namespace kuajing
