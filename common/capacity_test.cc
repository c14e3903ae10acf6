#include "common/capacity.h"

#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status.h"

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using Work = Capacity::Work;

void ExpectRefused(const absl::Status& status, absl::string_view what) {
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(status.message(), HasSubstr("intake is at capacity"));
  EXPECT_THAT(status.message(), HasSubstr(what));
  absl::optional<absl::Duration> retry = GetRetryDelay(status);
  ASSERT_TRUE(retry.has_value()) << "no RetryInfo on " << status;
  EXPECT_GE(*retry, Capacity::kRetryDelay);
  EXPECT_LT(*retry, 2 * Capacity::kRetryDelay);
}

class CapacityTest : public ::testing::Test {
 protected:
  // The value of the series of `name` with exactly `labels`; -1 if none.
  double Metric(const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const prometheus::MetricFamily& family : registry_->Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        std::map<std::string, std::string> have;
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          have[label.name] = label.value;
        }
        if (have != labels) continue;
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
      }
    }
    return -1;
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(CapacityTest, CallsBeyondTheLimitAreRefusedAndTheirRoomComesBack) {
  Capacity capacity({.calls = 2}, "intake", *registry_);
  ASSERT_TRUE(capacity.Take(Work::kRead, 10).ok());
  ASSERT_TRUE(capacity.Take(Work::kWrite, 20).ok());
  ExpectRefused(capacity.Take(Work::kRead, 10), "calls in flight");
  EXPECT_EQ(capacity.calls(), 2) << "a refusal takes nothing";
  EXPECT_EQ(capacity.call_bytes(), 30);
  EXPECT_EQ(Metric("switchboard_capacity_in_use", {{"resource", "calls"}}), 2);
  EXPECT_EQ(Metric("switchboard_capacity_in_use", {{"resource", "call_bytes"}}), 30);
  EXPECT_EQ(Metric("switchboard_capacity_limit", {{"resource", "calls"}}), 2);
  EXPECT_EQ(Metric("switchboard_load_shed_total", {{"reason", "calls"}}), 1);

  capacity.Release(Work::kRead, 10);
  EXPECT_TRUE(capacity.Take(Work::kRead, 10).ok());
  capacity.Release(Work::kRead, 10);
  capacity.Release(Work::kWrite, 20);
  EXPECT_EQ(capacity.calls(), 0);
  EXPECT_EQ(capacity.call_bytes(), 0);
  EXPECT_EQ(Metric("switchboard_capacity_in_use", {{"resource", "calls"}}), 0);
}

TEST_F(CapacityTest, DrainingRefusesEveryNewCallWithUnavailableAndWaitsForThoseTaken) {
  Capacity capacity({}, "intake", *registry_);  // no limits: only the drain refuses
  ASSERT_TRUE(capacity.Take(Work::kWrite, 10).ok());
  capacity.StartDraining();
  EXPECT_TRUE(capacity.draining());
  for (Work work : {Work::kRead, Work::kWrite, Work::kStream}) {
    const absl::Status refused = capacity.Take(work, 10);
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
    EXPECT_THAT(refused.message(), HasSubstr("intake is shutting down"));
    absl::optional<absl::Duration> retry = GetRetryDelay(refused);
    ASSERT_TRUE(retry.has_value()) << "no RetryInfo on " << refused;
    EXPECT_GE(*retry, Capacity::kRetryDelay);
    EXPECT_LT(*retry, 2 * Capacity::kRetryDelay);
  }
  EXPECT_EQ(capacity.calls(), 1) << "a refusal takes nothing";
  EXPECT_EQ(capacity.streams(), 0);
  EXPECT_EQ(Metric("switchboard_load_shed_total", {{"reason", "draining"}}), 3);

  // The call taken before the drain holds it up until it gives its room back.
  EXPECT_FALSE(capacity.AwaitNoCalls(absl::Milliseconds(20)));
  std::thread answer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    capacity.Release(Work::kWrite, 10);
  });
  EXPECT_TRUE(capacity.AwaitNoCalls(absl::Seconds(30)));
  answer.join();
  EXPECT_EQ(capacity.calls(), 0);
}

