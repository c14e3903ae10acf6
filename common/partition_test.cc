#include "common/partition.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

using ::testing::HasSubstr;

// The hash decides where every stored key lives: these values must never
// change, or a cluster would look for its keys in the wrong partitions.
TEST(PartitionOfTest, IsFnv1aModuloTheCountForever) {
  EXPECT_EQ(PartitionOf("teams/storage-oncall", 3), 0);
  EXPECT_EQ(PartitionOf("teams/storage-oncall", 7), 5);
  EXPECT_EQ(PartitionOf("sources/crm", 3), 1);
  EXPECT_EQ(PartitionOf("sources/crm", 7), 4);
  EXPECT_EQ(PartitionOf("req-1", 7), 6);
  EXPECT_EQ(PartitionOf("", 3), 2);
  EXPECT_EQ(PartitionOf("anything", 1), 0);
  EXPECT_EQ(PartitionOf("anything", 0), 0);
}

TEST(PartitionOfTest, SpreadsKeysEvenly) {
  std::map<int, int> counts;
  for (int i = 0; i < 30000; ++i) ++counts[PartitionOf(absl::StrCat("request-", i), 3)];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [partition, count] : counts) {
    EXPECT_GT(count, 9000) << partition;
    EXPECT_LT(count, 11000) << partition;
  }
}

TEST(ParsePartitioningTest, NoAddressesIsOnePartition) {
  absl::StatusOr<Partitioning> single = ParsePartitioning(0, "");
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(single->count(), 1);
  EXPECT_FALSE(single->partitioned());

  absl::StatusOr<Partitioning> three = ParsePartitioning(2, "a:1,b:2,[::1]:3");
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->count(), 3);
  EXPECT_EQ(three->self, 2);
  EXPECT_EQ(three->addresses[2], "[::1]:3");
}

TEST(ParsePartitioningTest, RefusesWhatDoesNotFitNamingTheFlag) {
  const struct {
    int self;
    std::string addresses;
    std::string says;
  } cases[] = {
      {3, "a:1,b:2,c:3", "--partition=3 is not one of the 3 partitions"},
      {-1, "a:1,b:2", "--partition=-1"},
      {1, "", "--partition=1 is not one of the 1 partitions"},
      {0, "a:1,,c:3", "--partition_addresses must be host:port"},
      {0, "a:1,b", "\"b\" is not one"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Partitioning> parsed = ParsePartitioning(c.self, c.addresses);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.addresses;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.says)) << c.addresses;
  }
  std::string many;
  for (int i = 0; i <= kMaxPartitions; ++i) absl::StrAppend(&many, i == 0 ? "" : ",", "h:", i + 1);
  EXPECT_THAT(ParsePartitioning(0, many).status().message(), HasSubstr("at most 64"));
}

class PartitionRecordTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::Status OpenAs(int self, int count, bool write_something = false) {
    auto db = Database::Open({.path = dir_, .column_families = {"items"}});
    if (!db.ok()) return db.status();
    Partitioning partitioning{.self = self};
    for (int i = 0; count > 1 && i < count; ++i) {
      partitioning.addresses.push_back(absl::StrCat("h:", i + 1));
    }
    if (write_something) {
      rocksdb::WriteOptions options;
      EXPECT_TRUE((*db)->db().Put(options, (*db)->Family("items"), "k", "v").ok());
      return absl::OkStatus();
    }
    return CheckPartitionRecord(**db, partitioning, "test");
  }

  const std::string dir_ = testing::MakeTempDir("partition_test");
};

TEST_F(PartitionRecordTest, AStoreKeepsThePartitionItWasFirstOpenedAs) {
  ASSERT_TRUE(OpenAs(1, 3).ok());
  EXPECT_TRUE(OpenAs(1, 3).ok());
  absl::Status other_count = OpenAs(1, 5);
  EXPECT_EQ(other_count.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other_count.message(), HasSubstr("belongs to partition 1/3"));
  EXPECT_THAT(other_count.message(), HasSubstr("started as 1/5"));
  EXPECT_THAT(other_count.message(), HasSubstr("changing it on a live cluster is not supported"));
  EXPECT_EQ(OpenAs(2, 3).code(), absl::StatusCode::kFailedPrecondition);  // another pod's volume
  EXPECT_EQ(OpenAs(0, 1).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PartitionRecordTest, AStoreFromBeforePartitionsIsTheOnlyPartition) {
  ASSERT_TRUE(OpenAs(0, 1, /*write_something=*/true).ok());
  absl::Status partitioned = OpenAs(0, 3);
  EXPECT_EQ(partitioned.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(partitioned.message(), HasSubstr("single-partition deployment"));
  EXPECT_TRUE(OpenAs(0, 1).ok());  // as before: and now recorded
  EXPECT_EQ(OpenAs(0, 3).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PartitionRecordTest, AnEmptyStoreTakesAnyPartition) { EXPECT_TRUE(OpenAs(2, 3).ok()); }

}  // namespace
}  // namespace switchboard
