// NotificationCore without gRPC, on a scratch RocksDB, a real CommitQueue and
// a FakeClock: publishing, deduplication, validation, cursors, listing and
// the watchers streams rely on.
#include "services/notification/notification_core.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/sync.h"
#include "common/testing/subprocess.h"

namespace switchboard::notification {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
constexpr absl::Duration kWait = absl::Seconds(10);

// The outcome of one asynchronous call, kept alive by its callback so that a
// late callback after a failed wait touches nothing freed.
template <typename T>
class Outcome {
 public:
  auto Callback() {
    return [state = state_](T value) {
      MutexLock lock(state->mu);
      state->value = std::move(value);
      state->done.SignalAll();
    };
  }

  bool ready() const {
    MutexLock lock(state_->mu);
    return state_->value.has_value();
  }

  // The outcome, waiting up to `timeout` for it; nullopt if it did not come.
  std::optional<T> Wait(absl::Duration timeout = kWait) const {
    MutexLock lock(state_->mu);
    const absl::Time deadline = absl::Now() + timeout;
    while (!state_->value.has_value()) {
      if (!state_->done.WaitWithDeadline(state_->mu, deadline)) break;
    }
    return state_->value;
  }

 private:
  struct State {
    Mutex mu;
    CondVar done;
    std::optional<T> value ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Holds the commit queue's only thread in a commit callback, so that every
// batch queued after it stays queued, and not durable, until Release().
class CommitGate {
 public:
  explicit CommitGate(CommitQueue& commits, Database& db) {
    rocksdb::WriteBatch batch;
    EXPECT_TRUE(batch.Put(db.Family("default"), "gate", "").ok());
    commits.Commit(std::move(batch), [state = state_](const absl::Status&) {
      MutexLock lock(state->mu);
      state->entered = true;
      state->changed.SignalAll();
      // Bounded, so that a failing test cannot hang the queue for ever.
      const absl::Time deadline = absl::Now() + kWait;
      while (!state->released) {
        if (!state->changed.WaitWithDeadline(state->mu, deadline)) break;
      }
    });
    MutexLock lock(state_->mu);
    const absl::Time deadline = absl::Now() + kWait;
    while (!state_->entered) {
      if (!state_->changed.WaitWithDeadline(state_->mu, deadline)) break;
    }
    EXPECT_TRUE(state_->entered) << "the commit queue never ran the gate";
  }

  ~CommitGate() { Release(); }

  void Release() {
    MutexLock lock(state_->mu);
    state_->released = true;
    state_->changed.SignalAll();
  }

 private:
  struct State {
    Mutex mu;
    CondVar changed;
    bool entered ABSL_GUARDED_BY(mu) = false;
    bool released ABSL_GUARDED_BY(mu) = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// A stream stand-in: counts what it is told and, when told of an append,
// reads how far the log it watches is durable at that moment.
class FakeWatcher final : public LogWatcher {
 public:
  FakeWatcher(LogStore& store, std::string subscriber)
      : store_(store), subscriber_(std::move(subscriber)) {}

  void OnAppended() override {
    absl::StatusOr<uint64_t> last = store_.LastSequence(subscriber_);
    MutexLock lock(mu_);
    last_seen_.push_back(last.ok() ? *last : 0);
  }

  void OnShutdown() override {
    MutexLock lock(mu_);
    ++shutdowns_;
  }

  int appended() const {
    MutexLock lock(mu_);
    return static_cast<int>(last_seen_.size());
  }
  // The log's last durable sequence as seen in each OnAppended.
  std::vector<uint64_t> last_seen() const {
    MutexLock lock(mu_);
    return last_seen_;
  }
  int shutdowns() const {
    MutexLock lock(mu_);
    return shutdowns_;
  }

