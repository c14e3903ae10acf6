// The notification binary's promises under kill -9: what Publish
// acknowledged survives, once per subscriber log, in dense order; and push
// delivery resumes after a crash with nothing skipped and nothing out of
// order (a notification in flight at the crash may come again).
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sync.h"
#include "common/testing/subprocess.h"
#include "services/notification/testing/receiver.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard {
namespace {

using notification::v1::NotificationService;

TEST(NotificationDurabilityTest, AcknowledgedPublishesSurviveKill9) {
  const std::string dir = testing::MakeTempDir("notification_durability_test");
  std::mt19937 random(std::random_device{}());
  Mutex mu;
  absl::flat_hash_set<std::string> acked;  // event ids
  std::string target;
  std::unique_ptr<testing::Subprocess> child;
  auto start = [&] {
    target = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto started =
        testing::Subprocess::Start(testing::BinaryPath("switchboard-notification"),
                                   {"--grpc_listen=" + target, "--data_dir=" + dir + "/data"},
                                   {.stderr_path = dir + "/stderr.log"});
    ASSERT_TRUE(started.ok());
    child = std::move(*started);
    ASSERT_TRUE(testing::WaitForServing(target, absl::Seconds(30)).ok());
  };

  for (int round = 0; round < 3; ++round) {
    start();
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    std::atomic<bool> stop{false};
    std::vector<std::thread> publishers;
    for (int p = 0; p < 4; ++p) {
      publishers.emplace_back([&, p] {
        auto stub = NotificationService::NewStub(channel);
        for (int i = 0; !stop && i < 100000; ++i) {
          notification::v1::PublishRequest request;
          issue::v1::IssueEvent* event = request.add_events();
          event->set_id(absl::StrCat("r", round, "-p", p, "-", i));
          event->set_type(issue::v1::EVENT_TYPE_ROUTED);
          event->add_recipients("teams/storage");
          event->add_recipients(absl::StrCat("sources/p", p));
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
          notification::v1::PublishResponse response;
          if (stub->Publish(&context, request, &response).ok()) {
            MutexLock lock(mu);
            acked.insert(event->id());
          }
        }
      });
    }
    absl::SleepFor(absl::Milliseconds(300 + std::uniform_int_distribution<int>(0, 500)(random)));
    child->Kill();
    stop = true;
    for (auto& thread : publishers) thread.join();
  }

  start();
  auto stub =
      NotificationService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  notification::v1::ListNotificationsRequest list;
  list.set_subscriber("teams/storage");
  list.set_page_size(1000);
  absl::flat_hash_set<std::string> stored;
  uint64_t expected_sequence = 1;
  int duplicates = 0;
  int gaps = 0;
  for (int page = 0; page < 10000; ++page) {
    grpc::ClientContext context;
    notification::v1::ListNotificationsResponse response;
    ASSERT_TRUE(stub->ListNotifications(&context, list, &response).ok());
    for (const auto& notification : response.notifications()) {
      gaps += notification.sequence() != expected_sequence++;
      duplicates += !stored.insert(notification.event().id()).second;
    }
    if (response.next_page_token().empty()) break;
    list.set_page_token(response.next_page_token());
  }
  MutexLock lock(mu);
  ASSERT_GT(acked.size(), 100u);
  int missing = 0;
  for (const std::string& id : acked) missing += !stored.contains(id);
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged events";
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(gaps, 0);
  child.reset();
  std::filesystem::remove_all(dir);
}

TEST(NotificationDurabilityTest, PushDeliveryResumesAfterKill9WithoutGapsOrReordering) {
  const std::string dir = testing::MakeTempDir("notification_push_durability_test");
  notification::testing::Receiver receiver(
      [](const notification::v1::Notification&, int) { return grpc::Status::OK; });
  std::mt19937 random(std::random_device{}());
  std::string target;
  std::unique_ptr<testing::Subprocess> child;
  std::unique_ptr<NotificationService::Stub> stub;
  auto start = [&] {
    target = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto started = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-notification"),
        {"--grpc_listen=" + target, "--data_dir=" + dir + "/data", "--push_initial_backoff=10ms",
         "--push_max_backoff=100ms", "--push_max_attempts=1000"},
        {.stderr_path = dir + "/stderr.log"});
    ASSERT_TRUE(started.ok());
    child = std::move(*started);
    ASSERT_TRUE(testing::WaitForServing(target, absl::Seconds(30)).ok());
    stub = NotificationService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  };
  int published = 0;
  auto publish = [&](int count) {
    for (int i = 0; i < count; ++i) {
      notification::v1::PublishRequest request;
      issue::v1::IssueEvent* event = request.add_events();
      event->set_id(absl::StrCat("e", published + 1));
      event->set_type(issue::v1::EVENT_TYPE_ROUTED);
      event->add_recipients("teams/storage");
      grpc::ClientContext context;
      notification::v1::PublishResponse response;
      if (stub->Publish(&context, request, &response).ok()) ++published;
    }
  };

  start();
  {
    notification::v1::CreatePushSubscriptionRequest request;
    request.mutable_subscription()->set_subscriber("teams/storage");
    request.mutable_subscription()->set_endpoint(receiver.endpoint());
    grpc::ClientContext context;
    notification::v1::PushSubscription created;
    ASSERT_TRUE(stub->CreatePushSubscription(&context, request, &created).ok());
  }
  for (int round = 0; round < 3; ++round) {
    std::thread publisher([&] { publish(300); });
    absl::SleepFor(absl::Milliseconds(100 + std::uniform_int_distribution<int>(0, 300)(random)));
    child->Kill();
    publisher.join();
    start();
  }
  publish(20);  // after the last restart, so the log ends past the crashes

  // Everything arrives: each sequence at least once, and in order — a
  // sequence at or below the highest seen is a redelivery after a crash,
  // anything else is the next one.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<uint64_t> arrived;
  uint64_t highest = 0;
  while (absl::Now() < deadline) {
    arrived = receiver.accepted_sequences("teams/storage");
    highest = arrived.empty() ? 0 : *std::max_element(arrived.begin(), arrived.end());
    if (highest >= static_cast<uint64_t>(published)) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(published, 20);
  EXPECT_EQ(highest, static_cast<uint64_t>(published));
  uint64_t seen = 0;
  int redelivered = 0;
  int out_of_order = 0;
  for (uint64_t sequence : arrived) {
    if (sequence <= seen) {
      ++redelivered;
    } else {
      out_of_order += sequence != seen + 1;
      seen = sequence;
    }
  }
  EXPECT_EQ(out_of_order, 0);
  // At most what was in flight or not yet recorded at each of 3 crashes.
  EXPECT_LE(redelivered, 3 * 64) << "redeliveries";
  std::cerr << "published " << published << ", arrived " << arrived.size() << ", redelivered "
            << redelivered << "\n";
  child.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace switchboard
