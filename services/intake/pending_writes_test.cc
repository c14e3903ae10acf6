#include "services/intake/pending_writes.h"

#include <gtest/gtest.h>

namespace switchboard::intake {
namespace {

TEST(PendingWritesTest, ForgetDropsOnlyWhatNoLaterBatchWroteAgain) {
  PendingWrites<int> writes;
  writes.Put("a", 1, /*batch=*/1);
  writes.Put("b", 2, 1);
  writes.Put("a", 3, 2);
  writes.Forget(1);
  EXPECT_EQ(writes.Find("b"), nullptr);
  ASSERT_NE(writes.Find("a"), nullptr);
  EXPECT_EQ(*writes.Find("a"), 3);
  writes.Forget(2);
  EXPECT_TRUE(writes.empty());
}

TEST(PendingWritesTest, AbandonPutsBackWhatTheBatchOverwrote) {
  PendingWrites<int> writes;
  writes.Put("a", 1, 1);
  writes.Put("a", 2, 2);
  writes.Put("a", 3, 2);
  writes.Put("b", 4, 2);
  writes.Abandon(2);
  ASSERT_NE(writes.Find("a"), nullptr);
  EXPECT_EQ(*writes.Find("a"), 1) << "batch 1's value, still queued, is what the next batch reads";
  EXPECT_EQ(writes.Find("b"), nullptr);
  writes.Forget(1);
  EXPECT_TRUE(writes.empty());
}

}  // namespace
}  // namespace switchboard::intake