 private:
  LogStore& store_;
  const std::string subscriber_;
  mutable Mutex mu_;
  std::vector<uint64_t> last_seen_ ABSL_GUARDED_BY(mu_);
  int shutdowns_ ABSL_GUARDED_BY(mu_) = 0;
};

issue::v1::IssueEvent Event(const std::string& id, const std::vector<std::string>& recipients) {
  issue::v1::IssueEvent event;
  event.set_id(id);
  event.set_type(issue::v1::EVENT_TYPE_ROUTED);
  event.mutable_issue()->set_title(absl::StrCat("issue of ", id));
  for (const std::string& recipient : recipients) event.add_recipients(recipient);
  return event;
}

v1::PublishRequest Request(const std::vector<issue::v1::IssueEvent>& events) {
  v1::PublishRequest request;
  for (const issue::v1::IssueEvent& event : events) *request.add_events() = event;
  return request;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation : GetFieldViolations(status))
    fields.push_back(violation.field);
  return fields;
}

class NotificationCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({.path = dir_, .column_families = LogStore::ColumnFamilies()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    commits_ = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "test"});
    store_ = std::make_unique<LogStore>(*db_);
    core_ = std::make_unique<NotificationCore>(*store_, *commits_, metrics_, clock_);
  }

  void TearDown() override {
    core_.reset();
    commits_.reset();
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<v1::PublishResponse> Publish(const v1::PublishRequest& request) {
    Outcome<absl::StatusOr<v1::PublishResponse>> outcome;
    core_->Publish(request, outcome.Callback());
    std::optional<absl::StatusOr<v1::PublishResponse>> result = outcome.Wait();
    if (!result.has_value()) return absl::DeadlineExceededError("Publish never completed");
    return *result;
  }

  // Publishes one event; returns how many notifications it appended.
  int64_t PublishOne(const std::string& id, const std::vector<std::string>& recipients) {
    absl::StatusOr<v1::PublishResponse> response = Publish(Request({Event(id, recipients)}));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->appended() : -1;
  }

  absl::StatusOr<uint64_t> Acknowledge(const std::string& subscriber, uint64_t sequence) {
    v1::AcknowledgeNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_sequence(sequence);
    Outcome<absl::StatusOr<v1::AcknowledgeNotificationsResponse>> outcome;
    core_->Acknowledge(request, outcome.Callback());
    auto result = outcome.Wait();
    if (!result.has_value()) return absl::DeadlineExceededError("Acknowledge never completed");
    if (!result->ok()) return result->status();
    return (*result)->acknowledged_sequence();
  }

  absl::Status CommitWithCursor(const std::string& subscriber, uint64_t sequence,
                                rocksdb::WriteBatch batch) {
    Outcome<absl::Status> outcome;
    core_->CommitWithCursor(subscriber, sequence, std::move(batch), outcome.Callback());
    return outcome.Wait().value_or(absl::DeadlineExceededError("the commit never completed"));
  }

  rocksdb::WriteBatch PutDefault(const std::string& key) {
    rocksdb::WriteBatch batch;
    EXPECT_TRUE(batch.Put(db_->Family("default"), key, "value").ok());
    return batch;
  }

  bool HasDefault(const std::string& key) {
    std::string value;
    return db_->db().Get({}, db_->Family("default"), key, &value).ok();
  }

  std::vector<v1::Notification> Log(const std::string& subscriber) {
    auto read = store_->ReadAfter(subscriber, 0, 10000);
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() ? *read : std::vector<v1::Notification>{};
  }

  std::vector<uint64_t> Sequences(const std::string& subscriber) {
    std::vector<uint64_t> sequences;
    for (const v1::Notification& notification : Log(subscriber))
      sequences.push_back(notification.sequence());
    return sequences;
  }

  std::vector<std::string> EventIds(const std::string& subscriber) {
    std::vector<std::string> ids;
    for (const v1::Notification& notification : Log(subscriber))
      ids.push_back(notification.event().id());
    return ids;
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("notification_core_test");
  FakeClock clock_{kStart};
  prometheus::Registry registry_;
  NotificationMetrics metrics_{registry_};
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<LogStore> store_;
  std::unique_ptr<NotificationCore> core_;
};

TEST_F(NotificationCoreTest, PublishAssignsEachSubscriberDenseSequencesInOrder) {
  auto response = Publish(Request({Event("e1", {"teams/a", "teams/b"}), Event("e2", {"teams/a"}),
                                   Event("e3", {"teams/b", "sources/crm"})}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->appended(), 5);
  EXPECT_THAT(EventIds("teams/a"), ElementsAre("e1", "e2"));
  EXPECT_THAT(Sequences("teams/a"), ElementsAre(1, 2));
  EXPECT_THAT(EventIds("teams/b"), ElementsAre("e1", "e3"));
  EXPECT_THAT(Sequences("teams/b"), ElementsAre(1, 2));
  EXPECT_THAT(EventIds("sources/crm"), ElementsAre("e3"));

  const v1::Notification stored = Log("teams/b")[1];
  EXPECT_EQ(stored.subscriber(), "teams/b");
  EXPECT_EQ(stored.event().issue().title(), "issue of e3");
  EXPECT_THAT(stored.event().recipients(), ElementsAre("teams/b", "sources/crm"));
  EXPECT_EQ(FromProtoTime(stored.publish_time()), kStart);

  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(PublishOne("e4", {"teams/a"}), 1);
  EXPECT_THAT(Sequences("teams/a"), ElementsAre(1, 2, 3));
  EXPECT_EQ(FromProtoTime(Log("teams/a")[2].publish_time()), kStart + absl::Minutes(5));
  EXPECT_EQ(metrics_.events_published.Value(), 4);
  EXPECT_EQ(metrics_.appended.Value(), 6);
}

TEST_F(NotificationCoreTest, ProblemEventsWithoutAnIssueArePublishedAsAnyOther) {
  issue::v1::IssueEvent opened;
  opened.set_id("problems/p1/1/problem_opened");
  opened.set_type(issue::v1::EVENT_TYPE_PROBLEM_OPENED);
  opened.mutable_problem()->set_name("problems/p1");
  opened.add_recipients("teams/a");
  opened.add_recipients("business-groups/g");
  issue::v1::IssueEvent linked = Event("issues/i1/2/problem_linked", {"teams/a"});
  linked.set_type(issue::v1::EVENT_TYPE_PROBLEM_LINKED);
  *linked.mutable_problem() = opened.problem();
  auto published = Publish(Request({opened, linked}));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->appended(), 3);
  auto read = store_->ReadAfter("teams/a", 0, 10);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].event().type(), issue::v1::EVENT_TYPE_PROBLEM_OPENED);
  EXPECT_FALSE((*read)[0].event().has_issue());
  EXPECT_EQ((*read)[0].event().problem().name(), "problems/p1");
  EXPECT_EQ((*read)[1].event().problem().name(), "problems/p1");
}

TEST_F(NotificationCoreTest, PublishCarriesOnFromTheStoredLogAfterARestart) {
  EXPECT_EQ(PublishOne("e1", {"teams/a"}), 1);
  EXPECT_EQ(PublishOne("e2", {"teams/a"}), 1);
  // A new core knows nothing in memory: it reads where the log ends, and
  // which events it holds.
  core_ = std::make_unique<NotificationCore>(*store_, *commits_, metrics_, clock_);
  EXPECT_EQ(PublishOne("e2", {"teams/a"}), 0);
  EXPECT_EQ(PublishOne("e3", {"teams/a"}), 1);
  EXPECT_THAT(EventIds("teams/a"), ElementsAre("e1", "e2", "e3"));
  EXPECT_THAT(Sequences("teams/a"), ElementsAre(1, 2, 3));
}

TEST_F(NotificationCoreTest, PublishSkipsAnEventAlreadyStoredInTheSubscribersLog) {
  EXPECT_EQ(PublishOne("e1", {"teams/a"}), 1);
  // Republished (intake retrying) with one more recipient: only that one is new.
  EXPECT_EQ(PublishOne("e1", {"teams/a", "teams/b"}), 1);
  EXPECT_THAT(EventIds("teams/a"), ElementsAre("e1"));
  EXPECT_THAT(EventIds("teams/b"), ElementsAre("e1"));
  EXPECT_EQ(metrics_.appended.Value(), 2);
}

TEST_F(NotificationCoreTest, PublishAppendsAnEventOnceWhenARequestRepeatsIt) {
  auto response = Publish(Request(
      {Event("e1", {"teams/a", "teams/a"}), Event("e1", {"teams/a"}), Event("e2", {"teams/a"})}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->appended(), 2);
  EXPECT_THAT(EventIds("teams/a"), ElementsAre("e1", "e2"));
  EXPECT_THAT(Sequences("teams/a"), ElementsAre(1, 2));
}

TEST_F(NotificationCoreTest, PublishSkipsAnEventQueuedByAnotherPublishNotYetDurable) {
  CommitGate gate(*commits_, *db_);
  Outcome<absl::StatusOr<v1::PublishResponse>> first;
  Outcome<absl::StatusOr<v1::PublishResponse>> second;
  core_->Publish(Request({Event("e1", {"teams/a"})}), first.Callback());
  // e1 is queued for teams/a but not in the log yet.
  EXPECT_FALSE(store_->HasEvent("teams/a", "e1").value());
  core_->Publish(Request({Event("e1", {"teams/a", "teams/b"}), Event("e2", {"teams/a"})}),
                 second.Callback());
  EXPECT_FALSE(first.ready());  // nothing completes before it is durable
  EXPECT_FALSE(second.ready());
  gate.Release();

  auto first_result = first.Wait();
  auto second_result = second.Wait();
  ASSERT_TRUE(first_result.has_value() && first_result->ok());
  ASSERT_TRUE(second_result.has_value() && second_result->ok());
  EXPECT_EQ((*first_result)->appended(), 1);
  EXPECT_EQ((*second_result)->appended(), 2);  // e1 for teams/b, e2 for teams/a
  EXPECT_THAT(EventIds("teams/a"), ElementsAre("e1", "e2"));
  EXPECT_THAT(Sequences("teams/a"), ElementsAre(1, 2));
  EXPECT_THAT(EventIds("teams/b"), ElementsAre("e1"));
}

TEST_F(NotificationCoreTest, PublishRefusesAnInvalidRequestAtOnceListingEachViolation) {
  issue::v1::IssueEvent blank;  // no id, no type, no recipients
  issue::v1::IssueEvent bad_recipients =
      Event("e2", {"teams/a", "people/jane", "teams/", "submitters/jane@contoso.com"});
  issue::v1::IssueEvent long_id = Event(std::string(257, 'x'), {"teams/a"});
  std::vector<std::string> many;
  for (int i = 0; i < 65; ++i) many.push_back(absl::StrCat("teams/t", i));
  issue::v1::IssueEvent too_many = Event("e4", many);
  issue::v1::IssueEvent valid = Event("e5", {"teams/a"});

  Outcome<absl::StatusOr<v1::PublishResponse>> outcome;
  core_->Publish(Request({blank, bad_recipients, long_id, too_many, valid}), outcome.Callback());
  ASSERT_TRUE(outcome.ready()) << "an invalid request is refused before anything is queued";
  absl::StatusOr<v1::PublishResponse> result = *outcome.Wait();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(result.status()),
              UnorderedElementsAre("events[0].id", "events[0].type", "events[0].recipients",
                                   "events[1].recipients[1]", "events[1].recipients[2]",
                                   "events[2].id", "events[3].recipients"));
  // All or nothing: the valid event was not appended either.
  EXPECT_THAT(Log("teams/a"), IsEmpty());

  result = Publish(v1::PublishRequest());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(result.status()), ElementsAre("events"));

