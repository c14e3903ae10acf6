#include "common/validation.h"

#include "absl/strings/str_cat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard {
namespace {

using issue::v1::Issue;
using ::testing::Contains;
using ::testing::IsEmpty;

Issue ValidIssue() {
  Issue issue;
  issue.set_title("Storage account unreachable");
  issue.set_description("Since 09:00 UTC writes fail with 503.");
  issue.mutable_customer()->set_id("contoso");
  issue.mutable_customer()->set_display_name("Contoso Ltd");
  issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
  issue.mutable_customer()->set_country("DE");
  issue.set_product("azure-storage");
  issue.set_severity(issue::v1::SEVERITY_CRITICAL);
  issue.set_region("emea");
  (*issue.mutable_labels())["channel"] = "partner";
  issue.set_source("crm");
  issue.set_submitter("jane.doe@contoso.com");
  return issue;
}

std::vector<std::string> ViolatedFields(const Issue& issue) {
  Violations violations;
  ValidateIssueInput(issue, "issue", violations);
  std::vector<std::string> fields;
  for (const auto& v : violations.list()) fields.push_back(v.field);
  return fields;
}

TEST(Utf8Test, AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Grüße, 東京, 😀"));
  EXPECT_EQ(Utf8Length("Grüße 😀"), 7u);
}

TEST(Utf8Test, RejectsMalformed) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("a\x80z"));            // lone continuation
}

TEST(Utf8Test, JsonEscapingAlwaysYieldsValidText) {
  std::string out;
  AppendJsonEscaped("a\"b\\c\n\x01\xff é", out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\u0001\\ufffd é");
}

TEST(IdTest, Grammar) {
  EXPECT_TRUE(IsValidId("azure-storage"));
  EXPECT_TRUE(IsValidId("0day.team_x"));
  EXPECT_TRUE(IsValidId(std::string(63, 'a')));
  EXPECT_FALSE(IsValidId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("-leading"));
  EXPECT_FALSE(IsValidId("Upper"));
  EXPECT_FALSE(IsValidId("with space"));
  EXPECT_TRUE(IsValidLabelKey("_internal"));
  EXPECT_FALSE(IsValidLabelKey("a/b"));
  EXPECT_TRUE(IsValidSubmitter("Jane.Doe+crm@contoso.com"));
  EXPECT_FALSE(IsValidSubmitter("jane/doe"));
  EXPECT_FALSE(IsValidSubmitter(".jane"));
}

TEST(ValidateIssueTest, ValidIssuePasses) { EXPECT_THAT(ViolatedFields(ValidIssue()), IsEmpty()); }

TEST(ValidateIssueTest, EveryRequiredFieldIsReported) {
  Issue issue;
  EXPECT_EQ(ViolatedFields(issue),
            (std::vector<std::string>{"issue.title", "issue.customer", "issue.product",
                                      "issue.severity", "issue.source"}));
  issue.mutable_customer();
  EXPECT_THAT(ViolatedFields(issue), Contains("issue.customer.id"));
}

TEST(ValidateIssueTest, Limits) {
  Issue issue = ValidIssue();
  issue.set_title(std::string(256, 'x'));
  EXPECT_THAT(ViolatedFields(issue), IsEmpty());
  issue.set_title(std::string(257, 'x'));
  EXPECT_THAT(ViolatedFields(issue), Contains("issue.title"));

  issue = ValidIssue();
  std::string title;
  for (int i = 0; i < 256; ++i) title += "é";  // 512 bytes, 256 characters
  issue.set_title(title);
  EXPECT_THAT(ViolatedFields(issue), IsEmpty());

  issue = ValidIssue();
  issue.set_description(std::string(64 * 1024 + 1, 'd'));
  EXPECT_THAT(ViolatedFields(issue), Contains("issue.description"));

  issue = ValidIssue();
  issue.set_product("Azure Storage");
  issue.mutable_customer()->set_country("de");
  issue.set_submitter("a b");
  EXPECT_EQ(ViolatedFields(issue), (std::vector<std::string>{"issue.customer.country",
                                                             "issue.product", "issue.submitter"}));
}

TEST(ValidateIssueTest, Labels) {
  Issue issue = ValidIssue();
  // StrCat, not "k" + std::to_string(i): GCC 12 at -O3 warns about the
  // latter (-Wrestrict, a false positive: GCC bug 105329).
  for (int i = 0; i < 64; ++i) (*issue.mutable_labels())[absl::StrCat("k", i)] = "v";
  EXPECT_THAT(ViolatedFields(issue), Contains("issue.labels"));

  issue = ValidIssue();
  (*issue.mutable_labels())["Bad Key"] = "v";
  (*issue.mutable_labels())["long"] = std::string(257, 'v');
  const auto fields = ViolatedFields(issue);
  EXPECT_THAT(fields, Contains("issue.labels"));
  EXPECT_THAT(fields, Contains("issue.labels[long]"));
}

TEST(ValidateIssueTest, UnknownAndUnspecifiedEnums) {
  Issue issue = ValidIssue();
  issue.set_severity(static_cast<issue::v1::Severity>(42));
  issue.mutable_customer()->set_tier(static_cast<issue::v1::CustomerTier>(-1));
  Violations violations;
  ValidateIssueInput(issue, "issue", violations);
  ASSERT_EQ(violations.list().size(), 2u);
  EXPECT_EQ(violations.list()[0].field, "issue.customer.tier");
  EXPECT_EQ(violations.list()[1].description, "unknown Severity value 42");

  issue = ValidIssue();
  issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_UNSPECIFIED);  // optional
  EXPECT_THAT(ViolatedFields(issue), IsEmpty());
}

TEST(ValidateIssueTest, InvalidUtf8IsRefused) {
  Issue issue = ValidIssue();
  issue.set_title("bad \xff title");
  issue.set_description("\xc0\xaf");
  EXPECT_EQ(ViolatedFields(issue), (std::vector<std::string>{"issue.title", "issue.description"}));
}

TEST(ViolationsTest, StatusListsEveryViolation) {
  Violations violations;
  EXPECT_TRUE(violations.ToStatus("request").ok());
  violations.Add("a", "required");
  violations.Add("b", "too long");
  const absl::Status status = violations.ToStatus("SubmitIssueRequest");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "invalid SubmitIssueRequest: a: required (and 1 more)");
  EXPECT_EQ(GetFieldViolations(status).size(), 2u);
}

TEST(ValidateTargetTest, BothIdsRequired) {
  issue::v1::Target target;
  target.set_team("storage");
  Violations violations;
  ValidateTarget(target, "target", violations);
  ASSERT_EQ(violations.list().size(), 1u);
  EXPECT_EQ(violations.list()[0].field, "target.business_group");
}

}  // namespace
}  // namespace switchboard
