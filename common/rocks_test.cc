#include "common/rocks.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  const std::string dir_ = testing::MakeTempDir("rocks_test");
};

TEST_F(DatabaseTest, CreatesNestedDirectoryAndFamiliesAndReopens) {
  const std::string path = dir_ + "/a/b/db";
  {
    auto db = Database::Open({.path = path, .column_families = {"issues", "outbox"}});
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->db().Put({}, (*db)->Family("issues"), "k", "v").ok());
  }
  auto db = Database::Open({.path = path, .column_families = {"issues", "outbox"}});
  ASSERT_TRUE(db.ok()) << db.status();
  std::string value;
  ASSERT_TRUE((*db)->db().Get({}, (*db)->Family("issues"), "k", &value).ok());
  EXPECT_EQ(value, "v");
  EXPECT_TRUE((*db)->db().Get({}, (*db)->Family("outbox"), "k", &value).IsNotFound());
}

TEST_F(DatabaseTest, SecondOpenOfTheSameDirectoryIsUnavailable) {
  auto first = Database::Open({.path = dir_});
  ASSERT_TRUE(first.ok());
  auto second = Database::Open({.path = dir_});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST_F(DatabaseTest, UnknownFamilyAborts) {
  auto db = Database::Open({.path = dir_});
  ASSERT_TRUE(db.ok());
  EXPECT_DEATH((*db)->Family("nope"), "unknown column family");
}

TEST(FromRocksTest, MapsCodes) {
  EXPECT_TRUE(FromRocks(rocksdb::Status::OK(), "x").ok());
  EXPECT_EQ(FromRocks(rocksdb::Status::NotFound(), "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FromRocks(rocksdb::Status::Corruption("bad block"), "read").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(FromRocks(rocksdb::Status::IOError("disk"), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocks(rocksdb::Status::Busy(), "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocks(rocksdb::Status::InvalidArgument("cf"), "x").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(FromRocks(rocksdb::Status::Corruption("bad block"), "read issue").message(),
            "read issue: Corruption: bad block");
}

}  // namespace
}  // namespace switchboard