  // The limits themselves are allowed.
  std::vector<std::string> most;
  for (int i = 0; i < 64; ++i) most.push_back(absl::StrCat("teams/t", i));
  EXPECT_EQ(PublishOne(std::string(256, 'x'), most), 64);
  EXPECT_EQ(metrics_.events_published.Value(), 1);
}

TEST_F(NotificationCoreTest, AcknowledgeMovesTheCursorForwardNeverBack) {
  for (int i = 1; i <= 5; ++i) PublishOne(absl::StrCat("e", i), {"teams/a"});

  EXPECT_EQ(Acknowledge("teams/a", 3).value(), 3u);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 3u);
  EXPECT_EQ(Acknowledge("teams/a", 2).value(), 3u);  // answers with the cursor
  EXPECT_EQ(store_->Cursor("teams/a").value(), 3u);
  EXPECT_EQ(Acknowledge("teams/a", 5).value(), 5u);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 5u);
  EXPECT_EQ(core_->AcknowledgedCursor("teams/a").value(), 5u);

  // A new core reads the durable cursor: still never back.
  core_ = std::make_unique<NotificationCore>(*store_, *commits_, metrics_, clock_);
  EXPECT_EQ(core_->AcknowledgedCursor("teams/a").value(), 5u);
  EXPECT_EQ(Acknowledge("teams/a", 1).value(), 5u);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 5u);
}

