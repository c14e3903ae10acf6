// LogStore over a scratch RocksDB: appends, reads, dedup records, cursors,
// the log listing maintenance walks, compaction, and corrupt keys and values.
#include "services/notification/log_store.h"

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/proto_time.h"
#include "common/testing/subprocess.h"

namespace switchboard::notification {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

v1::Notification MakeNotification(const std::string& subscriber, uint64_t sequence,
                                  const std::string& event_id, absl::Time publish_time = kStart) {
  v1::Notification notification;
  notification.set_subscriber(subscriber);
  notification.set_sequence(sequence);
  notification.mutable_event()->set_id(event_id);
  notification.mutable_event()->set_type(issue::v1::EVENT_TYPE_ROUTED);
  notification.mutable_event()->add_recipients(subscriber);
  *notification.mutable_publish_time() = ToProtoTime(publish_time);
  return notification;
}

std::vector<uint64_t> Sequences(const std::vector<v1::Notification>& notifications) {
  std::vector<uint64_t> sequences;
  for (const v1::Notification& notification : notifications)
    sequences.push_back(notification.sequence());
  return sequences;
}

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({.path = dir_, .column_families = LogStore::ColumnFamilies()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<LogStore>(*db_);
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Write(rocksdb::WriteBatch& batch) { ASSERT_TRUE(db_->db().Write({}, &batch).ok()); }

  // Appends `count` notifications to `subscriber`'s log, sequences from
  // `first`, event ids "{prefix}{sequence}", published a minute apart.
  void AppendMany(const std::string& subscriber, uint64_t first, uint64_t count,
                  const std::string& prefix = "e") {
    rocksdb::WriteBatch batch;
    for (uint64_t sequence = first; sequence < first + count; ++sequence) {
      store_->Append(MakeNotification(subscriber, sequence, absl::StrCat(prefix, sequence),
                                      kStart + absl::Minutes(static_cast<int64_t>(sequence))),
                     batch);
    }
    Write(batch);
  }

  void SetCursor(const std::string& subscriber, uint64_t sequence) {
    rocksdb::WriteBatch batch;
    store_->SetCursor(subscriber, sequence, batch);
    Write(batch);
  }

  std::vector<uint64_t> ReadAll(const std::string& subscriber) {
    auto read = store_->ReadAfter(subscriber, 0, 1000);
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() ? Sequences(*read) : std::vector<uint64_t>{};
  }

  LogStore::LogState StateOf(const std::string& subscriber) {
    auto logs = store_->Logs("", 1000);
    EXPECT_TRUE(logs.ok()) << logs.status();
    if (logs.ok()) {
      for (const LogStore::LogState& log : *logs) {
        if (log.subscriber == subscriber) return log;
      }
    }
    ADD_FAILURE() << "no log of " << subscriber;
    return {};
  }

  // Compacts `subscriber`'s log as maintenance would; returns how many went.
  int64_t Compact(const std::string& subscriber, absl::Time cutoff, int limit = 1000) {
    rocksdb::WriteBatch batch;
    auto deleted = store_->Compact(StateOf(subscriber), cutoff, limit, batch);
    EXPECT_TRUE(deleted.ok()) << deleted.status();
    Write(batch);
    return deleted.ok() ? *deleted : -1;
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("log_store_test");
  std::unique_ptr<Database> db_;
  std::unique_ptr<LogStore> store_;
};

TEST_F(LogStoreTest, SequenceKeysSortInNumericOrderUnderTheirSubscriber) {
  EXPECT_EQ(SubscriberPrefix("teams/a"), std::string("teams/a\0", 8));
  EXPECT_EQ(SequenceKey("teams/a", 1), std::string("teams/a\0\0\0\0\0\0\0\0\1", 16));
  EXPECT_LT(SequenceKey("teams/a", 255), SequenceKey("teams/a", 256));
  EXPECT_LT(SequenceKey("teams/a", std::numeric_limits<uint64_t>::max()),
            SequenceKey("teams/ab", 0));
}

TEST_F(LogStoreTest, EmptyLogHasNoSequenceCursorOrEvents) {
  EXPECT_EQ(store_->LastSequence("teams/a").value(), 0u);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 0u);
  EXPECT_FALSE(store_->HasEvent("teams/a", "e1").value());
  EXPECT_THAT(ReadAll("teams/a"), IsEmpty());
  auto logs = store_->Logs("", 10);
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_THAT(*logs, IsEmpty());
}

TEST_F(LogStoreTest, AppendsReadBackInSequenceOrderWhateverTheBatchOrder) {
  rocksdb::WriteBatch batch;
  for (uint64_t sequence : {3, 1, 300, 2, 256}) {
    store_->Append(MakeNotification("teams/a", sequence, absl::StrCat("e", sequence)), batch);
  }
  Write(batch);

  auto read = store_->ReadAfter("teams/a", 0, 100);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(Sequences(*read), ElementsAre(1, 2, 3, 256, 300));
  EXPECT_EQ((*read)[3].event().id(), "e256");
  EXPECT_EQ((*read)[3].subscriber(), "teams/a");
  EXPECT_EQ(store_->LastSequence("teams/a").value(), 300u);
}

TEST_F(LogStoreTest, ReadAfterStartsAboveTheSequenceAndStopsAtTheLimit) {
  AppendMany("teams/a", 1, 6);
  EXPECT_THAT(Sequences(store_->ReadAfter("teams/a", 2, 3).value()), ElementsAre(3, 4, 5));
  EXPECT_THAT(Sequences(store_->ReadAfter("teams/a", 4, 100).value()), ElementsAre(5, 6));
  EXPECT_THAT(store_->ReadAfter("teams/a", 6, 100).value(), IsEmpty());
  EXPECT_THAT(store_->ReadAfter("teams/a", 0, 0).value(), IsEmpty());
}

// Sequence 2^64-1 is past every sequence a log can hold: nothing is after it.
TEST_F(LogStoreTest, ReadAfterTheLargestSequenceReadsNothing) {
  // after + 1 would wrap to 0 and replay the whole log: a Subscribe with
  // start_after = 18446744073709551615 reaches here through StartAfter.
  AppendMany("teams/a", 1, 3);
  auto read = store_->ReadAfter("teams/a", std::numeric_limits<uint64_t>::max(), 100);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(Sequences(*read), IsEmpty());
}

TEST_F(LogStoreTest, SubscribersWhoseNamesSharePrefixesKeepSeparateLogs) {
  AppendMany("teams/a", 1, 9);
  AppendMany("teams/ab", 1, 2);
  AppendMany("teams/", 1, 1);

  EXPECT_EQ(store_->LastSequence("teams/a").value(), 9u);
  EXPECT_EQ(store_->LastSequence("teams/ab").value(), 2u);
  EXPECT_EQ(store_->LastSequence("teams/").value(), 1u);
  EXPECT_EQ(store_->LastSequence("teams/aa").value(), 0u);  // sorts between two logs
  EXPECT_EQ(store_->LastSequence("teams/b").value(), 0u);   // sorts after every log
  EXPECT_THAT(ReadAll("teams/ab"), ElementsAre(1, 2));
  EXPECT_THAT(ReadAll("teams/"), ElementsAre(1));
  EXPECT_EQ(ReadAll("teams/a").size(), 9u);
}

TEST_F(LogStoreTest, DedupRecordsAreExactEventIdsOfOneSubscriber) {
  AppendMany("teams/a", 1, 2);  // e1, e2
  EXPECT_TRUE(store_->HasEvent("teams/a", "e1").value());
  EXPECT_TRUE(store_->HasEvent("teams/a", "e2").value());
  EXPECT_FALSE(store_->HasEvent("teams/a", "e3").value());
  EXPECT_FALSE(store_->HasEvent("teams/a", "e").value());    // a prefix of an id
  EXPECT_FALSE(store_->HasEvent("teams/a", "e10").value());  // an id it prefixes
  EXPECT_FALSE(store_->HasEvent("teams/b", "e1").value());   // another subscriber
}

TEST_F(LogStoreTest, CursorHoldsWhatWasLastSetPerSubscriber) {
  SetCursor("teams/a", 7);
  SetCursor("teams/ab", 2);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 7u);
  EXPECT_EQ(store_->Cursor("teams/ab").value(), 2u);
  EXPECT_EQ(store_->Cursor("teams/b").value(), 0u);
  // The store writes what it is given; keeping cursors from moving back is
  // NotificationCore's job.
  SetCursor("teams/a", 3);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 3u);
}

