#include "common/key_encoding.h"

#include <gtest/gtest.h>

namespace switchboard {
namespace {

TEST(KeyEncodingTest, RoundTripsAndSortsNumerically) {
  const uint64_t values[] = {0, 1, 255, 256, 1ull << 32, ~0ull};
  std::string previous;
  for (uint64_t value : values) {
    const std::string encoded = EncodeFixed64BigEndian(value);
    ASSERT_EQ(encoded.size(), 8u);
    uint64_t decoded;
    ASSERT_TRUE(DecodeFixed64BigEndian(encoded, &decoded));
    EXPECT_EQ(decoded, value);
    EXPECT_LT(previous, encoded);
    previous = encoded;
  }
  uint64_t ignored;
  EXPECT_FALSE(DecodeFixed64BigEndian("short", &ignored));
}

}  // namespace
}  // namespace switchboard
