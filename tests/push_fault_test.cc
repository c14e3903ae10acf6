// A broken network between notification and a team's push receiver
// (docs/faults.md, "Broken networks"): a tests/fault_proxy.h in front of the
// receiver delays every packet, resets every connection, refuses new ones,
// then black-holes the link while it is busy and again while it is idle.
// Delivery retries with the lane's backoff and goes on when the link heals:
// the receiver gets every notification in order, a retried one at most again
// (push is at least once; the sequence lets a receiver drop the repeat), no
// dead letter, and keepalive replaces a black-holed connection instead of
// waiting on it for ever.
#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/notification/testing/harness.h"
#include "services/notification/testing/receiver.h"
#include "tests/fault_proxy.h"

namespace switchboard::notification {
namespace {

using switchboard::testing::FaultProxy;
using testing::Receiver;

constexpr char kTeam[] = "teams/storage";

// Polls `condition` every 100 ms for up to `timeout`; returns how long it
// took, or nullopt when it never held.
std::optional<absl::Duration> WaitFor(const std::function<bool()>& condition,
                                      absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (!condition()) {
    if (absl::Now() - start > timeout) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::Now() - start;
}

class PushFaultTest : public ::testing::Test {
 protected:
  PushFaultTest()
      : harness_({.push = {.timeout = absl::Seconds(2),
                           .initial_backoff = absl::Milliseconds(50),
                           .max_backoff = absl::Seconds(1),
                           // Never dead-letter here: every notification must
                           // get through once the link heals.
                           .max_attempts = 1'000'000}}),
        receiver_([](const v1::Notification&, int) { return grpc::Status::OK; }) {}

  void SetUp() override {
    ASSERT_TRUE(harness_.Start().ok());
    int receiver_port = 0;
    const std::string endpoint = receiver_.endpoint();
    ASSERT_TRUE(absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &receiver_port));
    auto proxy = FaultProxy::Start(receiver_port);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    v1::CreatePushSubscriptionRequest request;
    request.mutable_subscription()->set_subscriber(kTeam);
    request.mutable_subscription()->set_endpoint(absl::StrCat("127.0.0.1:", proxy_->port()));
    grpc::ClientContext context;
    v1::PushSubscription created;
    ASSERT_TRUE(harness_.stub().CreatePushSubscription(&context, request, &created).ok());
  }

  void TearDown() override { StopPublishing(); }

  // Publishes one event for the team every 50 ms from a thread.
  void StartPublishing() {
    publishing_ = true;
    publisher_ = std::thread([this] {
      while (publishing_) {
        Publish();
        absl::SleepFor(absl::Milliseconds(50));
      }
    });
  }
  void StopPublishing() {
    publishing_ = false;
    if (publisher_.joinable()) publisher_.join();
  }

  void Publish() {
    v1::PublishRequest request;
    issue::v1::IssueEvent* event = request.add_events();
    event->set_id(absl::StrCat("e", published_ + 1));
    event->set_type(issue::v1::EVENT_TYPE_ROUTED);
    event->add_recipients(kTeam);
    grpc::ClientContext context;
    v1::PublishResponse response;
    const grpc::Status status = harness_.stub().Publish(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++published_;
  }

  // How far the receiver has got without a gap.
  uint64_t DeliveredThrough() {
    uint64_t through = 0;
    for (uint64_t sequence : receiver_.accepted_sequences(kTeam)) {
      if (sequence == through + 1) through = sequence;
    }
    return through;
  }

  // Black-holes the link and returns how long the deliverer kept the dead
  // connection: until it opened a new one (`busy`: its FIN cannot pass the
  // unread bytes) or closed the old one (idle).
  absl::Duration TimeToGiveUpOnABlackHole(bool busy) {
    const int64_t accepted = proxy_->accepted();
    const int64_t closed = proxy_->closed_by_client();
    proxy_->SetMode(FaultProxy::Mode::kBlackHole);
    const std::optional<absl::Duration> took = WaitFor(
        [&] { return busy ? proxy_->accepted() > accepted : proxy_->closed_by_client() > closed; },
        absl::Seconds(120));
    proxy_->SetMode(FaultProxy::Mode::kPass);
    EXPECT_TRUE(took.has_value()) << "a black-holed connection was kept for 120 s";
    return took.value_or(absl::InfiniteDuration());
  }

  testing::NotificationHarness harness_;
  Receiver receiver_;
  std::unique_ptr<FaultProxy> proxy_;
  std::atomic<bool> publishing_{false};
  std::atomic<uint64_t> published_{0};
  std::thread publisher_;
};

TEST_F(PushFaultTest, DeliveryOutlivesDelaysResetsRefusalsAndBlackHolesInOrderWithNoDeadLetter) {
  StartPublishing();
  // 300 ms each way: slower, within the 2 s push deadline.
  proxy_->SetDelay(absl::Milliseconds(300));
  absl::SleepFor(absl::Seconds(5));
  proxy_->SetDelay(absl::ZeroDuration());
  // Every connection reset every second, then new ones refused for 5 s.
  for (int i = 0; i < 5; ++i) {
    proxy_->SetMode(FaultProxy::Mode::kResetAll);
    absl::SleepFor(absl::Seconds(1));
  }
  const int64_t accepted_before_refusals = proxy_->accepted();
  proxy_->SetMode(FaultProxy::Mode::kRefuse);
  absl::SleepFor(absl::Seconds(5));
  // Reconnects back off (250 ms growing to 2 s), not a storm.
  EXPECT_LT(proxy_->accepted() - accepted_before_refusals, 40);
  proxy_->SetMode(FaultProxy::Mode::kPass);
  ASSERT_TRUE(WaitFor([&] { return DeliveredThrough() + 5 >= published_; }, absl::Seconds(30)))
      << "delivery did not catch up once the link passed again";

  // Black-holed while pushes are in flight: each push ends at its deadline,
  // and keepalive (a ping after 30 s without a read, 10 s for its answer)
  // gives the connection up; the next attempt opens a new one.
  const absl::Duration busy = TimeToGiveUpOnABlackHole(/*busy=*/true);
  std::cout << "busy black-holed push connection replaced after " << busy << "\n";
  EXPECT_GT(busy, absl::Seconds(25)) << "replaced before keepalive could have fired";
  StopPublishing();
  ASSERT_TRUE(WaitFor([&] { return DeliveredThrough() == published_; }, absl::Seconds(60)))
      << "delivered through " << DeliveredThrough() << " of " << published_;

  // Black-holed while idle: nothing to push, so only keepalive can notice.
  // (Idle: no call on it; a keepalive ping may pass.)
  const int64_t bytes = proxy_->forwarded_bytes();
  const size_t pushes = receiver_.accepted().size();
  absl::SleepFor(absl::Seconds(2));
  ASSERT_EQ(receiver_.accepted().size(), pushes) << "the link is not idle";
  ASSERT_LT(proxy_->forwarded_bytes() - bytes, 200) << "the link is not idle";
  const absl::Duration idle = TimeToGiveUpOnABlackHole(/*busy=*/false);
  std::cout << "idle black-holed push connection closed after " << idle << "\n";
  for (int i = 0; i < 5; ++i) Publish();
  ASSERT_TRUE(WaitFor([&] { return DeliveredThrough() == published_; }, absl::Seconds(30)));

  // Every notification arrived, in order; a repeat only of one whose answer
  // the network lost; nothing dead-lettered.
  const std::vector<uint64_t> sequences = receiver_.accepted_sequences(kTeam);
  EXPECT_TRUE(std::is_sorted(sequences.begin(), sequences.end()));
  EXPECT_EQ(std::set<uint64_t>(sequences.begin(), sequences.end()).size(), published_.load());
  std::cout << published_ << " notifications pushed, " << sequences.size() - published_
            << " of them twice\n";
  EXPECT_LT(sequences.size() - published_, 20u);
  EXPECT_EQ(harness_.metrics().dead_letters.Value(), 0);
  EXPECT_GT(harness_.metrics().push_failures.Add({{"code", "DEADLINE_EXCEEDED"}}).Value(), 0);
}

}  // namespace
}  // namespace switchboard::notification
