#include "services/intake/publish_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/intake/testing/loop_fixture.h"

namespace switchboard::intake {
namespace {

using ::testing::ElementsAre;
using testing::Id;
using Step = WorkerLoop::Step;

std::string Event(const std::string& id) {
  issue::v1::IssueEvent event;
  event.set_id(id);
  event.set_type(issue::v1::EVENT_TYPE_RECEIVED);
  event.add_recipients("sources/crm");
  return event.SerializeAsString();
}

std::vector<std::string> Ids(const std::vector<issue::v1::IssueEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& event : events) ids.push_back(event.id());
  return ids;
}

class PublishLoopTest : public testing::LoopTest {
 protected:
  PublishLoop& loop() {
    if (loop_ == nullptr) {
      loop_ = std::make_unique<PublishLoop>(store_->events(), *ledger_, notification_, metrics_,
                                            clock_, PublishLoop::Options{.batch = 2});
    }
    return *loop_;
  }
  void TearDown() override {
    loop_.reset();
    LoopTest::TearDown();
  }
  std::unique_ptr<PublishLoop> loop_;
};

TEST_F(PublishLoopTest, PublishesInOrderThenRemoves) {
  Append(store_->events(), {Event("a"), Event("b"), Event("c")});
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kIdle);
  EXPECT_THAT(Ids(notification_.events()), ElementsAre("a", "b", "c"));
  EXPECT_THAT(ledger_->removed_events(), ElementsAre(1, 2, 3));
}

// Events carry whole issues (descriptions up to 64 KiB, customers'
// answers): a full batch of large ones would be over the 1 MiB a server
// accepts and be refused for ever. Calls stay under the byte bound instead.
TEST_F(PublishLoopTest, LargeEventsArePublishedInCallsUnderTheByteBound) {
  std::vector<std::string> events;
  for (int i = 0; i < 40; ++i) {
    issue::v1::IssueEvent event;
    event.ParseFromString(Event(absl::StrCat("big-", i)));
    event.mutable_issue()->set_description(std::string(60 * 1024, 'x'));
    events.push_back(event.SerializeAsString());
  }
  Append(store_->events(), events);
  PublishLoop full(store_->events(), *ledger_, notification_, metrics_, clock_, {});
  int calls = 0;
  while (full.RunOnce().outcome == Step::kProgress && calls < 100) ++calls;
  EXPECT_EQ(notification_.events().size(), 40u);
  EXPECT_EQ(ledger_->removed_events().size(), 40u);
  EXPECT_GE(calls, 5) << "40 events of 60 KiB take several calls of at most 512 KiB";
}

TEST_F(PublishLoopTest, NotificationDownKeepsTheEventsAndTheyArePublishedWhenItIsBack) {
  Append(store_->events(), {Event("a")});
  notification_.set_available(false);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kFailed);
  EXPECT_TRUE(ledger_->removed_events().empty());
  EXPECT_EQ(Failures("notification", "UNAVAILABLE"), 1);
  notification_.set_available(true);
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  EXPECT_THAT(Ids(notification_.events()), ElementsAre("a"));
}

TEST_F(PublishLoopTest, EventsPublishedButNotRemovedArePublishedAgainWithTheSameIds) {
  Append(store_->events(), {Event("a")});
  ledger_->FailWrites(absl::UnavailableError("disk"));
  EXPECT_EQ(loop().RunOnce().outcome, Step::kFailed);
  ledger_->FailWrites(absl::OkStatus());
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  // At least once: notification keeps one copy per event id.
  EXPECT_THAT(Ids(notification_.events()), ElementsAre("a", "a"));
  EXPECT_THAT(ledger_->removed_events(), ElementsAre(1));
}

TEST_F(PublishLoopTest, AnEventThatDoesNotParseIsRemovedWithoutBlockingTheRest) {
  Append(store_->events(), {std::string("\xff\xff\xff", 3), Event("b")});
  EXPECT_EQ(loop().RunOnce().outcome, Step::kProgress);
  EXPECT_THAT(Ids(notification_.events()), ElementsAre("b"));
  EXPECT_THAT(ledger_->removed_events(), ElementsAre(1, 2));
}

}  // namespace
}  // namespace switchboard::intake
