#include "services/routing/routing_core.h"

#include <atomic>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/testing/subprocess.h"

namespace switchboard::routing {
namespace {

using issue::v1::Issue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A ruleset routing "azure-storage" to `team` (a team of group "cloud").
v1::Ruleset RoutingStorageTo(const std::string& team, const std::string& comment = "") {
  v1::Ruleset ruleset;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat(R"pb(
                     business_groups {
                       id: "cloud"
                       teams { id: "storage" }
                       teams { id: "compute" }
                     }
                     business_groups {
                       id: "support"
                       teams { id: "triage" }
                     }
                     default_target { business_group: "support" team: "triage" }
                     rules {
                       id: "storage"
                       conditions { field: "product" op: OPERATOR_EQUALS values: "azure-storage" }
                       target { business_group: "cloud" team: ")pb",
                   team, R"pb(" } })pb"),
      &ruleset));
  ruleset.set_comment(comment);
  return ruleset;
}

Issue StorageIssue() {
  Issue issue;
  issue.set_title("Writes fail");
  issue.mutable_customer()->set_id("contoso");
  issue.set_product("azure-storage");
  issue.set_severity(issue::v1::SEVERITY_HIGH);
  issue.set_source("crm");
  return issue;
}

class RoutingCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto db = Database::Open({.path = dir_, .column_families = RulesetStore::ColumnFamilies()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    commits_ = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "routing"});
    store_ = std::make_unique<RulesetStore>(*db_, *commits_);
    auto core = RoutingCore::Create(*store_, registry_, clock_);
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
  }

  void Close() {
    core_.reset();
    store_.reset();
    commits_.reset();
    db_.reset();
  }

  absl::StatusOr<v1::Ruleset> Apply(const v1::Ruleset& ruleset, int64_t expected = 0,
                                    bool validate_only = false) {
    v1::ApplyRulesetRequest request;
    *request.mutable_ruleset() = ruleset;
    request.set_expected_revision(expected);
    request.set_validate_only(validate_only);
    return core_->ApplyRulesetAndWait(request, "alice");
  }

  std::string RouteStorage() {
    v1::RouteIssueRequest request;
    *request.mutable_issue() = StorageIssue();
    auto decision = core_->Route(request);
    EXPECT_TRUE(decision.ok()) << decision.status();
    return decision.ok() ? decision->target().team() : "";
  }

  const std::string dir_ = testing::MakeTempDir("routing_core_test");
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  prometheus::Registry registry_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<RulesetStore> store_;
  std::unique_ptr<RoutingCore> core_;
};

TEST_F(RoutingCoreTest, NothingRoutesBeforeTheFirstApply) {
  v1::RouteIssueRequest request;
  *request.mutable_issue() = StorageIssue();
  EXPECT_EQ(core_->Route(request).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(core_->GetRuleset({}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RoutingCoreTest, ApplyStoresNumbersAndActivates) {
  auto first = Apply(RoutingStorageTo("storage", "first"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->revision(), 1);
  EXPECT_EQ(first->author(), "alice");
  EXPECT_EQ(first->create_time().seconds(), 1'800'000'000);
  EXPECT_EQ(RouteStorage(), "storage");

  auto second = Apply(RoutingStorageTo("compute", "second"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->revision(), 2);
  EXPECT_EQ(RouteStorage(), "compute");

  v1::GetRulesetRequest get;
  EXPECT_EQ(core_->GetRuleset(get)->comment(), "second");
  get.set_revision(1);
  EXPECT_EQ(core_->GetRuleset(get)->comment(), "first");
  get.set_revision(3);
  EXPECT_EQ(core_->GetRuleset(get).status().code(), absl::StatusCode::kNotFound);
  get.set_revision(-1);
  EXPECT_EQ(core_->GetRuleset(get).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RoutingCoreTest, InvalidRulesetListsEveryViolationAndChangesNothing) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage")).ok());
  v1::Ruleset bad = RoutingStorageTo("nobody");
  bad.mutable_rules(0)->mutable_conditions(0)->set_field("colour");
  auto result = Apply(bad);
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& violation : GetFieldViolations(result.status()))
    fields.push_back(violation.field);
  EXPECT_THAT(fields,
              ElementsAre("ruleset.rules[0].conditions[0].field", "ruleset.rules[0].target.team"));
  EXPECT_EQ(core_->active()->revision(), 1);
  EXPECT_EQ(RouteStorage(), "storage");
}

TEST_F(RoutingCoreTest, ExpectedRevisionIsOptimisticConcurrency) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage")).ok());
  auto stale = Apply(RoutingStorageTo("compute"), /*expected=*/7);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale.status().message()), HasSubstr("active revision is 1"));
  auto fresh = Apply(RoutingStorageTo("compute"), /*expected=*/1);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->revision(), 2);
}

TEST_F(RoutingCoreTest, ValidateOnlyStoresNothing) {
  auto checked = Apply(RoutingStorageTo("storage"), 0, /*validate_only=*/true);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->revision(), 0);
  EXPECT_EQ(core_->active(), nullptr);
  EXPECT_TRUE(core_->ListRevisions({})->rulesets().empty());
  EXPECT_EQ(Apply(RoutingStorageTo("nobody"), 0, true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RoutingCoreTest, RollbackByReapplyingAnOldRevision) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage", "good")).ok());
  ASSERT_TRUE(Apply(RoutingStorageTo("compute", "bad")).ok());
  v1::GetRulesetRequest get;
  get.set_revision(1);
  auto old = core_->GetRuleset(get);
  ASSERT_TRUE(old.ok());
  auto rolled_back = Apply(*old);
  ASSERT_TRUE(rolled_back.ok());
  EXPECT_EQ(rolled_back->revision(), 3);
  EXPECT_EQ(rolled_back->comment(), "good");
  EXPECT_EQ(RouteStorage(), "storage");
}

TEST_F(RoutingCoreTest, ActiveRulesetAndHistorySurviveRestart) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage")).ok());
  ASSERT_TRUE(Apply(RoutingStorageTo("compute")).ok());
  Close();
  Open();
  ASSERT_NE(core_->active(), nullptr);
  EXPECT_EQ(core_->active()->revision(), 2);
  EXPECT_EQ(RouteStorage(), "compute");
  auto third = Apply(RoutingStorageTo("storage"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->revision(), 3);
}

TEST_F(RoutingCoreTest, ListRevisionsPagesNewestFirst) {
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(Apply(RoutingStorageTo("storage", absl::StrCat("r", i))).ok());
  std::vector<int64_t> seen;
  v1::ListRulesetRevisionsRequest request;
  request.set_page_size(2);
  for (int page = 0; page < 10; ++page) {
    auto response = core_->ListRevisions(request);
    ASSERT_TRUE(response.ok()) << response.status();
    for (const auto& ruleset : response->rulesets()) seen.push_back(ruleset.revision());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(seen, ElementsAre(5, 4, 3, 2, 1));
  request.set_page_token("garbage");
  EXPECT_EQ(core_->ListRevisions(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.clear_page_token();
  request.set_page_size(101);
  EXPECT_EQ(core_->ListRevisions(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RoutingCoreTest, TestRulesetComparesActiveAndCandidate) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage")).ok());
  v1::TestRulesetRequest request;
  *request.mutable_candidate() = RoutingStorageTo("compute");
  *request.add_issues() = StorageIssue();
  Issue other = StorageIssue();
  other.set_product("xbox");
  *request.add_issues() = other;
  auto response = core_->TestRuleset(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->results_size(), 2);
  EXPECT_EQ(response->results(0).active().target().team(), "storage");
  EXPECT_EQ(response->results(0).candidate().target().team(), "compute");
  EXPECT_TRUE(response->results(0).changed());
  EXPECT_EQ(response->results(1).candidate().target().team(), "triage");
  EXPECT_FALSE(response->results(1).changed());
  EXPECT_EQ(core_->active()->revision(), 1);  // nothing applied

  *request.mutable_candidate() = RoutingStorageTo("nobody");
  auto invalid = core_->TestRuleset(request);
  ASSERT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(invalid.status()).at(0).field, "candidate.rules[0].target.team");
}

TEST_F(RoutingCoreTest, TestRulesetShowsTheProblemsACandidatesPoliciesWouldMake) {
  v1::TestRulesetRequest request;
  *request.mutable_candidate() = RoutingStorageTo("storage");
  ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(
      R"pb(correlation_policies {
             id: "regional-outage"
             key_fields: [ "product", "region" ]
             window { seconds: 3600 }
             business_groups: "cloud"
             escalation { min_customers: 2 }
           })pb",
      request.mutable_candidate()));
  // Two customers in emea 10 minutes apart, one of them twice; one in emea
  // two hours later (a new window); one in us; one without a region; one
  // routed to another group (out of the policy's scope).
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  auto add = [&](const std::string& customer, const std::string& region, absl::Duration at,
                 const std::string& product = "azure-storage") {
    Issue issue = StorageIssue();
    issue.mutable_customer()->set_id(customer);
    issue.set_region(region);
    issue.set_product(product);
    *issue.mutable_create_time() = ToProtoTime(t0 + at);
    *request.add_issues() = issue;
  };
  add("contoso", "emea", absl::Minutes(10));         // 0
  add("fabrikam", "emea", absl::ZeroDuration());     // 1: the first of its key
  add("contoso", "emea", absl::Minutes(20));         // 2
  add("contoso", "emea", absl::Hours(2));            // 3: after the window
  add("contoso", "us", absl::Minutes(1));            // 4
  add("contoso", "", absl::Minutes(1));              // 5: no region, no key
  add("contoso", "emea", absl::Minutes(1), "xbox");  // 6: routed to support
  Issue now = StorageIssue();                        // 7: no create_time: counts as now, t0
  now.mutable_customer()->set_id("adatum");
  now.set_region("emea");
  *request.add_issues() = now;

  auto response = core_->TestRuleset(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->results(0).candidate().correlation().key(),
            "regional-outage|product=azure-storage|region=emea");
  EXPECT_FALSE(response->results(5).candidate().has_correlation());
  EXPECT_FALSE(response->results(6).candidate().has_correlation());
  ASSERT_EQ(response->problem_count(), 3);
  ASSERT_EQ(response->correlation_groups_size(), 3);
  const v1::CorrelationGroup& first = response->correlation_groups(0);
  EXPECT_EQ(first.key(), "regional-outage|product=azure-storage|region=emea");
  EXPECT_THAT(first.issue_indexes(), ElementsAre(1, 7, 0, 2));
  EXPECT_EQ(first.customers(), 3);
  EXPECT_TRUE(first.would_escalate());
  EXPECT_EQ(response->correlation_groups(1).key(),
            "regional-outage|product=azure-storage|region=us");
  EXPECT_THAT(response->correlation_groups(1).issue_indexes(), ElementsAre(4));
  EXPECT_FALSE(response->correlation_groups(1).would_escalate());
  EXPECT_THAT(response->correlation_groups(2).issue_indexes(), ElementsAre(3));
  EXPECT_EQ(response->correlation_groups(2).key(), first.key());
}

TEST_F(RoutingCoreTest, TestRulesetCountsAnotherProblemKeyAsAChangeButNotAnotherWindow) {
  const std::string policy = R"pb(correlation_policies {
                                    id: "by-product"
                                    key_fields: "product"
                                    window { seconds: 3600 }
                                  })pb";
  v1::Ruleset active = RoutingStorageTo("storage");
  ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(policy, &active));
  ASSERT_TRUE(Apply(active).ok());
  v1::TestRulesetRequest request;
  *request.add_issues() = StorageIssue();
  *request.mutable_candidate() = active;
  request.mutable_candidate()->mutable_correlation_policies(0)->mutable_window()->set_seconds(60);
  auto window = core_->TestRuleset(request);
  ASSERT_TRUE(window.ok()) << window.status();
  EXPECT_FALSE(window->results(0).changed());

  request.mutable_candidate()->mutable_correlation_policies(0)->set_key_fields(0, "source");
  auto key = core_->TestRuleset(request);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(key->results(0).changed());
  EXPECT_EQ(key->results(0).candidate().correlation().key(), "by-product|source=crm");
}

TEST_F(RoutingCoreTest, BatchValidatesEveryIssueAndAnswersInOrder) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage")).ok());
  v1::RouteIssuesRequest batch;
  *batch.add_requests()->mutable_issue() = StorageIssue();
  Issue other = StorageIssue();
  other.set_product("xbox");
  *batch.add_requests()->mutable_issue() = other;
  auto response = core_->RouteBatch(batch);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->decisions_size(), 2);
  EXPECT_EQ(response->decisions(0).target().team(), "storage");
  EXPECT_EQ(response->decisions(1).target().team(), "triage");

  batch.mutable_requests(1)->mutable_issue()->clear_title();
  auto invalid = core_->RouteBatch(batch);
  EXPECT_EQ(GetFieldViolations(invalid.status()).at(0).field, "requests[1].issue.title");
  EXPECT_EQ(core_->RouteBatch({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RoutingCoreTest, EscalateValidatesTheAssignmentItEscalatesFrom) {
  ASSERT_TRUE(Apply(RoutingStorageTo("storage")).ok());
  v1::EscalateIssueRequest request;
  *request.mutable_issue() = StorageIssue();
  const auto violated = [&]() -> std::string {
    absl::StatusOr<v1::RoutingDecision> decision = core_->Escalate(request);
    EXPECT_EQ(decision.status().code(), absl::StatusCode::kInvalidArgument) << decision.status();
    const std::vector<FieldViolation> violations = GetFieldViolations(decision.status());
    return violations.empty() ? "" : violations.front().field;
  };
  EXPECT_EQ(violated(), "issue.assignment.target");

  issue::v1::Assignment& assignment = *request.mutable_issue()->mutable_assignment();
  assignment.mutable_target()->set_business_group("cloud");
  assignment.mutable_target()->set_team(std::string(100000, 's'));  // echoed in no error
  EXPECT_EQ(violated(), "issue.assignment.target.team");
  assignment.mutable_target()->set_team("storage");
  assignment.mutable_original_target()->set_team("Storage Team");
  EXPECT_EQ(violated(), "issue.assignment.original_target.business_group");
  assignment.clear_original_target();
  assignment.set_rule("rule with spaces");
  EXPECT_EQ(violated(), "issue.assignment.rule");
  assignment.set_rule("storage");
  for (int i = 0; i < 17; ++i) *assignment.add_watchers() = assignment.target();
  EXPECT_EQ(violated(), "issue.assignment.watchers");
  assignment.clear_watchers();
  assignment.set_escalation_level(-1);
  EXPECT_EQ(violated(), "issue.assignment.escalation_level");
  assignment.set_escalation_level(0);
  // Valid: what is left is the ruleset's answer (storage has no escalation list).
  EXPECT_EQ(core_->Escalate(request).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Decisions racing with applies see one whole ruleset or the other: the
// storage rule and the default target always come from the same revision.
TEST_F(RoutingCoreTest, ApplyIsAtomicUnderConcurrentRouting) {
  auto ruleset_for = [](int i) {
    v1::Ruleset ruleset = RoutingStorageTo(i % 2 == 0 ? "storage" : "compute");
    ruleset.mutable_default_target()->set_business_group(i % 2 == 0 ? "support" : "cloud");
    ruleset.mutable_default_target()->set_team(i % 2 == 0 ? "triage" : "compute");
    return ruleset;
  };
  ASSERT_TRUE(Apply(ruleset_for(0)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> mixed{0};
  std::atomic<int> decisions{0};
  std::vector<std::thread> routers;
  for (int t = 0; t < 2; ++t) {
    routers.emplace_back([&] {
      v1::RouteIssuesRequest batch;
      *batch.add_requests()->mutable_issue() = StorageIssue();
      Issue other = StorageIssue();
      other.set_product("xbox");
      *batch.add_requests()->mutable_issue() = other;
      while (!done) {
        auto response = core_->RouteBatch(batch);
        if (!response.ok()) continue;
        const bool even = response->decisions(0).target().team() == "storage";
        const bool even_default = response->decisions(1).target().team() == "triage";
        if (even != even_default || response->decisions(0).ruleset_revision() !=
                                        response->decisions(1).ruleset_revision()) {
          ++mixed;
        }
        ++decisions;
      }
    });
  }
  for (int i = 1; i <= 30; ++i) ASSERT_TRUE(Apply(ruleset_for(i)).ok());
  done = true;
  for (auto& thread : routers) thread.join();
  EXPECT_EQ(mixed, 0);
  EXPECT_GT(decisions, 0);
  EXPECT_EQ(core_->active()->revision(), 31);
}

}  // namespace
}  // namespace switchboard::routing
