// The notification core and its Subscribe streams, over a real gRPC server.
#include <atomic>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_gate.h"
#include "common/server.h"
#include "common/status.h"
#include "common/testing/subprocess.h"
#include "services/notification/testing/harness.h"

namespace switchboard::notification {
namespace {

using ::testing::ElementsAre;

issue::v1::IssueEvent Event(const std::string& id, std::vector<std::string> recipients) {
  issue::v1::IssueEvent event;
  event.set_id(id);
  event.set_type(issue::v1::EVENT_TYPE_ROUTED);
  event.mutable_issue()->set_title(id);
  for (const std::string& recipient : recipients) event.add_recipients(recipient);
  return event;
}

class NotificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Start().ok());
    stub_ = &harness_.stub();
  }

  int64_t Publish(std::vector<issue::v1::IssueEvent> events) {
    v1::PublishRequest request;
    for (auto& event : events) *request.add_events() = std::move(event);
    grpc::ClientContext context;
    v1::PublishResponse response;
    const grpc::Status status = stub_->Publish(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.appended();
  }

  std::vector<v1::Notification> ListAll(const std::string& subscriber) {
    std::vector<v1::Notification> all;
    v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(7);
    for (int page = 0; page < 10000; ++page) {
      grpc::ClientContext context;
      v1::ListNotificationsResponse response;
      EXPECT_TRUE(stub_->ListNotifications(&context, request, &response).ok());
      all.insert(all.end(), response.notifications().begin(), response.notifications().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return all;
  }

  uint64_t Acknowledge(const std::string& subscriber, uint64_t sequence,
                       grpc::Status* status_out = nullptr) {
    v1::AcknowledgeNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_sequence(sequence);
    grpc::ClientContext context;
    v1::AcknowledgeNotificationsResponse response;
    const grpc::Status status = stub_->AcknowledgeNotifications(&context, request, &response);
    if (status_out != nullptr) *status_out = status;
    return response.acknowledged_sequence();
  }

  testing::NotificationHarness harness_;
  v1::NotificationService::Stub* stub_ = nullptr;
};

TEST_F(NotificationTest, FansOutToEveryRecipientAndSkipsKnownEventIds) {
  EXPECT_EQ(
      Publish({Event("e1", {"teams/storage", "sources/crm"}), Event("e2", {"teams/storage"})}), 3);
  EXPECT_EQ(Publish({Event("e1", {"teams/storage", "sources/crm"}), Event("e3", {"sources/crm"})}),
            1);
  std::vector<std::string> storage;
  for (const auto& n : ListAll("teams/storage"))
    storage.push_back(absl::StrCat(n.sequence(), ":", n.event().id()));
  EXPECT_THAT(storage, ElementsAre("1:e1", "2:e2"));
  std::vector<std::string> crm;
  for (const auto& n : ListAll("sources/crm"))
    crm.push_back(absl::StrCat(n.sequence(), ":", n.event().id()));
  EXPECT_THAT(crm, ElementsAre("1:e1", "2:e3"));
}

TEST_F(NotificationTest, InvalidEventsListEveryViolation) {
  v1::PublishRequest request;
  issue::v1::IssueEvent* event = request.add_events();
  event->add_recipients("people/bob");
  grpc::ClientContext context;
  v1::PublishResponse response;
  const grpc::Status status = stub_->Publish(&context, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : GetFieldViolations(FromGrpcStatus(status))) fields.push_back(v.field);
  EXPECT_THAT(fields, ElementsAre("events[0].id", "events[0].type", "events[0].recipients[0]"));
}

TEST_F(NotificationTest, ConcurrentPublishersGetDenseOrderedLogsWithoutDuplicates) {
  constexpr int kPublishers = 4;
  constexpr int kEvents = 150;
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      for (int i = 0; i < kEvents; i += 3) {
        std::vector<issue::v1::IssueEvent> batch;
        for (int j = i; j < i + 3; ++j)
          batch.push_back(Event(absl::StrCat("p", p, "-", j), {"teams/a", "teams/b"}));
        batch.push_back(Event(absl::StrCat("p", (p + 1) % kPublishers, "-", i),
                              {"teams/a", "teams/b"}));  // a retry of another's
        Publish(batch);
      }
    });
  }
  for (auto& thread : publishers) thread.join();
  for (const char* subscriber : {"teams/a", "teams/b"}) {
    const auto log = ListAll(subscriber);
    ASSERT_EQ(log.size(), static_cast<size_t>(kPublishers * kEvents)) << subscriber;
    absl::flat_hash_set<std::string> ids;
    for (size_t i = 0; i < log.size(); ++i) {
      EXPECT_EQ(log[i].sequence(), i + 1);
      EXPECT_TRUE(ids.insert(log[i].event().id()).second) << log[i].event().id();
    }
  }
}