TEST_F(LogStoreTest, LogsListsEverySubscriberInNameOrderWithItsState) {
  AppendMany("teams/b", 1, 2);
  SetCursor("teams/b", 2);  // all acknowledged
  AppendMany("teams/a", 1, 3);
  SetCursor("teams/a", 1);
  AppendMany("sources/crm", 1, 1);  // nothing acknowledged
  SetCursor("teams/no-log", 5);     // a cursor alone is no log

  auto logs = store_->Logs("", 10);
  ASSERT_TRUE(logs.ok()) << logs.status();
  ASSERT_EQ(logs->size(), 3u);
  const LogStore::LogState& crm = (*logs)[0];
  const LogStore::LogState& a = (*logs)[1];
  const LogStore::LogState& b = (*logs)[2];
  EXPECT_EQ(crm.subscriber, "sources/crm");
  EXPECT_EQ(crm.first, 1u);
  EXPECT_EQ(crm.last, 1u);
  EXPECT_EQ(crm.cursor, 0u);
  EXPECT_EQ(crm.oldest_unacknowledged, kStart + absl::Minutes(1));
  EXPECT_EQ(a.subscriber, "teams/a");
  EXPECT_EQ(a.first, 1u);
  EXPECT_EQ(a.last, 3u);
  EXPECT_EQ(a.cursor, 1u);
  EXPECT_EQ(a.oldest_unacknowledged, kStart + absl::Minutes(2));  // sequence 2's
  EXPECT_EQ(b.subscriber, "teams/b");
  EXPECT_EQ(b.last, 2u);
  EXPECT_EQ(b.cursor, 2u);
  EXPECT_EQ(b.oldest_unacknowledged, absl::InfinitePast());
}

