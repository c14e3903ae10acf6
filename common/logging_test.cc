#include "common/logging.h"

#include <gtest/gtest.h>

namespace switchboard::log {
namespace {

TEST(LoggingTest, WritesOneJsonObjectPerLine) {
  Init("logging-test", Level::kInfo);
  ::testing::internal::CaptureStderr();
  Info("listening", {{"port", 50051},
                     {"addr", "127.0.0.1"},
                     {"ok", true},
                     {"status", absl::NotFoundError("x \"y\"")}});
  Debug("not shown");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(
      out.find(
          R"("level":"info","service":"logging-test","msg":"listening","port":50051,"addr":"127.0.0.1","ok":true,"status":"NOT_FOUND: x \"y\""})"),
      std::string::npos)
      << out;
  EXPECT_EQ(out.find("not shown"), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);
}

TEST(LoggingTest, EscapesHostileText) {
  Init("logging-test", Level::kDebug);
  ::testing::internal::CaptureStderr();
  Debug("line\nbreak \xff", {{"key\"", "v\x01"}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(R"("msg":"line\nbreak \ufffd","key\"":"v\u0001")"), std::string::npos) << out;
}

TEST(LoggingTest, ParsesLevels) {
  Level level;
  EXPECT_TRUE(ParseLevel("warning", &level));
  EXPECT_EQ(level, Level::kWarning);
  EXPECT_FALSE(ParseLevel("verbose", &level));
}

}  // namespace
}  // namespace switchboard::log
