// The push scheduler built directly on its stores, a real CommitQueue and a
// FakeClock, pushing to receivers on loopback: lanes, backoff, dead letters,
// redrive and Stop(). Backoff waits on the fake clock; call deadlines are
// real time (gRPC's), so tests keep them far away.
#include "services/notification/push_deliverer.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "common/server.h"
#include "common/sync.h"
#include "common/testing/faulty_file_system.h"
#include "common/testing/subprocess.h"

namespace switchboard::notification {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
constexpr absl::Duration kWait = absl::Seconds(10);

// Polls `condition` every 2 ms of real time for up to `timeout`.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout = kWait) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return condition();
}

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

const grpc::Status kDown(grpc::StatusCode::UNAVAILABLE, "the team's system is down");

// A team's NotificationReceiver on a loopback port. A policy answers each
// call at once, or holds it (nullopt) until Release(), without blocking a
// gRPC thread, so a receiver can be as slow as a test needs.
class TestReceiver final : public v1::NotificationReceiver::CallbackService {
 public:
  using Policy = std::function<std::optional<grpc::Status>(const v1::Notification&)>;

  static std::optional<grpc::Status> Accept(const v1::Notification&) { return grpc::Status::OK; }
  static std::optional<grpc::Status> Refuse(const v1::Notification&) { return kDown; }
  static std::optional<grpc::Status> Hold(const v1::Notification&) { return std::nullopt; }

  explicit TestReceiver(Policy policy) : policy_(std::move(policy)) {
    auto host = ServiceHost::Start({}, {{this, v1::NotificationReceiver::service_full_name()}},
                                   std::make_shared<prometheus::Registry>());
    EXPECT_TRUE(host.ok()) << host.status();
    if (host.ok()) host_ = std::move(*host);
  }

  ~TestReceiver() override {
    Release(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the receiver is going away"));
    if (host_ != nullptr) host_->Shutdown();
  }

  std::string endpoint() const {
    return absl::StrCat("127.0.0.1:", host_ == nullptr ? 0 : host_->grpc_port());
  }

  void SetPolicy(Policy policy) {
    MutexLock lock(mu_);
    policy_ = std::move(policy);
  }

  // The sequences `subscriber` was called with, in arrival order.
  std::vector<uint64_t> calls(const std::string& subscriber) const {
    MutexLock lock(mu_);
    return Of(calls_, subscriber);
  }
  // The sequences of `subscriber` answered OK, in the order answered.
  std::vector<uint64_t> accepted(const std::string& subscriber) const {
    MutexLock lock(mu_);
    return Of(accepted_, subscriber);
  }
  int held() const {
    MutexLock lock(mu_);
    return static_cast<int>(held_.size());
  }

  // Answers every held call with `status`.
  void Release(const grpc::Status& status) {
    std::vector<grpc::ServerUnaryReactor*> reactors;
    {
      MutexLock lock(mu_);
      for (auto& [reactor, notification] : held_) {
        reactors.push_back(reactor);
        if (status.ok()) accepted_.push_back(notification);
      }
      held_.clear();
    }
    for (grpc::ServerUnaryReactor* reactor : reactors) reactor->Finish(status);
  }

  grpc::ServerUnaryReactor* Deliver(grpc::CallbackServerContext* context,
                                    const v1::Notification* notification,
                                    v1::DeliverResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::optional<grpc::Status> answer;
    {
      MutexLock lock(mu_);
      calls_.push_back(*notification);
      answer = policy_(*notification);
      if (!answer.has_value()) {
        held_.emplace_back(reactor, *notification);
        return reactor;
      }
      if (answer->ok()) accepted_.push_back(*notification);
    }
    reactor->Finish(*answer);
    return reactor;
  }

 private:
  static std::vector<uint64_t> Of(const std::vector<v1::Notification>& notifications,
                                  const std::string& subscriber) {
    std::vector<uint64_t> sequences;
    for (const v1::Notification& notification : notifications) {
      if (notification.subscriber() == subscriber) sequences.push_back(notification.sequence());
    }
    return sequences;
  }

  mutable Mutex mu_;
  Policy policy_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Notification> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Notification> accepted_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<grpc::ServerUnaryReactor*, v1::Notification>> held_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ServiceHost> host_;
};

// "sequence:attempt OUTCOME CODE" of each recorded attempt, oldest first.
std::vector<std::string> History(const std::vector<v1::DeliveryAttempt>& newest_first) {
  std::vector<std::string> history;
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    history.push_back(absl::StrCat(it->sequence(), ":", it->attempt(), " ",
                                   v1::AttemptOutcome_Name(it->outcome()), " ", it->code()));
  }
  return history;
}