TEST_F(LogStoreTest, LogsPagesAfterASubscriberUpToTheLimit) {
  const std::vector<std::string> names = {"teams/a", "teams/a-1", "teams/ab", "teams/b", "teams/c"};
  for (const std::string& name : names) AppendMany(name, 1, 3);

  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    auto logs = store_->Logs(after, 2);
    ASSERT_TRUE(logs.ok()) << logs.status();
    EXPECT_LE(logs->size(), 2u);
    if (logs->empty()) break;
    for (const LogStore::LogState& log : *logs) {
      seen.push_back(log.subscriber);
      EXPECT_EQ(log.first, 1u);
      EXPECT_EQ(log.last, 3u);
    }
    after = logs->back().subscriber;
  }
  EXPECT_EQ(seen, names);
  EXPECT_THAT(store_->Logs("teams/c", 10).value(), IsEmpty());
  // A subscriber with no log of its own resumes at the next one after it.
  auto from = store_->Logs("teams/aa", 10);
  ASSERT_TRUE(from.ok()) << from.status();
  ASSERT_FALSE(from->empty());
  EXPECT_EQ(from->front().subscriber, "teams/ab");
}

TEST_F(LogStoreTest, CompactDeletesAcknowledgedNotificationsBeforeTheCutoffWithTheirDedup) {
  AppendMany("teams/a", 1, 5);  // published at kStart + 1..5 min
  SetCursor("teams/a", 3);

  EXPECT_EQ(Compact("teams/a", kStart + absl::Hours(1)), 3);
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(4, 5));
  EXPECT_FALSE(store_->HasEvent("teams/a", "e3").value());
  EXPECT_TRUE(store_->HasEvent("teams/a", "e4").value());
  EXPECT_EQ(store_->LastSequence("teams/a").value(), 5u);
  EXPECT_EQ(StateOf("teams/a").first, 4u);
}

TEST_F(LogStoreTest, CompactKeepsTheNewestNotificationSoTheSequenceCarriesOn) {
  AppendMany("teams/a", 1, 4);
  SetCursor("teams/a", 4);
  EXPECT_EQ(Compact("teams/a", kStart + absl::Hours(1)), 3);
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(4));
  EXPECT_EQ(store_->LastSequence("teams/a").value(), 4u);
  // Nothing more can go.
  EXPECT_EQ(Compact("teams/a", kStart + absl::Hours(1)), 0);
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(4));
}

TEST_F(LogStoreTest, CompactStopsAtTheCutoffAndTheLimitAndResumes) {
  AppendMany("teams/a", 1, 6);
  SetCursor("teams/a", 6);
  // Published at +1..+6 min; only those before +3 min are old enough.
  EXPECT_EQ(Compact("teams/a", kStart + absl::Minutes(3)), 2);
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(3, 4, 5, 6));

  EXPECT_EQ(Compact("teams/a", kStart + absl::Hours(1), /*limit=*/2), 2);
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(5, 6));
  EXPECT_EQ(Compact("teams/a", kStart + absl::Hours(1), /*limit=*/2), 1);
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(6));
}