TEST_F(NotificationCoreTest, AcknowledgeRefusesBadSubscribersZeroAndSequencesPastTheLog) {
  PublishOne("e1", {"teams/a"});
  PublishOne("e2", {"teams/a"});

  absl::StatusOr<uint64_t> refused = Acknowledge("people/jane", 0);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(refused.status()), UnorderedElementsAre("subscriber", "sequence"));

  refused = Acknowledge("teams/a", 3);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(refused.status()), ElementsAre("sequence"));
  EXPECT_EQ(Acknowledge("teams/empty", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 0u);
  EXPECT_EQ(Acknowledge("teams/a", 2).value(), 2u);
}

TEST_F(NotificationCoreTest, CommitWithCursorWritesTheBatchAndMovesTheCursorOnlyForward) {
  PublishOne("e1", {"teams/a"});
  ASSERT_TRUE(CommitWithCursor("teams/a", 4, PutDefault("x")).ok());
  EXPECT_TRUE(HasDefault("x"));
  EXPECT_EQ(store_->Cursor("teams/a").value(), 4u);

  ASSERT_TRUE(CommitWithCursor("teams/a", 0, PutDefault("y")).ok());  // 0: leaves it
  EXPECT_TRUE(HasDefault("y"));
  EXPECT_EQ(store_->Cursor("teams/a").value(), 4u);
  ASSERT_TRUE(CommitWithCursor("teams/a", 2, PutDefault("z")).ok());
  EXPECT_TRUE(HasDefault("z"));
  EXPECT_EQ(store_->Cursor("teams/a").value(), 4u);
  EXPECT_EQ(core_->AcknowledgedCursor("teams/a").value(), 4u);
}