class PushDelivererTest : public ::testing::Test {
 protected:
  // Calls wait for answers in real time, so the deadline is far away; the
  // backoff is on the fake clock.
  static PushDeliverer::Options DefaultOptions() {
    return {.timeout = absl::Seconds(30),
            .initial_backoff = absl::Minutes(1),
            .max_backoff = absl::Minutes(2),
            .max_attempts = 4};
  }

  void SetUp() override {
    std::vector<ColumnFamily> families = LogStore::ColumnFamilies();
    for (ColumnFamily& family : PushStore::ColumnFamilies()) families.push_back(std::move(family));
    auto db =
        Database::Open({.path = dir_, .column_families = families, .tuning = {.file_system = fs_}});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    commits_ = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "test"});
    logs_ = std::make_unique<LogStore>(*db_);
    pushes_ = std::make_unique<PushStore>(*db_);
    core_ = std::make_unique<NotificationCore>(*logs_, *commits_, metrics_, clock_);
  }

  void TearDown() override {
    if (deliverer_ != nullptr) deliverer_->Stop();
    deliverer_.reset();
    receivers_.clear();
    core_.reset();
    commits_.reset();
    pushes_.reset();
    logs_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartDeliverer(PushDeliverer::Options options = DefaultOptions()) {
    deliverer_ = std::make_unique<PushDeliverer>(*core_, *logs_, *pushes_, *commits_, metrics_,
                                                 clock_, std::move(options));
    ASSERT_TRUE(deliverer_->Start().ok());
  }

  TestReceiver& NewReceiver(TestReceiver::Policy policy) {
    return *receivers_.emplace_back(std::make_unique<TestReceiver>(std::move(policy)));
  }

  void Subscribe(const std::string& subscriber, const TestReceiver& receiver) {
    v1::CreatePushSubscriptionRequest request;
    request.mutable_subscription()->set_subscriber(subscriber);
    request.mutable_subscription()->set_endpoint(receiver.endpoint());
    Outcome<absl::StatusOr<v1::PushSubscription>> outcome;
    deliverer_->CreateSubscription(request, outcome.Callback());
    auto result = outcome.Wait();
    ASSERT_TRUE(result.has_value() && result->ok());
  }

  void Publish(const std::string& id, const std::vector<std::string>& recipients) {
    v1::PublishRequest request;
    issue::v1::IssueEvent* event = request.add_events();
    event->set_id(id);
    event->set_type(issue::v1::EVENT_TYPE_ROUTED);
    for (const std::string& recipient : recipients) event->add_recipients(recipient);
    Outcome<absl::StatusOr<v1::PublishResponse>> outcome;
    core_->Publish(request, outcome.Callback());
    auto result = outcome.Wait();
    ASSERT_TRUE(result.has_value() && result->ok());
  }

  int64_t Redrive(const std::string& subscriber) {
    v1::RedriveDeadLettersRequest request;
    request.set_subscriber(subscriber);
    Outcome<absl::StatusOr<v1::RedriveDeadLettersResponse>> outcome;
    deliverer_->RedriveDeadLetters(request, outcome.Callback());
    auto result = outcome.Wait();
    EXPECT_TRUE(result.has_value() && result->ok());
    return result.has_value() && result->ok() ? (*result)->redriven() : -1;
  }

  // Every recorded attempt for `subscriber`, newest first, a page at a time.
  std::vector<v1::DeliveryAttempt> Attempts(const std::string& subscriber) {
    v1::ListDeliveryAttemptsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(3);
    std::vector<v1::DeliveryAttempt> all;
    for (int page = 0; page < 1000; ++page) {
      auto response = deliverer_->ListDeliveryAttempts(request);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      all.insert(all.end(), response->attempts().begin(), response->attempts().end());
      if (response->next_page_token().empty()) break;
      request.set_page_token(response->next_page_token());
    }
    return all;
  }

  std::vector<v1::DeadLetter> DeadLetters(const std::string& subscriber) {
    v1::ListDeadLettersRequest request;
    request.set_subscriber(subscriber);
    auto response = deliverer_->ListDeadLetters(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->dead_letters().begin(), response->dead_letters().end()};
  }

  // Waits until `subscriber` has `count` attempts recorded. Completed() reads
  // the clock before it records an attempt, so after this the clock can be
  // moved without racing the backoff it computes.
  bool WaitForAttempts(const std::string& subscriber, size_t count) {
    return Eventually([&] { return Attempts(subscriber).size() >= count; });
  }

  // Publishes to "teams/probe", whose receiver accepts at once, and waits for
  // it to arrive and be recorded: the scheduler has made passes over every
  // lane since. Needs SubscribeProbe() first.
  void Probe() {
    ++probes_;
    Publish(absl::StrCat("probe", probes_), {"teams/probe"});
    EXPECT_TRUE(WaitForAttempts("teams/probe", probes_));
  }

  void SubscribeProbe() { Subscribe("teams/probe", NewReceiver(TestReceiver::Accept)); }

  const std::string dir_ = switchboard::testing::MakeTempDir("push_deliverer_test");
  // The machine's file system, until a test makes it fail.
  std::shared_ptr<switchboard::testing::FaultyFileSystem> fs_ =
      std::make_shared<switchboard::testing::FaultyFileSystem>();
  FakeClock clock_{kStart};
  prometheus::Registry registry_;
  NotificationMetrics metrics_{registry_};
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<LogStore> logs_;
  std::unique_ptr<PushStore> pushes_;
  std::unique_ptr<NotificationCore> core_;
  // Outlive the deliverer, which may still be calling them as it stops.
  std::vector<std::unique_ptr<TestReceiver>> receivers_;
  std::unique_ptr<PushDeliverer> deliverer_;
  size_t probes_ = 0;
};