TEST_F(LogStoreTest, CompactLeavesUnacknowledgedAndOtherSubscribersNotifications) {
  AppendMany("teams/a", 1, 3);
  AppendMany("teams/ab", 1, 3);
  SetCursor("teams/ab", 3);
  EXPECT_EQ(Compact("teams/a", kStart + absl::Hours(1)), 0);  // cursor 0
  EXPECT_THAT(ReadAll("teams/a"), ElementsAre(1, 2, 3));
  EXPECT_THAT(ReadAll("teams/ab"), ElementsAre(1, 2, 3));

  rocksdb::WriteBatch batch;
  LogStore::LogState empty{.subscriber = "teams/none"};
  auto deleted = store_->Compact(empty, kStart + absl::Hours(1), 10, batch);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 0);
  EXPECT_EQ(batch.Count(), 0u);
}

TEST_F(LogStoreTest, CorruptKeysAndValuesAreDataLoss) {
  rocksdb::ColumnFamilyHandle* log = db_->Family("log");
  AppendMany("teams/a", 1, 1);
  // A key of teams/b with a 3-byte sequence.
  ASSERT_TRUE(db_->db().Put({}, log, absl::StrCat(SubscriberPrefix("teams/b"), "xyz"), "").ok());
  // A sequence key whose value is not a Notification.
  ASSERT_TRUE(db_->db().Put({}, log, SequenceKey("teams/c", 1), "\x0a\xff").ok());
  // A cursor that is not 8 bytes.
  ASSERT_TRUE(db_->db().Put({}, db_->Family("cursors"), "teams/d", "short").ok());

  EXPECT_EQ(store_->LastSequence("teams/a").value(), 1u);  // its neighbours do not matter
  EXPECT_EQ(store_->LastSequence("teams/b").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->ReadAfter("teams/c", 0, 10).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->Cursor("teams/d").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->Logs("", 10).status().code(), absl::StatusCode::kDataLoss);
  // A log key without the subscriber's terminating NUL.
  ASSERT_TRUE(db_->db().Delete({}, log, absl::StrCat(SubscriberPrefix("teams/b"), "xyz")).ok());
  ASSERT_TRUE(db_->db().Delete({}, log, SequenceKey("teams/c", 1)).ok());
  ASSERT_TRUE(db_->db().Put({}, log, "teams/z-no-terminator", "").ok());
  auto logs = store_->Logs("", 10);
  EXPECT_EQ(logs.status().code(), absl::StatusCode::kDataLoss) << logs.status();
}

TEST_F(LogStoreTest, ScanPrefixPagesWithTheLastKeyAndEndsWithThePrefix) {
  AppendMany("teams/a", 1, 5);
  AppendMany("teams/ab", 1, 2);
  rocksdb::ColumnFamilyHandle* log = db_->Family("log");
  const std::string prefix = SubscriberPrefix("teams/a");

  std::string last_key;
  auto page = ScanPrefix<v1::Notification>(db_->db(), log, prefix, "", 2, &last_key);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Sequences(*page), ElementsAre(1, 2));
  EXPECT_EQ(last_key, SequenceKey("teams/a", 2));
  // `after` must not be the string ScanPrefix writes the last key to.
  std::string after = last_key;
  page = ScanPrefix<v1::Notification>(db_->db(), log, prefix, after, 2, &last_key);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Sequences(*page), ElementsAre(3, 4));
  EXPECT_EQ(last_key, SequenceKey("teams/a", 4));
  // Exactly the rest: no key to resume after.
  after = last_key;
  page = ScanPrefix<v1::Notification>(db_->db(), log, prefix, after, 1, &last_key);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Sequences(*page), ElementsAre(5));
  EXPECT_EQ(last_key, "");

  // A key outside the prefix starts from its beginning.
  page = ScanPrefix<v1::Notification>(db_->db(), log, prefix, SequenceKey("teams/ab", 1), 10,
                                      &last_key);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Sequences(*page), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(last_key, "");

  ASSERT_TRUE(db_->db().Put({}, log, SequenceKey("teams/ab", 3), "\x0a\xff").ok());
  EXPECT_EQ(
      ScanPrefix<v1::Notification>(db_->db(), log, SubscriberPrefix("teams/ab"), "", 10, &last_key)
          .status()
          .code(),
      absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace switchboard::notification
