#include "services/intake/route_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "services/intake/testing/loop_fixture.h"

namespace switchboard::intake {
namespace {

using testing::Id;
using ::testing::SizeIs;
using Step = WorkerLoop::Step;

class RouteLoopTest : public testing::LoopTest {
 protected:
  RouteLoop& loop() {
    if (loop_ == nullptr) {
      loop_ = std::make_unique<RouteLoop>(store_->route_tasks(), *ledger_, routing_, metrics_,
                                          clock_, RouteLoop::Options{.batch = 2});
    }
    return *loop_;
  }
  void TearDown() override {
    loop_.reset();
    LoopTest::TearDown();
  }
  std::unique_ptr<RouteLoop> loop_;
};

TEST_F(RouteLoopTest, RoutesTasksInOrderInBatchesAndRecordsEachDecision) {
  for (int n = 1; n <= 3; ++n) AddIssue(Id(n), n == 3 ? "compute" : "storage");
  Append(store_->route_tasks(), {Id(1), Id(2), Id(3)});

  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kIdle);

  const std::vector<IssueLedger::Routed> routed = ledger_->routed();
  ASSERT_THAT(routed, SizeIs(3));
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(routed[n].task.value, Id(n + 1));
    ASSERT_TRUE(routed[n].decision.has_value());
  }
  EXPECT_EQ(routed[0].decision->target().team(), "storage-team");
  EXPECT_EQ(routed[2].decision->target().team(), "compute-team");
  EXPECT_EQ(routing_.route_calls(), 2);  // batches of two
  EXPECT_EQ(Gauge(metrics_.backlog, "route"), 0);
}

TEST_F(RouteLoopTest, RoutingDownFailsTheStepAndTheSameTasksAreRoutedWhenItIsBack) {
  AddIssue(Id(1));
  Append(store_->route_tasks(), {Id(1)});
  routing_.set_available(false);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kFailed);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kFailed);
  EXPECT_TRUE(ledger_->routed().empty());
  EXPECT_EQ(Failures("routing", "UNAVAILABLE"), 2);

  routing_.set_available(true);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  ASSERT_THAT(ledger_->routed(), SizeIs(1));
  EXPECT_EQ(loop().RunOnce().outcome, Step::kIdle);
}

TEST_F(RouteLoopTest, ATaskWhoseIssueCannotBeReadIsRemovedWithoutAskingRouting) {
  Append(store_->route_tasks(), {Id(9)});
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  ASSERT_THAT(ledger_->routed(), SizeIs(1));
  EXPECT_FALSE(ledger_->routed()[0].decision.has_value());
  EXPECT_EQ(routing_.route_calls(), 0);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kIdle);
}

TEST_F(RouteLoopTest, ALedgerThatCannotRecordLeavesTheTasksToBeRoutedAgain) {
  AddIssue(Id(1));
  Append(store_->route_tasks(), {Id(1)});
  ledger_->FailWrites(absl::UnavailableError("disk"));
  EXPECT_EQ(loop().RunOnce().outcome, Step::kFailed);
  ledger_->FailWrites(absl::OkStatus());
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  ASSERT_THAT(ledger_->routed(), SizeIs(1));
  EXPECT_EQ(routing_.route_calls(), 2);
}

TEST_F(RouteLoopTest, TheBacklogGaugesSayHowManyWaitAndForHowLong) {
  for (int n = 1; n <= 3; ++n) AddIssue(Id(n));
  Append(store_->route_tasks(), {Id(1)});
  clock_.Advance(absl::Seconds(30));
  Append(store_->route_tasks(), {Id(2), Id(3)});
  clock_.Advance(absl::Seconds(5));
  routing_.set_available(false);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kFailed);
  EXPECT_GE(Gauge(metrics_.backlog, "route"), 2);
  EXPECT_EQ(Gauge(metrics_.backlog_oldest_age, "route"), 35);
}

TEST_F(RouteLoopTest, TheRunningLoopWakesWhenItsDoorbellRings) {
  loop().Start();
  AddIssue(Id(1));
  Append(store_->route_tasks(), {Id(1)});
  store_->route_tasks().doorbell().Ring();  // as IntakeCore does after the commit
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (ledger_->routed().empty() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_THAT(ledger_->routed(), SizeIs(1));  // the fake clock never moved: the ring did it
  loop().Stop();
}

}  // namespace
}  // namespace switchboard::intake
