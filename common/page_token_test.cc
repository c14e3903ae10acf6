#include "common/page_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/escaping.h"

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

TEST(PageTokenTest, AlteredOrForeignTokensAreRefused) {
  const std::string token = EncodePageToken("issues", "", "01J0000000000000000000000A");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  // Every single-byte change is caught, in the position or in the MAC.
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] ^= 0x01;
    auto decoded = DecodePageToken(absl::WebSafeBase64Escape(altered), "issues", "");
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << "byte " << i;
  }
  // A token made up from the format alone has no valid MAC.
  const std::string forged =
      absl::WebSafeBase64Escape(std::string("v1\nissues\n0\nZZZZ") + std::string(16, 'x'));
  EXPECT_EQ(DecodePageToken(forged, "issues", "").status().message(),
            "invalid page_token: not made by this service, or altered");
}

TEST(PageTokenTest, TheKeyInTheDataDirectoryOutlivesTheProcess) {
  const std::string dir = ::testing::TempDir() + "/page_token_test_key";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string before_load = EncodePageToken("issues", "", "a");
  ASSERT_TRUE(LoadPageTokenKey(dir).ok());
  EXPECT_FALSE(DecodePageToken(before_load, "issues", "").ok()) << "the key changed";
  const std::string token = EncodePageToken("issues", "", "b");
  ASSERT_TRUE(LoadPageTokenKey(dir).ok());  // as a restarted process does
  EXPECT_EQ(DecodePageToken(token, "issues", "").value_or(""), "b");
  EXPECT_EQ(std::filesystem::status(dir + "/page-token.key").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(dir + "/page-token.key", std::ios::trunc) << "short";
  EXPECT_EQ(LoadPageTokenKey(dir).code(), absl::StatusCode::kDataLoss);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

// A flipped bit in the key file refuses the start, naming the file, instead
// of quietly making every token handed out so far invalid.
TEST(PageTokenTest, ADamagedKeyFileIsDataLossNamingIt) {
  const std::string dir = ::testing::TempDir() + "/page_token_test_damaged";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(LoadPageTokenKey(dir).ok());
  const std::string path = dir + "/page-token.key";
  std::string contents = ReadFile(path);
  ASSERT_EQ(contents.size(), 40u);  // the key and its check
  contents[5] = static_cast<char>(contents[5] ^ 0x10);
  WriteFile(path, contents);
  const absl::Status status = LoadPageTokenKey(dir);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(path));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("checksum"));
}

// A key file written before the check was added (the bare 32-byte key) is
// still the key: tokens made under it stay valid, and the file gets its check.
TEST(PageTokenTest, AKeyFileWithoutItsCheckIsKeptAndGetsOne) {
  const std::string dir = ::testing::TempDir() + "/page_token_test_old";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(LoadPageTokenKey(dir).ok());
  const std::string path = dir + "/page-token.key";
  const std::string token = EncodePageToken("issues", "", "c");
  WriteFile(path, ReadFile(path).substr(0, 32));
  ASSERT_TRUE(LoadPageTokenKey(dir).ok());
  EXPECT_EQ(DecodePageToken(token, "issues", "").value_or(""), "c");
  EXPECT_EQ(ReadFile(path).size(), 40u);
  ASSERT_TRUE(LoadPageTokenKey(dir).ok());
  EXPECT_EQ(DecodePageToken(token, "issues", "").value_or(""), "c");
}

TEST(PageSizeTest, DefaultsAndBounds) {
  EXPECT_EQ(*PageSize(0, 100, 1000), 100);
  EXPECT_EQ(*PageSize(1000, 100, 1000), 1000);
  EXPECT_EQ(PageSize(1001, 100, 1000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PageSize(-1, 100, 1000).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard
