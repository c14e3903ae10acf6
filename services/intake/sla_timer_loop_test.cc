#include "services/intake/sla_timer_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/proto_time.h"
#include "services/intake/testing/loop_fixture.h"

namespace switchboard::intake {
namespace {

using ::testing::ElementsAre;
using testing::Id;
using ::testing::Pair;
using Step = WorkerLoop::Step;

class SlaTimerLoopTest : public testing::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    loop_ = std::make_unique<SlaTimerLoop>(store_->timers_changed(), *ledger_, routing_, metrics_,
                                           clock_, SlaTimerLoop::Options{});
  }
  void TearDown() override {
    loop_.reset();
    LoopTest::TearDown();
  }

  // A ROUTED issue of `team` with an ack deadline `in` from now, and its
  // timer armed in the ledger.
  SlaTimer Routed(const std::string& id, absl::Duration in, int escalation_level = 0) {
    issue::v1::Issue issue = AddIssue(id);
    issue.set_state(issue::v1::STATE_ROUTED);
    issue::v1::Assignment& assignment = *issue.mutable_assignment();
    assignment.mutable_target()->set_team("storage-team");
    *assignment.mutable_original_target() = assignment.target();
    assignment.set_escalation_level(escalation_level);
    *issue.mutable_ack_deadline() = ToProtoTime(clock_.Now() + in);
    ledger_->Put(issue);
    auto timer = DecodeTimerKey(TimerKey(issue));
    EXPECT_TRUE(timer.ok());
    ledger_->SetTimer(*timer);
    return *timer;
  }

  std::unique_ptr<SlaTimerLoop> loop_;
};

TEST_F(SlaTimerLoopTest, WithoutTimersTheLoopIsIdle) {
  const Step step = loop_->RunOnce();
  EXPECT_EQ(step.outcome, Step::kIdle);
  EXPECT_EQ(step.wake_at, absl::InfiniteFuture());
}

TEST_F(SlaTimerLoopTest, ATimerNotYetDueWakesTheLoopAtItsDeadline) {
  const SlaTimer timer = Routed(Id(1), absl::Minutes(5));
  const Step step = loop_->RunOnce();
  EXPECT_EQ(step.outcome, Step::kIdle);
  EXPECT_EQ(step.wake_at, timer.deadline);
  EXPECT_TRUE(ledger_->escalations().empty());
}

TEST_F(SlaTimerLoopTest, ADueTimerEscalatesToTheNextOwner) {
  const SlaTimer timer = Routed(Id(1), absl::Minutes(5));
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(loop_->RunOnce().outcome, Step::kProgress);
  EXPECT_THAT(ledger_->escalations(), ElementsAre(Pair(timer.key, "storage-team-lead")));
  EXPECT_EQ(loop_->RunOnce().outcome, Step::kIdle);
}

TEST_F(SlaTimerLoopTest, AnExhaustedEscalationListDisarmsTheTimerWithoutANewOwner) {
  const SlaTimer timer = Routed(Id(1), absl::ZeroDuration(), /*escalation_level=*/2);
  EXPECT_EQ(loop_->RunOnce().outcome, Step::kProgress);
  EXPECT_THAT(ledger_->escalations(), ElementsAre(Pair(timer.key, "")));
}

TEST_F(SlaTimerLoopTest, RoutingDownFailsTheStepAndRecordsNothing) {
  Routed(Id(1), absl::ZeroDuration());
  routing_.set_available(false);
  EXPECT_EQ(loop_->RunOnce().outcome, Step::kFailed);
  EXPECT_TRUE(ledger_->escalations().empty());
  EXPECT_EQ(Failures("routing", "UNAVAILABLE"), 1);
  routing_.set_available(true);
  EXPECT_EQ(loop_->RunOnce().outcome, Step::kProgress);
}

TEST_F(SlaTimerLoopTest, ATimerWhoseIssueMovedOnIsDisarmedWithoutAskingRouting) {
  const SlaTimer timer = Routed(Id(1), absl::ZeroDuration());
  issue::v1::Issue acknowledged = *ledger_->Current(Id(1));
  acknowledged.set_state(issue::v1::STATE_ACKNOWLEDGED);
  ledger_->Put(acknowledged);
  routing_.set_available(false);  // would fail the step if it were asked
  EXPECT_EQ(loop_->RunOnce().outcome, Step::kProgress);
  EXPECT_THAT(ledger_->escalations(), ElementsAre(Pair(timer.key, "")));
}

}  // namespace
}  // namespace switchboard::intake
