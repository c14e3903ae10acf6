#include "services/intake/issue_id.h"

#include <thread>

#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"

namespace switchboard::intake {
namespace {

TEST(IssueIdTest, IdsAreValidAndStrictlyIncreasing) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  IssueIdGenerator generator(clock, "");
  std::string previous;
  for (int i = 0; i < 10000; ++i) {
    if (i % 100 == 0) clock.Advance(absl::Milliseconds(1));
    const std::string id = generator.Next();
    ASSERT_TRUE(IsValidIssueId(id)) << id;
    ASSERT_LT(previous, id);
    previous = id;
  }
}

TEST(IssueIdTest, ClockGoingBackwardsStillIncreases) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  IssueIdGenerator generator(clock, "");
  const std::string before = generator.Next();
  clock.Advance(-absl::Hours(1));
  EXPECT_LT(before, generator.Next());
}

TEST(IssueIdTest, StartsAboveTheFloorAcrossRestarts) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  std::string last;
  {
    IssueIdGenerator generator(clock, "");
    for (int i = 0; i < 5; ++i) last = generator.Next();
  }
  clock.Advance(-absl::Hours(24));  // a restart with a clock a day behind
  IssueIdGenerator restarted(clock, last);
  EXPECT_LT(last, restarted.Next());
}

TEST(IssueIdTest, TimeOrderedAcrossMilliseconds) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  IssueIdGenerator a(clock, "");
  const std::string early = a.Next();
  clock.Advance(absl::Milliseconds(1));
  IssueIdGenerator b(clock, "");  // an unrelated generator, later
  EXPECT_LT(early, b.Next());
}

TEST(IssueIdTest, ConcurrentCallersGetDistinctIds) {
  IssueIdGenerator generator(Clock::Real(), "");
  std::vector<std::vector<std::string>> ids(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) ids[t].push_back(generator.Next());
    });
  }
  for (auto& thread : threads) thread.join();
  absl::flat_hash_set<std::string> all;
  for (const auto& list : ids) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(IssueIdTest, TheIdSaysWhichPartitionMadeIt) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  absl::flat_hash_set<std::string> all;
  for (int partition : {0, 1, 2, 37, kMaxIdPartitions - 1}) {
    IssueIdGenerator generator(clock, "", partition);
    for (int i = 0; i < 100; ++i) {
      const std::string id = generator.Next();
      ASSERT_TRUE(IsValidIssueId(id)) << id;
      EXPECT_EQ(IssueIdPartition(id), partition) << id;
      EXPECT_TRUE(all.insert(id).second) << id;  // unique across partitions, same millisecond
    }
  }
  // Characters 11 and 12 are the partition in base32: partition 37 is "15".
  IssueIdGenerator p37(clock, "", 37);
  EXPECT_EQ(p37.Next().substr(10, 2), "15");
}

TEST(IssueIdTest, IdsKeepTheirPartitionWhenTheClockStepsBack) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  IssueIdGenerator generator(clock, "", 5);
  std::string last = generator.Next();
  clock.Advance(-absl::Seconds(10));
  for (int i = 0; i < 100; ++i) {
    const std::string id = generator.Next();
    EXPECT_GT(id, last);
    EXPECT_EQ(IssueIdPartition(id), 5);
    last = id;
  }
}

TEST(IssueNameTest, ThePartitionOfANameIsItsIdsWithinTheCount) {
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  const std::string in_two = IssueName(IssueIdGenerator(clock, "", 2).Next());
  EXPECT_EQ(IssuePartitionOf(in_two, 3), 2);
  EXPECT_EQ(IssuePartitionOf(in_two, 1), 0);   // one partition holds everything
  EXPECT_EQ(IssuePartitionOf(in_two, 2), -1);  // no partition 2 of 2
  EXPECT_EQ(IssuePartitionOf("issues/nope", 3), -1);
  EXPECT_EQ(IssuePartitionOf("", 1), -1);
}

TEST(IssueNameTest, ParsesOnlyWellFormedNames) {
  const std::string id = "01hzzzzzzzzzzzzzzzzzzzzzzz";
  ASSERT_TRUE(IsValidIssueId(id));
  EXPECT_EQ(IssueIdFromName(IssueName(id)), id);
  EXPECT_EQ(IssueIdFromName("issues/short"), "");
  EXPECT_EQ(IssueIdFromName("tickets/" + id), "");
  EXPECT_EQ(IssueIdFromName("issues/01HZZZZZZZZZZZZZZZZZZZZZZZ"), "");  // upper case
  EXPECT_EQ(IssueIdFromName("issues/81hzzzzzzzzzzzzzzzzzzzzzzz"), "");  // beyond 128 bits
  EXPECT_FALSE(IsValidIssueId("01hzzzzzzzzzzzzzzzzzzzzzzi"));           // i is not Crockford
}

}  // namespace
}  // namespace switchboard::intake