// An acknowledgement and push progress queued together: whichever is
// written last, the cursor ends at the higher one, and AcknowledgedCursor
// counts both before either is durable.
TEST_F(NotificationCoreTest, CursorWritesInFlightNeverMoveTheCursorBack) {
  for (int i = 1; i <= 6; ++i) PublishOne(absl::StrCat("e", i), {"teams/a"});
  EXPECT_EQ(Acknowledge("teams/a", 1).value(), 1u);

  CommitGate gate(*commits_, *db_);
  v1::AcknowledgeNotificationsRequest ack;
  ack.set_subscriber("teams/a");
  ack.set_sequence(5);
  Outcome<absl::StatusOr<v1::AcknowledgeNotificationsResponse>> acked;
  core_->Acknowledge(ack, acked.Callback());
  Outcome<absl::Status> pushed;
  core_->CommitWithCursor("teams/a", 3, PutDefault("progress"), pushed.Callback());
  EXPECT_EQ(core_->AcknowledgedCursor("teams/a").value(), 5u);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 1u);  // neither is durable yet
  gate.Release();

  auto ack_result = acked.Wait();
  ASSERT_TRUE(ack_result.has_value() && ack_result->ok());
  EXPECT_EQ((*ack_result)->acknowledged_sequence(), 5u);
  EXPECT_TRUE(pushed.Wait().value_or(absl::UnknownError("no outcome")).ok());
  EXPECT_TRUE(HasDefault("progress"));
  EXPECT_EQ(store_->Cursor("teams/a").value(), 5u);
}