TEST_F(CapacityTest, RequestBytesAreBoundedButOneLargeRequestAlonePasses) {
  Capacity capacity({.call_bytes = 100}, "intake", *registry_);
  ASSERT_TRUE(capacity.Take(Work::kRead, 150).ok()) << "alone, a request larger than the limit";
  ExpectRefused(capacity.Take(Work::kRead, 1), "request bytes in flight");
  EXPECT_EQ(capacity.calls(), 1) << "the refused call gave its slot back";
  capacity.Release(Work::kRead, 150);
  ASSERT_TRUE(capacity.Take(Work::kRead, 60).ok());
  ExpectRefused(capacity.Take(Work::kRead, 41), "request bytes in flight");
  EXPECT_TRUE(capacity.Take(Work::kRead, 40).ok());
  EXPECT_EQ(Metric("switchboard_load_shed_total", {{"reason", "call_bytes"}}), 2);
}

TEST_F(CapacityTest, ABacklogOfCommitsRefusesWritesButNotReads) {
  Capacity capacity({.commit_bytes = 1000}, "intake", *registry_);
  capacity.AddCommitBytes(999);
  ASSERT_TRUE(capacity.Take(Work::kWrite, 1).ok());
  capacity.Release(Work::kWrite, 1);
  capacity.AddCommitBytes(1);
  ExpectRefused(capacity.Take(Work::kWrite, 1), "bytes waiting to be made durable");
  EXPECT_TRUE(capacity.Take(Work::kRead, 1).ok()) << "reads go on while the disk is behind";
  capacity.Release(Work::kRead, 1);
  EXPECT_EQ(Metric("switchboard_capacity_in_use", {{"resource", "commit_bytes"}}), 1000);
  capacity.AddCommitBytes(-600);
  EXPECT_TRUE(capacity.Take(Work::kWrite, 1).ok()) << "writes resume as the disk catches up";
  EXPECT_EQ(Metric("switchboard_load_shed_total", {{"reason", "commit_bytes"}}), 1);
}

TEST_F(CapacityTest, StreamsAreCountedApartAndGiveBackTheirSlot) {
  Capacity capacity({.calls = 1, .streams = 1}, "intake", *registry_);
  ASSERT_TRUE(capacity.Take(Work::kStream, 0).ok());
  {
    StreamSlot slot(&capacity);
    ExpectRefused(capacity.Take(Work::kStream, 0), "server streams open");
    EXPECT_TRUE(capacity.Take(Work::kRead, 1).ok()) << "a stream takes no unary call's room";
    StreamSlot moved = std::move(slot);
    EXPECT_EQ(capacity.streams(), 1);
  }
  EXPECT_EQ(capacity.streams(), 0) << "the slot gave the stream's room back once";
  EXPECT_TRUE(capacity.Take(Work::kStream, 0).ok());
  EXPECT_EQ(Metric("switchboard_load_shed_total", {{"reason", "streams"}}), 1);
}

TEST_F(CapacityTest, NoLimitsAndTheDefaultCapacityRefuseNothing) {
  Capacity unlimited;
  Capacity zeros({}, "intake", *registry_);
  for (Capacity* capacity : {&unlimited, &zeros}) {
    capacity->AddCommitBytes(int64_t{1} << 40);
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(capacity->Take(Work::kWrite, 1 << 20).ok());
      ASSERT_TRUE(capacity->Take(Work::kStream, 0).ok());
    }
    EXPECT_EQ(capacity->calls(), 1000);
  }
}

TEST_F(CapacityTest, ConcurrentCallersNeverHoldMoreThanTheLimit) {
  constexpr int kLimit = 8;
  Capacity capacity({.calls = kLimit}, "intake", *registry_);
  std::atomic<int> held{0};
  std::atomic<int> most{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        if (!capacity.Take(Work::kRead, 1).ok()) {
          refused.fetch_add(1);
          continue;
        }
        const int now = held.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        held.fetch_sub(1);
        capacity.Release(Work::kRead, 1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(capacity.calls(), 0);
  EXPECT_EQ(capacity.call_bytes(), 0);
  EXPECT_EQ(Metric("switchboard_load_shed_total", {{"reason", "calls"}}), refused.load());
}

}  // namespace
}  // namespace switchboard