TEST_F(PushDelivererTest, DeliversEachLogInOrderAndMovesTheCursorWithIt) {
  StartDeliverer();
  TestReceiver& receiver = NewReceiver(TestReceiver::Accept);
  Subscribe("teams/a", receiver);
  Subscribe("teams/b", receiver);
  for (int i = 1; i <= 5; ++i) Publish(absl::StrCat("e", i), {"teams/a", "teams/b"});

  ASSERT_TRUE(Eventually([&] {
    return receiver.accepted("teams/a").size() == 5 && receiver.accepted("teams/b").size() == 5;
  }));
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(receiver.calls("teams/b"), ElementsAre(1, 2, 3, 4, 5));
  // Progress is written behind the calls, not waited for.
  EXPECT_TRUE(Eventually([&] { return core_->AcknowledgedCursor("teams/a").value() == 5; }));
  ASSERT_TRUE(WaitForAttempts("teams/b", 5));
  const std::vector<v1::DeliveryAttempt> attempts = Attempts("teams/b");
  EXPECT_THAT(History(attempts),
              ElementsAre("1:1 ATTEMPT_OUTCOME_DELIVERED OK", "2:1 ATTEMPT_OUTCOME_DELIVERED OK",
                          "3:1 ATTEMPT_OUTCOME_DELIVERED OK", "4:1 ATTEMPT_OUTCOME_DELIVERED OK",
                          "5:1 ATTEMPT_OUTCOME_DELIVERED OK"));
  EXPECT_EQ(FromProtoTime(attempts[0].time()), kStart);  // the fake clock's time
  EXPECT_EQ(attempts[0].event_id(), "e5");
  auto subscriptions = deliverer_->ListSubscriptions({});
  ASSERT_TRUE(subscriptions.ok()) << subscriptions.status();
  ASSERT_EQ(subscriptions->subscriptions_size(), 2);
  EXPECT_TRUE(Eventually([&] {
    auto stored = pushes_->Subscriptions();
    return stored.ok() && stored->size() == 2 && (*stored)[0].delivered_sequence() == 5 &&
           (*stored)[1].delivered_sequence() == 5;
  }));
  EXPECT_TRUE(Eventually([&] {
    return metrics_.push_attempts.Add({{"outcome", "delivered"}}).Value() == 10;
  }));
}

TEST_F(PushDelivererTest, FailingReceiverDoesNotHoldUpAnotherSubscribersLane) {
  StartDeliverer();
  TestReceiver& down = NewReceiver(TestReceiver::Refuse);
  TestReceiver& up = NewReceiver(TestReceiver::Accept);
  Subscribe("teams/down", down);
  Subscribe("teams/up", up);
  for (int i = 1; i <= 10; ++i) Publish(absl::StrCat("e", i), {"teams/down", "teams/up"});

  ASSERT_TRUE(Eventually([&] { return up.accepted("teams/up").size() == 10; }));
  EXPECT_THAT(up.accepted("teams/up"), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  ASSERT_TRUE(WaitForAttempts("teams/down", 1));
  ASSERT_TRUE(WaitForAttempts("teams/up", 10));
  // The failing lane made one attempt and waits for the fake clock: nothing
  // past its head was sent.
  EXPECT_THAT(down.calls("teams/down"), ElementsAre(1));
  EXPECT_THAT(History(Attempts("teams/down")),
              ElementsAre("1:1 ATTEMPT_OUTCOME_FAILED UNAVAILABLE"));
  EXPECT_EQ(core_->AcknowledgedCursor("teams/down").value(), 0u);
}

TEST_F(PushDelivererTest, SlowReceiverDoesNotHoldUpAnotherSubscribersLane) {
  StartDeliverer();
  TestReceiver& slow = NewReceiver(TestReceiver::Hold);
  TestReceiver& fast = NewReceiver(TestReceiver::Accept);
  Subscribe("teams/slow", slow);
  Subscribe("teams/fast", fast);
  for (int i = 1; i <= 10; ++i) Publish(absl::StrCat("e", i), {"teams/slow", "teams/fast"});

  ASSERT_TRUE(Eventually([&] { return fast.accepted("teams/fast").size() == 10; }));
  EXPECT_THAT(fast.accepted("teams/fast"), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  // One call at a time per lane: the slow lane has its head in flight only.
  EXPECT_EQ(slow.held(), 1);
  EXPECT_THAT(slow.calls("teams/slow"), ElementsAre(1));

  slow.SetPolicy(TestReceiver::Accept);
  slow.Release(grpc::Status::OK);
  ASSERT_TRUE(Eventually([&] { return slow.accepted("teams/slow").size() == 10; }));
  EXPECT_THAT(slow.calls("teams/slow"), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  EXPECT_TRUE(Eventually([&] { return core_->AcknowledgedCursor("teams/slow").value() == 10; }));
}

TEST_F(PushDelivererTest, RetryWaitsUntilTheFakeClockPassesTheBackoff) {
  // Each retry waits a random time in [0, 10 min] (full jitter).
  StartDeliverer({.timeout = absl::Seconds(30),
                  .initial_backoff = absl::Minutes(10),
                  .max_backoff = absl::Minutes(10),
                  .max_attempts = 5});
  SubscribeProbe();
  // Refuses its first call only.
  TestReceiver& receiver = NewReceiver(
      [calls = std::make_shared<int>(0)](const v1::Notification&) -> std::optional<grpc::Status> {
        return ++*calls == 1 ? kDown : grpc::Status::OK;
      });
  Subscribe("teams/a", receiver);
  Publish("e1", {"teams/a"});
  ASSERT_TRUE(WaitForAttempts("teams/a", 1));
  Publish("e2", {"teams/a"});

  // The clock stands still: later scheduler passes do not retry, and the
  // next notification waits behind the head.
  Probe();
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1));
  // Far less than the backoff (a draw below 1 µs of 10 min is a one in 6e8
  // chance): still no retry.
  clock_.Advance(absl::Microseconds(1));
  Probe();
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1));

  // Past the backoff's ceiling: the retry comes, then the rest in order.
  clock_.Advance(absl::Minutes(10));
  ASSERT_TRUE(Eventually([&] { return receiver.accepted("teams/a").size() == 2; }));
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1, 1, 2));
  ASSERT_TRUE(WaitForAttempts("teams/a", 3));
  const std::vector<v1::DeliveryAttempt> attempts = Attempts("teams/a");
  EXPECT_THAT(History(attempts),
              ElementsAre("1:1 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:2 ATTEMPT_OUTCOME_DELIVERED OK", "2:1 ATTEMPT_OUTCOME_DELIVERED OK"));
  // Each attempt carries the fake time it was made at.
  EXPECT_EQ(FromProtoTime(attempts[2].time()), kStart);
  EXPECT_EQ(FromProtoTime(attempts[1].time()), kStart + absl::Minutes(10) + absl::Microseconds(1));
  EXPECT_EQ(attempts[2].message(), "the team's system is down");
}

TEST_F(PushDelivererTest, DeadLettersAfterMaxAttemptsAndTheLaneGoesOn) {
  StartDeliverer();  // 4 attempts; backoff ceilings 1, 2, 2 min
  TestReceiver& receiver =
      NewReceiver([](const v1::Notification& notification) -> std::optional<grpc::Status> {
        return notification.sequence() == 1 ? kDown : grpc::Status::OK;
      });
  Subscribe("teams/a", receiver);
  Publish("e1", {"teams/a"});
  Publish("e2", {"teams/a"});
  ASSERT_TRUE(WaitForAttempts("teams/a", 1));

  // Each retry comes once the clock passes the backoff's ceiling, which
  // doubles up to max_backoff.
  for (absl::Duration ceiling : {absl::Minutes(1), absl::Minutes(2), absl::Minutes(2)}) {
    const size_t made = receiver.calls("teams/a").size();
    ASSERT_TRUE(WaitForAttempts("teams/a", made));
    clock_.Advance(ceiling);
    ASSERT_TRUE(Eventually([&] { return receiver.calls("teams/a").size() > made; }))
        << "no retry within " << ceiling << " of fake time";
  }
  // The fourth failure dead-letters it; the next one goes at once.
  ASSERT_TRUE(Eventually([&] { return receiver.accepted("teams/a").size() == 1; }));
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1, 1, 1, 1, 2));
  ASSERT_TRUE(WaitForAttempts("teams/a", 5));
  EXPECT_THAT(History(Attempts("teams/a")),
              ElementsAre("1:1 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:2 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:3 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:4 ATTEMPT_OUTCOME_DEAD_LETTERED UNAVAILABLE",
                          "2:1 ATTEMPT_OUTCOME_DELIVERED OK"));
  const std::vector<v1::DeadLetter> dead = DeadLetters("teams/a");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].notification().sequence(), 1u);
  EXPECT_EQ(dead[0].notification().event().id(), "e1");
  EXPECT_EQ(dead[0].attempts(), 4);
  EXPECT_EQ(dead[0].last_code(), "UNAVAILABLE");
  EXPECT_EQ(dead[0].last_message(), "the team's system is down");
  EXPECT_EQ(FromProtoTime(dead[0].dead_letter_time()), kStart + absl::Minutes(5));
  // A dead letter counts as handled: the cursor passes it.
  EXPECT_TRUE(Eventually([&] { return core_->AcknowledgedCursor("teams/a").value() == 2; }));
  EXPECT_EQ(metrics_.dead_lettered.Value(), 1);
  EXPECT_EQ(metrics_.dead_letters.Value(), 1);
  EXPECT_EQ(metrics_.push_attempts.Add({{"outcome", "failed"}}).Value(), 3);
  EXPECT_EQ(metrics_.push_attempts.Add({{"outcome", "dead_lettered"}}).Value(), 1);
  EXPECT_EQ(metrics_.push_failures.Add({{"code", "UNAVAILABLE"}}).Value(), 4);
}

// The disk is full as a dead letter is recorded: the record fails, and the
// lane must not go on as if it had been written (its next success would move
// the cursor past a dead letter that was never stored). Once RocksDB has
// resumed, the lane starts again from what is durable: the notification is
// sent again, and dead-lettered for good this time.
TEST_F(PushDelivererTest, ADeadLetterWhoseRecordFailsIsSentAgainNotSkipped) {
  PushDeliverer::Options options = DefaultOptions();
  options.max_attempts = 1;
  StartDeliverer(options);
  auto first = std::make_shared<std::atomic<bool>>(true);
  TestReceiver& receiver =
      NewReceiver([first](const v1::Notification& notification) -> std::optional<grpc::Status> {
        if (notification.sequence() != 1) return grpc::Status::OK;
        if (first->exchange(false)) return std::nullopt;  // held: the disk fills meanwhile
        return kDown;
      });
  Subscribe("teams/a", receiver);
  Publish("e1", {"teams/a"});
  ASSERT_TRUE(Eventually([&] { return receiver.held() == 1; }));
  fs_->SetNoSpace(true);
  receiver.Release(kDown);  // dead-lettered; its record fails
  ASSERT_TRUE(Eventually([&] { return db_->storage().state != StorageState::kWritable; }));
  EXPECT_THAT(DeadLetters("teams/a"), IsEmpty());

  fs_->SetNoSpace(false);
  ASSERT_TRUE(Eventually([&] { return db_->storage().state == StorageState::kWritable; },
                         absl::Seconds(20)));
  Publish("e2", {"teams/a"});
  // The lane waits a second of fake time before it starts again.
  ASSERT_TRUE(Eventually([&] {
    clock_.Advance(absl::Seconds(1));
    return receiver.accepted("teams/a").size() == 1;
  }));
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1, 1, 2));
  // Recorded after the call ends, so perhaps a moment after the next one.
  ASSERT_TRUE(Eventually([&] { return DeadLetters("teams/a").size() == 1; }));
  EXPECT_EQ(DeadLetters("teams/a")[0].notification().sequence(), 1u);
  EXPECT_TRUE(Eventually([&] { return core_->AcknowledgedCursor("teams/a").value() == 2; }));
}

TEST_F(PushDelivererTest, RedriveSendsDeadLettersBeforeTheRestOfTheLog) {
  // One attempt each: a refusal dead-letters at once, with no backoff.
  StartDeliverer({.timeout = absl::Seconds(30), .max_attempts = 1});
  TestReceiver& receiver = NewReceiver(TestReceiver::Refuse);
  Subscribe("teams/a", receiver);
  Publish("e1", {"teams/a"});
  Publish("e2", {"teams/a"});
  ASSERT_TRUE(Eventually([&] { return DeadLetters("teams/a").size() == 2; }));

  // Sequence 3 is in flight, and 4 is in the log, when the redrive lands.
  receiver.SetPolicy(TestReceiver::Hold);
  Publish("e3", {"teams/a"});
  ASSERT_TRUE(Eventually([&] { return receiver.held() == 1; }));
  Publish("e4", {"teams/a"});
  EXPECT_EQ(Redrive("teams/a"), 2);
  EXPECT_THAT(DeadLetters("teams/a"), IsEmpty());
  receiver.SetPolicy(TestReceiver::Accept);
  receiver.Release(grpc::Status::OK);

  ASSERT_TRUE(Eventually([&] { return receiver.accepted("teams/a").size() == 4; }));
  EXPECT_THAT(receiver.accepted("teams/a"), ElementsAre(3, 1, 2, 4));
  EXPECT_THAT(receiver.calls("teams/a"), ElementsAre(1, 2, 3, 1, 2, 4));
  ASSERT_TRUE(WaitForAttempts("teams/a", 6));
  EXPECT_THAT(History(Attempts("teams/a")),
              ElementsAre("1:1 ATTEMPT_OUTCOME_DEAD_LETTERED UNAVAILABLE",
                          "2:1 ATTEMPT_OUTCOME_DEAD_LETTERED UNAVAILABLE",
                          "3:1 ATTEMPT_OUTCOME_DELIVERED OK", "1:1 ATTEMPT_OUTCOME_DELIVERED OK",
                          "2:1 ATTEMPT_OUTCOME_DELIVERED OK", "4:1 ATTEMPT_OUTCOME_DELIVERED OK"));
  EXPECT_EQ(metrics_.redriven.Value(), 2);
  EXPECT_EQ(metrics_.dead_letters.Value(), 0);
  EXPECT_TRUE(Eventually([&] { return core_->AcknowledgedCursor("teams/a").value() == 4; }));
  // Delivered redriven notifications leave the redrive queue.
  EXPECT_TRUE(Eventually([&] {
    auto redriven = pushes_->Redriven("teams/a", 10);
    return redriven.ok() && redriven->empty();
  }));
}

