// Routing decisions per ruleset size, indexed vs. testing every rule in
// order (the baseline, measured in the same run).
//
//   build/bin/routing_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// The synthetic rulesets look like a real directory at scale: most rules
// name a product (or a strategic customer) and a severity or tier; a fixed
// handful are keyword rules on the title that no index can file.
#include <random>

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "services/routing/compiled_ruleset.h"

namespace switchboard::routing {
namespace {

using issue::v1::Issue;

constexpr int kKeywordRules = 8;

v1::Ruleset MakeRuleset(int rules) {
  v1::Ruleset ruleset;
  ruleset.set_revision(1);
  auto* group = ruleset.add_business_groups();
  group->set_id("bg");
  for (int t = 0; t < 50; ++t) group->add_teams()->set_id(absl::StrCat("team-", t));
  ruleset.mutable_default_target()->set_business_group("bg");
  ruleset.mutable_default_target()->set_team("team-0");
  std::mt19937 random(42);
  for (int r = 0; r < rules; ++r) {
    v1::Rule* rule = ruleset.add_rules();
    rule->set_id(absl::StrCat("rule-", r));
    rule->mutable_target()->set_business_group("bg");
    rule->mutable_target()->set_team(absl::StrCat("team-", r % 50));
    auto* condition = rule->add_conditions();
    if (r < kKeywordRules) {
      condition->set_field("title");
      condition->set_op(v1::OPERATOR_CONTAINS);
      condition->add_values(absl::StrCat("keyword", r));
      continue;
    }
    if (r % 10 == 0) {
      condition->set_field("customer.id");
      condition->set_op(v1::OPERATOR_EQUALS);
      condition->add_values(absl::StrCat("customer-", r));
    } else {
      condition->set_field("product");
      condition->set_op(v1::OPERATOR_EQUALS);
      condition->add_values(absl::StrCat("product-", r / 2));
    }
    auto* second = rule->add_conditions();
    if (r % 2 == 0) {
      second->set_field("severity");
      second->set_op(v1::OPERATOR_IN);
      second->add_values("SEVERITY_CRITICAL");
      second->add_values("SEVERITY_HIGH");
    } else {
      second->set_field("region");
      second->set_op(v1::OPERATOR_REGEX);
      second->add_values("(emea|amer)");
    }
  }
  return ruleset;
}

std::vector<Issue> MakeIssues(int rules) {
  std::vector<Issue> issues;
  std::mt19937 random(7);
  for (int i = 0; i < 1024; ++i) {
    Issue issue;
    issue.set_title("Writes fail with 503 since the morning");
    issue.set_product(
        absl::StrCat("product-", std::uniform_int_distribution<int>(0, rules)(random)));
    issue.set_severity(static_cast<issue::v1::Severity>(1 + i % 4));
    issue.set_region(i % 3 == 0 ? "apac" : "emea");
    issue.mutable_customer()->set_id(absl::StrCat("customer-", i));
    issue.set_source("crm");
    issues.push_back(std::move(issue));
  }
  return issues;
}

template <bool kIndexed>
void BM_Route(benchmark::State& state) {
  const int rules = static_cast<int>(state.range(0));
  auto compiled = CompiledRuleset::Compile(MakeRuleset(rules), nullptr);
  if (!compiled.ok()) {
    state.SkipWithError(std::string(compiled.status().message()).c_str());
    return;
  }
  const std::vector<Issue> issues = MakeIssues(rules);
  size_t i = 0;
  for (auto _ : state) {
    const Issue& issue = issues[i++ % issues.size()];
    benchmark::DoNotOptimize(kIndexed ? (*compiled)->Route(issue, false)
                                      : (*compiled)->RouteSequentially(issue));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_TEMPLATE(BM_Route, true)->Name("indexed")->Arg(10)->Arg(1000)->Arg(10000);
BENCHMARK_TEMPLATE(BM_Route, false)->Name("every_rule")->Arg(10)->Arg(1000)->Arg(10000);

void BM_Compile(benchmark::State& state) {
  const v1::Ruleset ruleset = MakeRuleset(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(CompiledRuleset::Compile(ruleset, nullptr));
}
BENCHMARK(BM_Compile)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace switchboard::routing

BENCHMARK_MAIN();
