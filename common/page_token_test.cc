#include "common/page_token.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace switchboard {
namespace {

TEST(PageTokenTest, RoundTripsPositionsWithAnyBytes) {
  const std::string position("issue\n\0\xff id", 12);
  const std::string token = EncodePageToken("issues", "state=STATE_ROUTED", position);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  auto decoded = DecodePageToken(token, "issues", "state=STATE_ROUTED");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, position);
}

TEST(PageTokenTest, RefusesOtherListsFiltersAndGarbage) {
  const std::string token = EncodePageToken("issues", "team=a", "k");
  EXPECT_EQ(DecodePageToken(token, "rulesets", "team=a").status().message(),
            "invalid page_token: made for another list");
  EXPECT_EQ(DecodePageToken(token, "issues", "team=b").status().message(),
            "invalid page_token: made for another filter");
  for (const char* garbage : {"", "!!!", "djE", "aGVsbG8"}) {
    auto decoded = DecodePageToken(garbage, "issues", "team=a");
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << garbage;
    EXPECT_EQ(GetFieldViolations(decoded.status()).at(0).field, "page_token");
  }
}

TEST(PageSizeTest, DefaultsAndBounds) {
  EXPECT_EQ(*PageSize(0, 100, 1000), 100);
  EXPECT_EQ(*PageSize(1000, 100, 1000), 1000);
  EXPECT_EQ(PageSize(1001, 100, 1000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PageSize(-1, 100, 1000).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard
