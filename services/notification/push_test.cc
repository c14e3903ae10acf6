// Push delivery, dead letters, redrive, attempt records and compaction, over
// a real gRPC server and real receivers on loopback, end to end on real time:
// call deadlines are gRPC's, so a receiver that is too slow really is. The
// retry and backoff schedules are tested on a FakeClock, without sleeping, in
// push_deliverer_test.cc.
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/sync.h"
#include "services/notification/testing/harness.h"
#include "services/notification/testing/receiver.h"

namespace switchboard::notification {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using testing::Receiver;

// Polls `condition` every 10 ms for up to `timeout`.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return condition();
}

grpc::Status Accept(const v1::Notification&, int) { return grpc::Status::OK; }

grpc::Status Refuse(const v1::Notification&, int) {
  return {grpc::StatusCode::UNAVAILABLE, "the team's system is down"};
}

std::vector<std::string> Expected(const std::string& subscriber, uint64_t first, uint64_t last) {
  std::vector<std::string> expected;
  for (uint64_t sequence = first; sequence <= last; ++sequence)
    expected.push_back(absl::StrCat(subscriber, "#", sequence));
  return expected;
}

class PushTest : public ::testing::Test {
 protected:
  explicit PushTest(PushDeliverer::Options push = {.timeout = absl::Milliseconds(500),
                                                   .initial_backoff = absl::Milliseconds(5),
                                                   .max_backoff = absl::Milliseconds(40),
                                                   .max_attempts = 3})
      : harness_({.push = push}) {}

  void SetUp() override { ASSERT_TRUE(harness_.Start().ok()); }

  void Publish(const std::string& id, const std::vector<std::string>& recipients) {
    v1::PublishRequest request;
    issue::v1::IssueEvent* event = request.add_events();
    event->set_id(id);
    event->set_type(issue::v1::EVENT_TYPE_ROUTED);
    for (const std::string& recipient : recipients) event->add_recipients(recipient);
    grpc::ClientContext context;
    v1::PublishResponse response;
    ASSERT_TRUE(harness_.stub().Publish(&context, request, &response).ok());
  }

  grpc::Status Subscribe(const std::string& subscriber, const std::string& endpoint,
                         v1::PushSubscription* created = nullptr) {
    v1::CreatePushSubscriptionRequest request;
    request.mutable_subscription()->set_subscriber(subscriber);
    request.mutable_subscription()->set_endpoint(endpoint);
    grpc::ClientContext context;
    v1::PushSubscription response;
    grpc::Status status = harness_.stub().CreatePushSubscription(&context, request, &response);
    if (created != nullptr) *created = response;
    return status;
  }

  std::vector<v1::DeadLetter> DeadLetters(const std::string& subscriber) {
    v1::ListDeadLettersRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(2);
    std::vector<v1::DeadLetter> all;
    for (int page = 0; page < 1000; ++page) {
      grpc::ClientContext context;
      v1::ListDeadLettersResponse response;
      EXPECT_TRUE(harness_.stub().ListDeadLetters(&context, request, &response).ok());
      all.insert(all.end(), response.dead_letters().begin(), response.dead_letters().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return all;
  }

  std::vector<v1::DeliveryAttempt> Attempts(const std::string& subscriber,
                                            const std::string& event_id,
                                            grpc::Status* status_out = nullptr) {
    v1::ListDeliveryAttemptsRequest request;
    request.set_subscriber(subscriber);
    request.set_event_id(event_id);
    request.set_page_size(7);
    std::vector<v1::DeliveryAttempt> all;
    for (int page = 0; page < 1000; ++page) {
      grpc::ClientContext context;
      v1::ListDeliveryAttemptsResponse response;
      grpc::Status status = harness_.stub().ListDeliveryAttempts(&context, request, &response);
      if (status_out != nullptr) *status_out = status;
      if (!status.ok()) break;
      all.insert(all.end(), response.attempts().begin(), response.attempts().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return all;
  }

  uint64_t Acknowledge(const std::string& subscriber, uint64_t sequence) {
    v1::AcknowledgeNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_sequence(sequence);
    grpc::ClientContext context;
    v1::AcknowledgeNotificationsResponse response;
    EXPECT_TRUE(harness_.stub().AcknowledgeNotifications(&context, request, &response).ok());
    return response.acknowledged_sequence();
  }

  // A no-op acknowledgement answers with the cursor.
  uint64_t Cursor(const std::string& subscriber) { return Acknowledge(subscriber, 1); }

  testing::NotificationHarness harness_;
};

TEST_F(PushTest, ReceiverThatFailsThenRecoversGetsEverythingOnceInOrder) {
  // Each notification: a timeout, a refusal, then success.
  Receiver receiver([](const v1::Notification&, int earlier) {
    if (earlier == 0) absl::SleepFor(absl::Milliseconds(700));  // past the deadline
    if (earlier < 2) return grpc::Status(grpc::StatusCode::INTERNAL, "not yet");
    return grpc::Status::OK;
  });
  for (int i = 1; i <= 4; ++i) Publish(absl::StrCat("before", i), {"teams/storage"});
  ASSERT_TRUE(Subscribe("teams/storage", receiver.endpoint()).ok());
  for (int i = 1; i <= 4; ++i) Publish(absl::StrCat("after", i), {"teams/storage", "teams/other"});

  ASSERT_TRUE(Eventually([&] { return receiver.accepted().size() >= 8; }));
  EXPECT_THAT(receiver.accepted(), ElementsAreArray(Expected("teams/storage", 1, 8)));
  EXPECT_THAT(DeadLetters("teams/storage"), IsEmpty());

  // Every attempt was recorded, newest first.
  std::vector<v1::DeliveryAttempt> attempts;
  ASSERT_TRUE(Eventually([&] {
    attempts = Attempts("", "after2");
    return attempts.size() == 3;
  }));
  EXPECT_EQ(attempts[0].subscriber(), "teams/storage");
  EXPECT_EQ(attempts[0].sequence(), 6u);
  std::vector<std::string> history;
  for (const auto& attempt : attempts) {
    history.push_back(absl::StrCat(
        attempt.attempt(), " ", v1::AttemptOutcome_Name(attempt.outcome()), " ", attempt.code()));
  }
  EXPECT_THAT(history,
              ElementsAre("3 ATTEMPT_OUTCOME_DELIVERED OK", "2 ATTEMPT_OUTCOME_FAILED INTERNAL",
                          "1 ATTEMPT_OUTCOME_FAILED DEADLINE_EXCEEDED"));
  ASSERT_TRUE(Eventually([&] { return Attempts("teams/storage", "").size() == 24; }));
  EXPECT_THAT(Attempts("teams/other", ""), IsEmpty());  // it has no push subscription

  // Delivery acknowledged the log, and the subscription says how far it got.
  EXPECT_TRUE(Eventually([&] { return Cursor("teams/storage") == 8; }));
  grpc::ClientContext context;
  v1::ListPushSubscriptionsResponse listed;
  ASSERT_TRUE(harness_.stub().ListPushSubscriptions(&context, {}, &listed).ok());
  ASSERT_EQ(listed.subscriptions_size(), 1);
  EXPECT_EQ(listed.subscriptions(0).delivered_sequence(), 8u);
  EXPECT_EQ(harness_.metrics().push_attempts.Add({{"outcome", "delivered"}}).Value(), 8);
  EXPECT_EQ(harness_.metrics().push_failures.Add({{"code", "DEADLINE_EXCEEDED"}}).Value(), 8);
}

TEST_F(PushTest, DeadLettersFillWhileTheReceiverIsDownAndRedriveDeliversThem) {
  Receiver receiver(Refuse);
  ASSERT_TRUE(Subscribe("teams/billing", receiver.endpoint()).ok());
  for (int i = 1; i <= 5; ++i) Publish(absl::StrCat("e", i), {"teams/billing"});

  std::vector<v1::DeadLetter> dead;
  ASSERT_TRUE(Eventually([&] {
    dead = DeadLetters("teams/billing");
    return dead.size() == 5;
  }));
  for (size_t i = 0; i < dead.size(); ++i) {
    EXPECT_EQ(dead[i].notification().sequence(), i + 1);
    EXPECT_EQ(dead[i].attempts(), 3);
    EXPECT_EQ(dead[i].last_code(), "UNAVAILABLE");
    EXPECT_EQ(dead[i].last_message(), "the team's system is down");
  }
  EXPECT_EQ(harness_.metrics().dead_letters.Value(), 5);
  const auto attempts = Attempts("teams/billing", "e5");
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].outcome(), v1::ATTEMPT_OUTCOME_DEAD_LETTERED);
  EXPECT_THAT(receiver.accepted(), IsEmpty());

  // The team's system comes back: new notifications flow at once, and the
  // dead letters once an operator redrives them, in order.
  receiver.SetPolicy(Accept);
  Publish("e6", {"teams/billing"});
  ASSERT_TRUE(Eventually([&] { return receiver.accepted().size() == 1; }));
  grpc::ClientContext context;
  v1::RedriveDeadLettersRequest redrive;
  redrive.set_subscriber("teams/billing");
  v1::RedriveDeadLettersResponse redriven;
  ASSERT_TRUE(harness_.stub().RedriveDeadLetters(&context, redrive, &redriven).ok());
  EXPECT_EQ(redriven.redriven(), 5);
  ASSERT_TRUE(Eventually([&] { return receiver.accepted().size() >= 6; }));
  EXPECT_THAT(receiver.accepted(),
              ElementsAre("teams/billing#6", "teams/billing#1", "teams/billing#2",
                          "teams/billing#3", "teams/billing#4", "teams/billing#5"));
  EXPECT_THAT(DeadLetters("teams/billing"), IsEmpty());
  EXPECT_EQ(harness_.metrics().dead_letters.Value(), 0);
  // Nothing more arrives: each was delivered once.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(receiver.accepted().size(), 6u);
}

TEST_F(PushTest, UnreachableReceiverDoesNotSlowOthers) {
  Receiver fast(Accept);
  // A receiver that hangs until the deadline on every call.
  Receiver hanging([](const v1::Notification&, int) {
    absl::SleepFor(absl::Milliseconds(600));
    return grpc::Status::OK;
  });
  ASSERT_TRUE(Subscribe("teams/slow", hanging.endpoint()).ok());
  ASSERT_TRUE(Subscribe("teams/fast", fast.endpoint()).ok());
  for (int i = 1; i <= 50; ++i) Publish(absl::StrCat("e", i), {"teams/slow", "teams/fast"});
  // 50 pushes to the fast one take far less than one of the slow one's
  // 500 ms deadlines each.
  ASSERT_TRUE(Eventually([&] { return fast.accepted().size() == 50; }, absl::Seconds(10)));
  EXPECT_THAT(fast.accepted(), ElementsAreArray(Expected("teams/fast", 1, 50)));
  EXPECT_LT(Cursor("teams/slow"), 50u);
}

TEST_F(PushTest, SubscriptionsAreValidatedListedReplacedAndDeleted) {
  grpc::Status status = Subscribe("teams/a", "no-port");
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(GetFieldViolations(FromGrpcStatus(status)).size(), 1u);
  EXPECT_EQ(GetFieldViolations(FromGrpcStatus(status))[0].field, "subscription.endpoint");
  EXPECT_EQ(Subscribe("people/a", "localhost:1").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Subscribe("teams/a", "localhost:70000").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  Receiver receiver(Accept);
  Publish("e1", {"teams/a"});
  Publish("e2", {"teams/a"});
  Acknowledge("teams/a", 1);  // a new subscription starts after the cursor
  v1::PushSubscription created;
  ASSERT_TRUE(Subscribe("teams/a", receiver.endpoint(), &created).ok());
  EXPECT_EQ(created.delivered_sequence(), 1u);
  EXPECT_TRUE(created.has_create_time());
  ASSERT_TRUE(Eventually([&] { return receiver.accepted().size() == 1; }));
  EXPECT_THAT(receiver.accepted(), ElementsAre("teams/a#2"));
  ASSERT_TRUE(Subscribe("teams/b", "[::1]:1").ok());
  ASSERT_TRUE(Subscribe("teams/c", "switchboard-receiver.example:443").ok());

  // Replacing the endpoint keeps the progress.
  v1::PushSubscription replaced;
  ASSERT_TRUE(Eventually([&] {
    EXPECT_TRUE(Subscribe("teams/a", receiver.endpoint(), &replaced).ok());
    return replaced.delivered_sequence() == 2;
  }));

  // Listed in subscriber order, a page at a time.
  std::vector<std::string> listed;
  v1::ListPushSubscriptionsRequest list;
  list.set_page_size(2);
  for (int page = 0; page < 10; ++page) {
    grpc::ClientContext context;
    v1::ListPushSubscriptionsResponse response;
    ASSERT_TRUE(harness_.stub().ListPushSubscriptions(&context, list, &response).ok());
    for (const auto& subscription : response.subscriptions())
      listed.push_back(subscription.subscriber());
    if (response.next_page_token().empty()) break;
    list.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(listed, ElementsAre("teams/a", "teams/b", "teams/c"));

  for (grpc::StatusCode expected : {grpc::StatusCode::OK, grpc::StatusCode::NOT_FOUND}) {
    grpc::ClientContext context;
    v1::DeletePushSubscriptionRequest request;
    request.set_subscriber("teams/a");
    v1::DeletePushSubscriptionResponse response;
    EXPECT_EQ(harness_.stub().DeletePushSubscription(&context, request, &response).error_code(),
              expected);
  }
  // Nothing is pushed to a deleted subscription.
  Publish("e3", {"teams/a"});
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(receiver.accepted().size(), 1u);

  Attempts("", "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PushTest, MaintenanceCompactsAcknowledgedNotificationsAfterTheRetention) {
  for (int i = 1; i <= 10; ++i) Publish(absl::StrCat("e", i), {"teams/a", "teams/b"});
  Acknowledge("teams/a", 6);
  Acknowledge("teams/b", 10);

  // Within the retention nothing goes; the backlog is what is unacknowledged.
  Maintenance::Options options{.retention = absl::Hours(1)};
  FakeClock within(absl::Now() + absl::Minutes(59));
  auto report = Maintenance(harness_.logs(), harness_.pushes(), harness_.commits(),
                            harness_.metrics(), within, options)
                    .RunOnce();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->backlog, 4u);
  EXPECT_GT(report->oldest_unacknowledged_age, absl::Minutes(58));
  EXPECT_EQ(report->compacted_notifications, 0);
  EXPECT_EQ(harness_.metrics().backlog.Value(), 4);

  FakeClock after(absl::Now() + absl::Minutes(61));
  report = Maintenance(harness_.logs(), harness_.pushes(), harness_.commits(), harness_.metrics(),
                       after, options)
               .RunOnce();
  ASSERT_TRUE(report.ok()) << report.status();
  // teams/a loses 1..6; teams/b keeps its newest, so its sequence carries on.
  EXPECT_EQ(report->compacted_notifications, 6 + 9);

  auto sequences = [&](const std::string& subscriber) {
    v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    grpc::ClientContext context;
    v1::ListNotificationsResponse response;
    EXPECT_TRUE(harness_.stub().ListNotifications(&context, request, &response).ok());
    std::vector<uint64_t> result;
    for (const auto& notification : response.notifications())
      result.push_back(notification.sequence());
    return result;
  };
  EXPECT_THAT(sequences("teams/a"), ElementsAre(7, 8, 9, 10));
  EXPECT_THAT(sequences("teams/b"), ElementsAre(10));
  Publish("e11", {"teams/b"});
  EXPECT_THAT(sequences("teams/b"), ElementsAre(10, 11));
}

}  // namespace
}  // namespace switchboard::notification