TEST_F(NotificationCoreTest, ListPagesThroughTheStoredLogOldestFirst) {
  for (int i = 1; i <= 5; ++i) PublishOne(absl::StrCat("e", i), {"teams/a", "teams/b"});

  v1::ListNotificationsRequest request;
  request.set_subscriber("teams/a");
  request.set_page_size(2);
  std::vector<std::vector<uint64_t>> pages;
  for (int page = 0; page < 10; ++page) {
    auto response = core_->List(request);
    ASSERT_TRUE(response.ok()) << response.status();
    std::vector<uint64_t>& sequences = pages.emplace_back();
    for (const v1::Notification& notification : response->notifications()) {
      EXPECT_EQ(notification.subscriber(), "teams/a");
      sequences.push_back(notification.sequence());
    }
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(pages, ElementsAre(ElementsAre(1, 2), ElementsAre(3, 4), ElementsAre(5)));

  // A token is for the subscriber it was made for.
  request.set_page_size(2);
  request.clear_page_token();
  const std::string token = core_->List(request).value().next_page_token();
  ASSERT_FALSE(token.empty());
  v1::ListNotificationsRequest other;
  other.set_subscriber("teams/b");
  other.set_page_token(token);
  EXPECT_EQ(core_->List(other).status().code(), absl::StatusCode::kInvalidArgument);

  other.clear_page_token();
  other.set_page_size(-1);
  EXPECT_THAT(Fields(core_->List(other).status()), ElementsAre("page_size"));
  other.set_subscriber("nobody");
  other.set_page_size(0);
  EXPECT_THAT(Fields(core_->List(other).status()), ElementsAre("subscriber"));
  other.set_subscriber("teams/empty");
  auto empty = core_->List(other);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(empty->notifications(), IsEmpty());
  EXPECT_EQ(empty->next_page_token(), "");
}

TEST_F(NotificationCoreTest, SubscribeStartsAfterTheRequestedSequenceOrTheCursor) {
  for (int i = 1; i <= 5; ++i) PublishOne(absl::StrCat("e", i), {"teams/a"});
  v1::SubscribeRequest request;
  request.set_subscriber("teams/a");
  EXPECT_EQ(core_->StartAfter(request).value(), 0u);
  ASSERT_TRUE(Acknowledge("teams/a", 2).ok());
  EXPECT_EQ(core_->StartAfter(request).value(), 2u);
  request.set_start_after(4);
  EXPECT_EQ(core_->StartAfter(request).value(), 4u);
  request.set_start_after(1);  // before the cursor: a replay
  EXPECT_EQ(core_->StartAfter(request).value(), 1u);
  request.set_subscriber("teams");
  EXPECT_THAT(Fields(core_->StartAfter(request).status()), ElementsAre("subscriber"));

  auto read = core_->ReadAfter("teams/a", 2, 2);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].sequence(), 3u);
  EXPECT_EQ((*read)[1].sequence(), 4u);
}

TEST_F(NotificationCoreTest, WatchersAreToldOnceDurableAndOnlyForTheirSubscriber) {
  FakeWatcher a1(*store_, "teams/a");
  FakeWatcher a2(*store_, "teams/a");
  FakeWatcher b(*store_, "teams/b");
  core_->Watch("teams/a", &a1);
  core_->Watch("teams/a", &a2);
  core_->Watch("teams/b", &b);

  {
    CommitGate gate(*commits_, *db_);
    Outcome<absl::StatusOr<v1::PublishResponse>> published;
    core_->Publish(Request({Event("e1", {"teams/a", "teams/c"}), Event("e2", {"teams/a"})}),
                   published.Callback());
    EXPECT_EQ(a1.appended(), 0);  // queued, not durable
    gate.Release();
    auto result = published.Wait();
    ASSERT_TRUE(result.has_value() && result->ok());
  }
  // Once per publish, with both appends already readable.
  EXPECT_THAT(a1.last_seen(), ElementsAre(2));
  EXPECT_THAT(a2.last_seen(), ElementsAre(2));
  EXPECT_EQ(b.appended(), 0);

  // A publish that appends nothing wakes nobody.
  EXPECT_EQ(PublishOne("e1", {"teams/a"}), 0);
  EXPECT_EQ(a1.appended(), 1);

  core_->Unwatch("teams/a", &a1);
  EXPECT_EQ(PublishOne("e3", {"teams/a", "teams/b"}), 2);
  EXPECT_THAT(a1.last_seen(), ElementsAre(2));
  EXPECT_THAT(a2.last_seen(), ElementsAre(2, 3));
  EXPECT_THAT(b.last_seen(), ElementsAre(1));
  EXPECT_EQ(a1.shutdowns() + a2.shutdowns() + b.shutdowns(), 0);
  core_->Unwatch("teams/a", &a2);
  core_->Unwatch("teams/b", &b);
}

TEST_F(NotificationCoreTest, ShutdownTellsEveryWatcherAndLaterWatchersAtOnce) {
  FakeWatcher a(*store_, "teams/a");
  FakeWatcher b(*store_, "teams/b");
  FakeWatcher gone(*store_, "teams/a");
  core_->Watch("teams/a", &a);
  core_->Watch("teams/b", &b);
  core_->Watch("teams/a", &gone);
  core_->Unwatch("teams/a", &gone);

  core_->Shutdown();
  EXPECT_EQ(a.shutdowns(), 1);
  EXPECT_EQ(b.shutdowns(), 1);
  EXPECT_EQ(gone.shutdowns(), 0);

  FakeWatcher late(*store_, "teams/c");
  core_->Watch("teams/c", &late);
  EXPECT_EQ(late.shutdowns(), 1);  // before Watch returned
  // It was not registered: appends to its log do not reach it.
  EXPECT_EQ(PublishOne("e1", {"teams/c"}), 1);
  EXPECT_EQ(late.appended(), 0);
  core_->Unwatch("teams/c", &late);
  core_->Unwatch("teams/a", &a);
  core_->Unwatch("teams/b", &b);
}

