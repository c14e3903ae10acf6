// Three notification partitions in-process on loopback: a subscriber's log
// lives in the partition its name hashes to, and every call, Subscribe
// streams included, can be sent to any partition.
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/partition.h"
#include "common/testing/subprocess.h"
#include "services/notification/notification_server.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard::notification {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kPartitions = 3;

class PartitionedNotificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int p = 0; p < kPartitions; ++p) {
      addresses_.push_back(absl::StrCat("127.0.0.1:", switchboard::testing::FreePort()));
      dirs_.push_back(switchboard::testing::MakeTempDir(absl::StrCat("partitioned_notify_", p)));
    }
    servers_.resize(kPartitions);
    for (int p = 0; p < kPartitions; ++p) ASSERT_TRUE(Start(p).ok());
    // Subscribers in every partition.
    for (int i = 0; subscribers_.size() < 6 && i < 1000; ++i) {
      const std::string name = absl::StrCat("teams/t", i);
      if (std::count_if(subscribers_.begin(), subscribers_.end(), [&](const std::string& s) {
            return PartitionOf(s, kPartitions) == PartitionOf(name, kPartitions);
          }) < 2) {
        subscribers_.push_back(name);
      }
    }
  }

  void TearDown() override {
    servers_.clear();
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir);
  }

  absl::Status Start(int partition) {
    NotificationServer::Options options{.data_dir = dirs_[partition], .sync = false};
    options.partitioning = {.self = partition, .addresses = addresses_};
    options.server.grpc_listen = addresses_[partition];
    options.server.max_concurrent_streams = max_concurrent_streams_;
    auto server = NotificationServer::Start(std::move(options));
    if (!server.ok()) return server.status();
    servers_[partition] = std::move(*server);
    return absl::OkStatus();
  }

  v1::NotificationService::Stub& Stub(int partition) {
    if (stubs_.count(partition) == 0) {
      stubs_[partition] = v1::NotificationService::NewStub(
          grpc::CreateChannel(addresses_[partition], grpc::InsecureChannelCredentials()));
    }
    return *stubs_[partition];
  }

  static void Deadline(grpc::ClientContext& context) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  }

  grpc::Status Publish(int via, const std::string& id, const std::vector<std::string>& to,
                       int64_t* appended = nullptr) {
    v1::PublishRequest request;
    issue::v1::IssueEvent* event = request.add_events();
    event->set_id(id);
    event->set_type(issue::v1::EVENT_TYPE_ROUTED);
    for (const std::string& recipient : to) event->add_recipients(recipient);
    grpc::ClientContext context;
    Deadline(context);
    v1::PublishResponse response;
    grpc::Status status = Stub(via).Publish(&context, request, &response);
    if (appended != nullptr) *appended = response.appended();
    return status;
  }

  std::vector<std::string> Log(int via, const std::string& subscriber) {
    v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    grpc::ClientContext context;
    Deadline(context);
    v1::ListNotificationsResponse response;
    EXPECT_TRUE(Stub(via).ListNotifications(&context, request, &response).ok());
    std::vector<std::string> ids;
    for (const auto& notification : response.notifications()) {
      ids.push_back(absl::StrCat(notification.sequence(), ":", notification.event().id()));
    }
    return ids;
  }

  std::vector<std::string> addresses_;
  std::vector<std::string> dirs_;
  std::vector<std::unique_ptr<NotificationServer>> servers_;
  std::map<int, std::unique_ptr<v1::NotificationService::Stub>> stubs_;
  std::vector<std::string> subscribers_;
  int max_concurrent_streams_ = 0;
};

TEST_F(PartitionedNotificationTest, APublishIsSplitAndEachLogLivesInItsPartition) {
  int64_t appended = 0;
  ASSERT_TRUE(Publish(0, "e1", subscribers_, &appended).ok());
  EXPECT_EQ(appended, 6);
  ASSERT_TRUE(Publish(1, "e2", subscribers_, &appended).ok());
  ASSERT_TRUE(Publish(2, "e1", subscribers_, &appended).ok());  // again: nothing twice
  EXPECT_EQ(appended, 0);
  for (const std::string& subscriber : subscribers_) {
    const int owner = PartitionOf(subscriber, kPartitions);
    for (int via = 0; via < kPartitions; ++via) {
      EXPECT_THAT(Log(via, subscriber), ElementsAre("1:e1", "2:e2"))
          << subscriber << " via " << via;
    }
    // Only the owner's store has it.
    v1::ListNotificationsRequest own;
    own.set_subscriber(subscriber);
    EXPECT_EQ(servers_[owner]->core().List(own)->notifications_size(), 2) << subscriber;
    for (int p = 0; p < kPartitions; ++p) {
      if (p != owner) {
        EXPECT_EQ(servers_[p]->core().List(own)->notifications_size(), 0);
      }
    }
  }
}

