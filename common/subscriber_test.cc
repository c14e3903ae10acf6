#include "common/subscriber.h"

#include <gtest/gtest.h>

namespace switchboard {
namespace {

TEST(SubscriberTest, NamesAreBuiltAndParsedBack) {
  struct Case {
    std::string name;
    SubscriberKind kind;
    std::string id;
  };
  for (const Case& c :
       {Case{TeamSubscriber("storage-oncall"), SubscriberKind::kTeam, "storage-oncall"},
        Case{BusinessGroupSubscriber("cloud"), SubscriberKind::kBusinessGroup, "cloud"},
        Case{SourceSubscriber("crm"), SubscriberKind::kSource, "crm"},
        Case{SubmitterSubscriber("jane@contoso.com"), SubscriberKind::kSubmitter,
             "jane@contoso.com"}}) {
    const absl::optional<Subscriber> parsed = ParseSubscriber(c.name);
    ASSERT_TRUE(parsed.has_value()) << c.name;
    EXPECT_EQ(parsed->kind, c.kind) << c.name;
    EXPECT_EQ(parsed->id, c.id) << c.name;
  }
  EXPECT_EQ(TeamSubscriber("t"), "teams/t");
  EXPECT_EQ(BusinessGroupSubscriber("g"), "business-groups/g");
  EXPECT_EQ(SourceSubscriber("s"), "sources/s");
  EXPECT_EQ(SubmitterSubscriber("p"), "submitters/p");
}

TEST(SubscriberTest, OtherFormsAreRefused) {
  for (const char* name :
       {"", "teams/", "teams", "team/x", "Teams/x", "teams/UPPER", "business-groups/",
        "sources/a b", "submitters/", "users/x", "teams/x/y"}) {
    EXPECT_FALSE(IsValidSubscriber(name)) << name;
  }
}

}  // namespace
}  // namespace switchboard