// A redriven dead letter starts its attempts afresh, and the notification it
// interrupts keeps its own count: max_attempts holds for each.
TEST_F(PushDelivererTest, RedriveInterruptingARetryKeepsEachNotificationsAttemptCount) {
  StartDeliverer({.timeout = absl::Seconds(30),
                  .initial_backoff = absl::Minutes(1),
                  .max_backoff = absl::Minutes(1),
                  .max_attempts = 2});
  TestReceiver& receiver = NewReceiver(TestReceiver::Refuse);
  Subscribe("teams/a", receiver);
  Publish("e1", {"teams/a"});
  ASSERT_TRUE(WaitForAttempts("teams/a", 1));
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(Eventually([&] { return DeadLetters("teams/a").size() == 1; }));
  // Sequence 2 fails once and backs off; sequence 1 is redriven meanwhile.
  Publish("e2", {"teams/a"});
  ASSERT_TRUE(WaitForAttempts("teams/a", 3));
  EXPECT_EQ(Redrive("teams/a"), 1);
  for (size_t made = 4; made <= 6; ++made) {
    clock_.Advance(absl::Minutes(1));
    ASSERT_TRUE(WaitForAttempts("teams/a", made));
  }
  EXPECT_THAT(History(Attempts("teams/a")),
              ElementsAre("1:1 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:2 ATTEMPT_OUTCOME_DEAD_LETTERED UNAVAILABLE",
                          "2:1 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:1 ATTEMPT_OUTCOME_FAILED UNAVAILABLE",
                          "1:2 ATTEMPT_OUTCOME_DEAD_LETTERED UNAVAILABLE",
                          "2:2 ATTEMPT_OUTCOME_DEAD_LETTERED UNAVAILABLE"));
}

TEST_F(PushDelivererTest, StopCancelsCallsInFlightWithoutCountingThemAndTheNextStartResends) {
  StartDeliverer();
  TestReceiver& receiver = NewReceiver(TestReceiver::Hold);
  Subscribe("teams/a", receiver);
  Publish("e1", {"teams/a"});
  ASSERT_TRUE(Eventually([&] { return receiver.held() == 1; }));

  // Stop() does not wait for the receiver to answer.
  Mutex mu;
  bool stopped = false;
  std::thread stopper([&] {
    deliverer_->Stop();
    MutexLock lock(mu);
    stopped = true;
  });
  const bool returned = Eventually([&] {
    MutexLock lock(mu);
    return stopped;
  });
  receiver.Release(grpc::Status::OK);  // lets a hung Stop() finish before the join
  stopper.join();
  ASSERT_TRUE(returned) << "Stop() waited for the receiver's answer";
  deliverer_->Stop();  // idempotent

  // The cancelled call is no attempt, and nothing moved.
  EXPECT_THAT(Attempts("teams/a"), IsEmpty());
  EXPECT_EQ(core_->AcknowledgedCursor("teams/a").value(), 0u);
  auto stored = pushes_->Subscriptions();
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].delivered_sequence(), 0u);

  // A new deliverer on the same stores sends it again, as its first attempt.
  receiver.SetPolicy(TestReceiver::Accept);
  deliverer_.reset();
  StartDeliverer();
  ASSERT_TRUE(Eventually([&] { return receiver.calls("teams/a").size() == 2; }));
  ASSERT_TRUE(WaitForAttempts("teams/a", 1));
  EXPECT_THAT(History(Attempts("teams/a")), ElementsAre("1:1 ATTEMPT_OUTCOME_DELIVERED OK"));
  EXPECT_TRUE(Eventually([&] { return core_->AcknowledgedCursor("teams/a").value() == 1; }));
}

}  // namespace
}  // namespace switchboard::notification
