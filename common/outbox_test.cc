#include "common/outbox.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/commit_queue.h"
#include "common/key_encoding.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

using ::testing::ElementsAre;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override {
    outbox_.reset();
    commits_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    outbox_.reset();
    commits_.reset();
    db_.reset();
    auto db = Database::Open({.path = dir_, .column_families = {Outbox::Family("work")}});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    commits_ = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "test"});
    auto outbox = Outbox::Open(*db_, "work", clock_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    outbox_ = std::move(*outbox);
  }

  std::vector<uint64_t> Append(const std::vector<std::string>& values) {
    rocksdb::WriteBatch batch;
    std::vector<uint64_t> sequences;
    for (const std::string& value : values) sequences.push_back(outbox_->Append(value, batch));
    EXPECT_TRUE(commits_->CommitAndWait(std::move(batch)).ok());
    return sequences;
  }

  std::vector<std::string> Values(int limit = 100) {
    auto items = outbox_->Peek(limit);
    EXPECT_TRUE(items.ok()) << items.status();
    std::vector<std::string> values;
    for (const Outbox::Item& item : *items) values.push_back(item.value);
    return values;
  }

  // Removes the first `n` items as a consumer does.
  void Consume(int n) {
    auto items = outbox_->Peek(n);
    ASSERT_TRUE(items.ok());
    ASSERT_FALSE(items->empty());
    rocksdb::WriteBatch batch;
    for (const Outbox::Item& item : *items) outbox_->Remove(item, batch);
    ASSERT_TRUE(commits_->CommitAndWait(std::move(batch)).ok());
    outbox_->Consumed(items->back().sequence);
  }

  const std::string dir_ = testing::MakeTempDir("outbox_test");
  FakeClock clock_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, ItemsComeBackInAppendOrderWithDenseSequences) {
  EXPECT_THAT(Append({"a", "b"}), ElementsAre(1, 2));
  EXPECT_THAT(Append({"c"}), ElementsAre(3));
  EXPECT_THAT(Values(), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Values(2), ElementsAre("a", "b"));
}

TEST_F(OutboxTest, AppendWritesNothingUntilTheBatchIsCommitted) {
  rocksdb::WriteBatch batch;
  outbox_->Append("uncommitted", batch);
  EXPECT_TRUE(Values().empty());
}

TEST_F(OutboxTest, ConsumedItemsAreNotPeekedAgain) {
  Append({"a", "b", "c"});
  Consume(2);
  EXPECT_THAT(Values(), ElementsAre("c"));
  Consume(1);
  EXPECT_TRUE(Values().empty());
}

TEST_F(OutboxTest, ItemsRemovedButNotMarkedConsumedAreGoneAnyway) {
  Append({"a", "b"});
  auto items = outbox_->Peek(1);
  ASSERT_TRUE(items.ok());
  rocksdb::WriteBatch batch;
  outbox_->Remove(items->front(), batch);
  ASSERT_TRUE(commits_->CommitAndWait(std::move(batch)).ok());
  EXPECT_THAT(Values(), ElementsAre("b"));
}

TEST_F(OutboxTest, ReopeningContinuesTheSequenceAndKeepsWhatWasNotRemoved) {
  Append({"a", "b", "c"});
  Consume(1);
  Reopen();
  EXPECT_THAT(Values(), ElementsAre("b", "c"));
  EXPECT_THAT(Append({"d"}), ElementsAre(4));
  EXPECT_THAT(Values(), ElementsAre("b", "c", "d"));
  // A drained outbox may start over: nothing is left to confuse a sequence
  // with, and new items still come back in append order.
  Consume(3);
  Reopen();
  Append({"e", "f"});
  EXPECT_THAT(Values(), ElementsAre("e", "f"));
}

TEST_F(OutboxTest, MeasureReportsTheOldestUnconsumedItemsAge) {
  auto empty = outbox_->Measure();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size, 0);
  EXPECT_EQ(empty->oldest_age, absl::ZeroDuration());

  Append({"old"});
  clock_.Advance(absl::Seconds(30));
  Append({"new"});
  clock_.Advance(absl::Seconds(10));
  auto backlog = outbox_->Measure();
  ASSERT_TRUE(backlog.ok());
  EXPECT_GE(backlog->size, 1);
  EXPECT_EQ(backlog->oldest_age, absl::Seconds(40));
  Consume(1);
  backlog = outbox_->Measure();
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(backlog->oldest_age, absl::Seconds(10));
}

TEST_F(OutboxTest, ReadsItemsOfTheOlderKeyLayout) {
  // Stores written before the append time was part of the key.
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(batch.Put(db_->Family("work"), EncodeFixed64BigEndian(7), "legacy").ok());
  ASSERT_TRUE(commits_->CommitAndWait(std::move(batch)).ok());
  Reopen();
  auto items = outbox_->Peek(10);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].sequence, 7u);
  EXPECT_EQ((*items)[0].value, "legacy");
  EXPECT_EQ((*items)[0].append_time, clock_.Now());  // unknown: counted as now
  EXPECT_THAT(Append({"next"}), ElementsAre(8));
  Consume(1);
  EXPECT_THAT(Values(), ElementsAre("next"));
}

TEST(OutboxKeyTest, CorruptKeysAreDataLoss) {
  for (const std::string& key :
       {std::string(""), std::string("short"), std::string(12, 'x'),
        EncodeFixed64BigEndian(1) + EncodeFixed64BigEndian(~uint64_t{0})}) {
    EXPECT_EQ(DecodeOutboxKey(key).status().code(), absl::StatusCode::kDataLoss) << key.size();
  }
  auto good = DecodeOutboxKey(EncodeFixed64BigEndian(3) + EncodeFixed64BigEndian(5'000'000'000));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->sequence, 3u);
  EXPECT_EQ(good->append_time, absl::FromUnixSeconds(5));
}

}  // namespace
}  // namespace switchboard