TEST_F(PartitionedNotificationTest, AStreamThroughAnyPartitionIsTheOwnersLog) {
  const std::string& subscriber = subscribers_.front();
  const int other = (PartitionOf(subscriber, kPartitions) + 1) % kPartitions;
  ASSERT_TRUE(Publish(0, "before", {subscriber}).ok());
  grpc::ClientContext context;
  Deadline(context);
  v1::SubscribeRequest request;
  request.set_subscriber(subscriber);
  auto reader = Stub(other).Subscribe(&context, request);
  v1::Notification notification;
  ASSERT_TRUE(reader->Read(&notification));
  EXPECT_EQ(notification.event().id(), "before");
  // New events reach the relayed stream as they are appended.
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(Publish(i % kPartitions, absl::StrCat("live", i), {subscriber}).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(reader->Read(&notification)) << i;
    EXPECT_EQ(notification.event().id(), absl::StrCat("live", i));
    EXPECT_EQ(notification.sequence(), static_cast<uint64_t>(i + 2));
  }
  context.TryCancel();
  while (reader->Read(&notification)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // Acknowledged through yet another partition, the cursor is the owner's.
  v1::AcknowledgeNotificationsRequest ack;
  ack.set_subscriber(subscriber);
  ack.set_sequence(5);
  grpc::ClientContext ack_context;
  v1::AcknowledgeNotificationsResponse acked;
  ASSERT_TRUE(
      Stub((other + 1) % kPartitions).AcknowledgeNotifications(&ack_context, ack, &acked).ok());
  EXPECT_EQ(
      servers_[PartitionOf(subscriber, kPartitions)]->core().AcknowledgedCursor(subscriber).value(),
      5u);
}

// A partition relays each Subscribe stream it does not own from the owner.
// Servers limit the streams one connection may have open, so the relays are
// spread over connections of their own: more relays than one connection
// may carry all stream, and calls forwarded meanwhile do not wait.
TEST_F(PartitionedNotificationTest, RelaysBeyondOneConnectionsStreamLimitAllFlow) {
  for (auto& server : servers_) server.reset();
  max_concurrent_streams_ = 70;  // above kRelaysPerConnection (64)
  for (int p = 0; p < kPartitions; ++p) ASSERT_TRUE(Start(p).ok());
  const std::string& subscriber = subscribers_.front();
  const int other = (PartitionOf(subscriber, kPartitions) + 1) % kPartitions;
  constexpr int kStreams = 150;  // > 2 × 70: one shared connection would stall
  constexpr int kPerClientConnection = 50;
  std::vector<std::unique_ptr<v1::NotificationService::Stub>> clients;
  for (int c = 0; c * kPerClientConnection < kStreams; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("test.connection", c);
    clients.push_back(v1::NotificationService::NewStub(
        grpc::CreateCustomChannel(addresses_[other], grpc::InsecureChannelCredentials(), args)));
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Notification>>> readers;
  v1::SubscribeRequest request;
  request.set_subscriber(subscriber);
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    Deadline(*contexts.back());
    readers.push_back(clients[i / kPerClientConnection]->Subscribe(contexts.back().get(), request));
  }
  ASSERT_TRUE(Publish(0, "to-all", {subscriber}).ok());
  for (int i = 0; i < kStreams; ++i) {
    v1::Notification notification;
    ASSERT_TRUE(readers[i]->Read(&notification)) << "stream " << i;
    EXPECT_EQ(notification.event().id(), "to-all") << "stream " << i;
  }
  // A unary call forwarded by the relaying partition, while its relays are open.
  EXPECT_THAT(Log(other, subscriber), ElementsAre("1:to-all"));
  for (auto& context : contexts) context->TryCancel();
  for (auto& reader : readers) {
    v1::Notification notification;
    while (reader->Read(&notification)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
}

TEST_F(PartitionedNotificationTest, OperatorListsWalkEveryPartition) {
  // A push subscription per subscriber, made through partition 0; nothing
  // listens at the endpoints, so the pushes fail and stay out of the way.
  for (const std::string& subscriber : subscribers_) {
    v1::CreatePushSubscriptionRequest request;
    request.mutable_subscription()->set_subscriber(subscriber);
    request.mutable_subscription()->set_endpoint("127.0.0.1:1");
    grpc::ClientContext context;
    v1::PushSubscription created;
    ASSERT_TRUE(Stub(0).CreatePushSubscription(&context, request, &created).ok()) << subscriber;
  }
  for (int via = 0; via < kPartitions; ++via) {
    std::vector<std::string> listed;
    v1::ListPushSubscriptionsRequest request;
    request.set_page_size(1);
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      Deadline(context);
      v1::ListPushSubscriptionsResponse response;
      ASSERT_TRUE(Stub((via + page) % kPartitions)
                      .ListPushSubscriptions(&context, request, &response)
                      .ok());
      for (const auto& subscription : response.subscriptions())
        listed.push_back(subscription.subscriber());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
              std::set<std::string>(subscribers_.begin(), subscribers_.end()));
    EXPECT_EQ(listed.size(), subscribers_.size());
  }
  v1::ListPushSubscriptionsRequest forged;
  forged.set_page_token("p9.x");
  grpc::ClientContext context;
  v1::ListPushSubscriptionsResponse response;
  EXPECT_EQ(Stub(1).ListPushSubscriptions(&context, forged, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PartitionedNotificationTest, APartitionDownFailsOnlyItsSubscribers) {
  servers_[2].reset();
  std::vector<std::string> alive;
  std::string down;
  for (const std::string& subscriber : subscribers_) {
    if (PartitionOf(subscriber, kPartitions) == 2) {
      down = subscriber;
    } else {
      alive.push_back(subscriber);
    }
  }
  ASSERT_FALSE(down.empty());
  EXPECT_TRUE(Publish(0, "e", alive).ok());
  grpc::Status status = Publish(0, "e", {down});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("notification partition 2"));
  for (const std::string& subscriber : alive) EXPECT_EQ(Log(1, subscriber).size(), 1u);
}

}  // namespace
}  // namespace switchboard::notification