TEST_F(NotificationTest, CursorMovesForwardOnly) {
  Publish({Event("e1", {"teams/a"}), Event("e2", {"teams/a"}), Event("e3", {"teams/a"})});
  EXPECT_EQ(Acknowledge("teams/a", 2), 2u);
  EXPECT_EQ(Acknowledge("teams/a", 1), 2u);
  grpc::Status status;
  Acknowledge("teams/a", 9, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Acknowledge("nobody", 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Acknowledge("teams/a", 3), 3u);
}

// Reads `count` notifications from a Subscribe stream; their sequences.
std::vector<uint64_t> Read(v1::NotificationService::Stub& stub, const std::string& subscriber,
                           uint64_t start_after, int count) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest request;
  request.set_subscriber(subscriber);
  request.set_start_after(start_after);
  auto reader = stub.Subscribe(&context, request);
  std::vector<uint64_t> sequences;
  v1::Notification notification;
  while (static_cast<int>(sequences.size()) < count && reader->Read(&notification)) {
    sequences.push_back(notification.sequence());
  }
  context.TryCancel();
  return sequences;
}

TEST_F(NotificationTest, ReplayThenLiveWithoutGapOrDuplicate) {
  for (int i = 0; i < 50; ++i) Publish({Event(absl::StrCat("old", i), {"teams/a"})});
  std::atomic<bool> publishing{true};
  std::thread publisher([&] {
    for (int i = 0; i < 100; ++i) Publish({Event(absl::StrCat("new", i), {"teams/a"})});
    publishing = false;
  });
  const std::vector<uint64_t> sequences = Read(*stub_, "teams/a", 0, 150);
  publisher.join();
  ASSERT_EQ(sequences.size(), 150u);
  for (size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], i + 1);
}

TEST_F(NotificationTest, ResumesAfterTheAcknowledgedCursor) {
  for (int i = 0; i < 40; ++i) Publish({Event(absl::StrCat("e", i), {"teams/a"})});
  const auto first = Read(*stub_, "teams/a", 0, 10);
  ASSERT_EQ(first.back(), 10u);
  Acknowledge("teams/a", 10);
  const auto resumed = Read(*stub_, "teams/a", 0, 5);
  EXPECT_THAT(resumed, ElementsAre(11, 12, 13, 14, 15));
  EXPECT_THAT(Read(*stub_, "teams/a", 38, 2), ElementsAre(39, 40));
}

TEST_F(NotificationTest, SlowSubscriberDoesNotHoldUpOthers) {
  for (int i = 0; i < 300; ++i) {
    Publish({Event(absl::StrCat("e", i), {"teams/slow", "teams/fast"})});
  }
  // A subscriber that opens a stream and never reads.
  grpc::ClientContext slow_context;
  v1::SubscribeRequest slow_request;
  slow_request.set_subscriber("teams/slow");
  auto slow = stub_->Subscribe(&slow_context, slow_request);
  const auto fast = Read(*stub_, "teams/fast", 0, 300);
  EXPECT_EQ(fast.size(), 300u);
  slow_context.TryCancel();
}

TEST(NotificationCapacityTest, StreamsBeyondTheLimitAreRefusedUntilOneEnds) {
  auto registry = std::make_shared<prometheus::Registry>();
  CallGate gate(nullptr, Clock::Real(), *registry);
  gate.LimitCapacity({.streams = 1}, "notification", *registry);
  testing::NotificationHarness harness({.gate = &gate});
  ASSERT_TRUE(harness.Start().ok());
  const auto open = [&](grpc::ClientContext& context) {
    v1::SubscribeRequest request;
    request.set_subscriber("teams/a");
    return harness.stub().Subscribe(&context, request);
  };
  grpc::ClientContext first_context;
  auto first = open(first_context);
  for (int i = 0; i < 500 && gate.capacity().streams() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(gate.capacity().streams(), 1);

  grpc::ClientContext second_context;
  auto second = open(second_context);
  v1::Notification notification;
  EXPECT_FALSE(second->Read(&notification));
  const absl::Status refused = FromGrpcStatus(second->Finish());
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_TRUE(GetRetryDelay(refused).has_value());

  first_context.TryCancel();
  while (first->Read(&notification)) {
  }
  first->Finish();
  for (int i = 0; i < 500 && gate.capacity().streams() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(gate.capacity().streams(), 0) << "the ended stream gave its room back";
  grpc::ClientContext third_context;
  auto third = open(third_context);
  for (int i = 0; i < 500 && gate.capacity().streams() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(gate.capacity().streams(), 1) << "a new stream is let in";
  third_context.TryCancel();
  while (third->Read(&notification)) {
  }
  EXPECT_EQ(third->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(NotificationTest, ShutdownEndsStreamsWithUnavailable) {
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.set_subscriber("teams/a");
  auto reader = stub_->Subscribe(&context, request);
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(100));
    harness_.ShutdownServer();
  });
  v1::Notification notification;
  while (reader->Read(&notification)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  stopper.join();
}

}  // namespace
}  // namespace switchboard::notification
