// Publish's promise on the real binary: what Publish acknowledged survives
// kill -9, once per subscriber log, in dense order.
#include <atomic>
#include <filesystem>
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

}  // namespace
}  // namespace switchboard