// Publishers on several threads, all queueing at once, some with the same
// event ids: every log stays dense, in order, and holds each event once.
TEST_F(NotificationCoreTest, ConcurrentPublishersKeepLogsDenseWithEachEventOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 60;
  Mutex mu;
  CondVar finished;
  // Guarded by mu.
  int remaining = kThreads * kPerThread;
  int64_t appended = 0;
  std::vector<absl::Status> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Each thread's own event to the shared log and its own, and an event
        // every thread publishes to the shared log.
        core_->Publish(Request({Event(absl::StrCat("t", t, "-", i),
                                      {"teams/shared", absl::StrCat("teams/t", t)}),
                                Event(absl::StrCat("common-", i), {"teams/shared"})}),
                       [&](absl::StatusOr<v1::PublishResponse> response) {
                         MutexLock lock(mu);
                         if (response.ok()) {
                           appended += response->appended();
                         } else {
                           errors.push_back(response.status());
                         }
                         if (--remaining == 0) finished.SignalAll();
                       });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  {
    MutexLock lock(mu);
    const absl::Time deadline = absl::Now() + kWait;
    while (remaining > 0) {
      if (!finished.WaitWithDeadline(mu, deadline)) break;
    }
    ASSERT_EQ(remaining, 0);
    EXPECT_THAT(errors, IsEmpty());
    EXPECT_EQ(appended, kThreads * kPerThread * 2 + kPerThread);
  }

  const std::vector<v1::Notification> shared = Log("teams/shared");
  ASSERT_EQ(shared.size(), size_t{kThreads * kPerThread + kPerThread});
  absl::flat_hash_set<std::string> ids;
  for (size_t i = 0; i < shared.size(); ++i) {
    EXPECT_EQ(shared[i].sequence(), i + 1);
    EXPECT_TRUE(ids.insert(shared[i].event().id()).second) << shared[i].event().id();
  }
  for (int t = 0; t < kThreads; ++t) {
    const std::vector<v1::Notification> own = Log(absl::StrCat("teams/t", t));
    ASSERT_EQ(own.size(), size_t{kPerThread});
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(own[i].sequence(), static_cast<uint64_t>(i + 1));
      // One thread's events are in its publish order.
      EXPECT_EQ(own[i].event().id(), absl::StrCat("t", t, "-", i));
    }
  }
}

// Publish calls Commit with its mutex held, and its callback takes the same
// mutex; a refusal from a stopped queue must not deadlock it.
TEST_F(NotificationCoreTest, PublishAfterTheCommitQueueStoppedIsUnavailable) {
  commits_->Stop();
  Outcome<absl::StatusOr<v1::PublishResponse>> outcome;
  std::thread publisher(
      [&] { core_->Publish(Request({Event("e1", {"teams/a"})}), outcome.Callback()); });
  auto result = outcome.Wait(absl::Seconds(5));
  if (!result.has_value()) {
    // The publisher is stuck inside the core: leave it and everything it
    // uses alive, and fail.
    publisher.detach();
    (void)core_.release();
    (void)commits_.release();
    (void)store_.release();
    (void)db_.release();
    FAIL() << "Publish did not complete after the commit queue stopped";
  }
  publisher.join();
  EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Log("teams/a"), IsEmpty());
}

// An acknowledgement whose write failed acknowledged nothing: the cursor the
// core reports, and the one a retry compares with, must stay where it is
// durable.
TEST_F(NotificationCoreTest, FailedAcknowledgementLeavesTheCursorWhereItWas) {
  PublishOne("e1", {"teams/a"});
  PublishOne("e2", {"teams/a"});
  commits_->Stop();
  EXPECT_EQ(Acknowledge("teams/a", 2).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->Cursor("teams/a").value(), 0u);
  EXPECT_EQ(core_->AcknowledgedCursor("teams/a").value(), 0u);
}

}  // namespace
}  // namespace switchboard::notification
