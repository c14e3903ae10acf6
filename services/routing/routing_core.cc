#include "services/routing/routing_core.h"

#include <utility>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/routing/correlation.h"
#include "services/routing/requests.h"

namespace switchboard::routing {

using issue::v1::Issue;
using v1::RoutingDecision;
using v1::Ruleset;

namespace {

// The part of a decision a backtest compares: owner, watchers and SLA.
bool SameOutcome(const RoutingDecision& a, const RoutingDecision& b) {
  RoutingDecision left = a;
  RoutingDecision right = b;
  for (RoutingDecision* decision : {&left, &right}) {
    decision->clear_rule();
    decision->clear_ruleset_revision();
    decision->clear_trace();
    decision->clear_original_target();
    decision->clear_escalation_contacts();
    // Only the key of a correlation is an outcome; its policy's window and
    // thresholds are not the issue's.
    if (decision->has_correlation()) {
      const std::string key = decision->correlation().key();
      decision->mutable_correlation()->Clear();
      decision->mutable_correlation()->set_key(key);
    }
  }
  return google::protobuf::util::MessageDifferencer::Equals(left, right);
}

// What a follower's core says when asked for what only the writer has (the
// service forwards those calls to the writer instead).
absl::Status FollowerHasNoStore() {
  return absl::FailedPreconditionError(
      "this routing replica follows a writer (--ruleset_source) and keeps no revisions; ask the "
      "writer");
}

}  // namespace

RoutingCore::RoutingCore(RulesetStore* store, prometheus::Registry& registry, Clock& clock)
    : store_(store), clock_(clock), metrics_(registry) {}

std::unique_ptr<RoutingCore> RoutingCore::CreateFollower(prometheus::Registry& registry,
                                                         Clock& clock) {
  auto core = absl::WrapUnique(new RoutingCore(nullptr, registry, clock));
  core->applier_ = std::thread([raw = core.get()] { raw->RunApplier(); });
  return core;
}

absl::StatusOr<std::unique_ptr<RoutingCore>> RoutingCore::Create(RulesetStore& store,
                                                                 prometheus::Registry& registry,
                                                                 Clock& clock) {
  auto core = absl::WrapUnique(new RoutingCore(&store, registry, clock));
  ASSIGN_OR_RETURN(absl::optional<Ruleset> active, store.LoadActive());
  if (active.has_value()) {
    auto compiled = CompiledRuleset::Compile(*std::move(active), &core->metrics_, "ruleset",
                                             ZoneData::kNotRequired);
    if (!compiled.ok()) {
      return absl::DataLossError(absl::StrCat("the stored active ruleset does not compile: ",
                                              compiled.status().message()));
    }
    core->Activate(*std::move(compiled));
    log::Info("active ruleset loaded", {{"revision", core->active()->revision()},
                                        {"rules", core->active()->ruleset().rules_size()}});
  } else {
    log::Warning("no ruleset was ever applied; RouteIssue fails until one is");
  }
  core->applier_ = std::thread([raw = core.get()] { raw->RunApplier(); });
  return core;
}

RoutingCore::~RoutingCore() {
  {
    MutexLock lock(apply_mu_);
    stopping_ = true;
    apply_queued_.SignalAll();
  }
  if (applier_.joinable()) applier_.join();
}

std::shared_ptr<const CompiledRuleset> RoutingCore::active() const {
  MutexLock lock(active_mu_);
  return active_;
}

absl::StatusOr<std::shared_ptr<const CompiledRuleset>> RoutingCore::ActiveOrFailed() const {
  std::shared_ptr<const CompiledRuleset> compiled = active();
  if (compiled == nullptr) {
    return absl::FailedPreconditionError("no ruleset was ever applied; ApplyRuleset first");
  }
  return compiled;
}

void RoutingCore::Activate(const std::shared_ptr<const CompiledRuleset>& compiled) {
  metrics_.active_revision.Set(static_cast<double>(compiled->revision()));
  metrics_.active_rules.Set(compiled->ruleset().rules_size());
  {
    MutexLock lock(active_mu_);
    active_ = compiled;
  }
  MutexLock lock(watch_mu_);
  for (RulesetWatcher* watcher : watchers_) watcher->OnActivated(compiled);
}

void RoutingCore::Watch(RulesetWatcher* watcher) {
  MutexLock lock(watch_mu_);
  watchers_.insert(watcher);
}

void RoutingCore::Unwatch(RulesetWatcher* watcher) {
  MutexLock lock(watch_mu_);
  watchers_.erase(watcher);
}

void RoutingCore::EndWatches() {
  MutexLock lock(watch_mu_);
  for (RulesetWatcher* watcher : watchers_) watcher->OnShutdown();
}

absl::Status RoutingCore::Follow(const Ruleset& ruleset) {
  std::shared_ptr<const CompiledRuleset> current = active();
  if (current != nullptr && ruleset.revision() <= current->revision()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::shared_ptr<const CompiledRuleset> compiled,
                   CompiledRuleset::Compile(ruleset, &metrics_, "ruleset", ZoneData::kNotRequired));
  Activate(compiled);
  log::Info("followed the writer's ruleset",
            {{"revision", ruleset.revision()}, {"rules", ruleset.rules_size()}});
  return absl::OkStatus();
}

absl::StatusOr<RoutingDecision> RoutingCore::Route(const v1::RouteIssueRequest& request) const {
  RETURN_IF_ERROR(ValidateRouteIssueRequest(request));
  ASSIGN_OR_RETURN(auto compiled, ActiveOrFailed());
  const absl::Time start = absl::Now();
  RoutingDecision decision = compiled->Route(request.issue(), request.explain());
  metrics_.decision_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return decision;
}

absl::StatusOr<v1::RouteIssuesResponse> RoutingCore::RouteBatch(
    const v1::RouteIssuesRequest& request) const {
  RETURN_IF_ERROR(ValidateRouteIssuesRequest(request));
  ASSIGN_OR_RETURN(auto compiled, ActiveOrFailed());
  v1::RouteIssuesResponse response;
  response.mutable_decisions()->Reserve(request.requests_size());
  for (const v1::RouteIssueRequest& one : request.requests()) {
    const absl::Time start = absl::Now();
    *response.add_decisions() = compiled->Route(one.issue(), one.explain());
    metrics_.decision_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  }
  return response;
}

absl::StatusOr<RoutingDecision> RoutingCore::Escalate(
    const v1::EscalateIssueRequest& request) const {
  RETURN_IF_ERROR(ValidateEscalateIssueRequest(request));
  ASSIGN_OR_RETURN(auto compiled, ActiveOrFailed());
  const absl::Time start = absl::Now();
  absl::StatusOr<RoutingDecision> decision = compiled->Escalate(request.issue());
  metrics_.decision_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return decision;
}

absl::StatusOr<RoutingDecision> RoutingCore::RouteToTarget(
    const v1::RouteToTargetRequest& request) const {
  RETURN_IF_ERROR(ValidateRouteToTargetRequest(request));
  ASSIGN_OR_RETURN(auto compiled, ActiveOrFailed());
  return compiled->RouteTo(request.issue(), request.target(), "target");
}

absl::StatusOr<Ruleset> RoutingCore::GetRuleset(const v1::GetRulesetRequest& request) const {
  RETURN_IF_ERROR(ValidateGetRulesetRequest(request));
  if (request.revision() == 0) {
    std::shared_ptr<const CompiledRuleset> compiled = active();
    if (compiled == nullptr) return absl::NotFoundError("no ruleset was ever applied");
    return compiled->ruleset();
  }
  if (store_ == nullptr) return FollowerHasNoStore();
  return store_->Get(request.revision());
}

absl::StatusOr<v1::ListRulesetRevisionsResponse> RoutingCore::ListRevisions(
    const v1::ListRulesetRevisionsRequest& request) const {
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 20, 100));
  int64_t before = 0;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string position, DecodePageToken(request.page_token(), "rulesets", ""));
    if (!absl::SimpleAtoi(position, &before) || before <= 0) {
      return InvalidArgumentWithViolations("invalid page_token",
                                           {{"page_token", "not a page token"}});
    }
  }
  if (store_ == nullptr) return FollowerHasNoStore();
  ASSIGN_OR_RETURN(std::vector<Ruleset> page, store_->ListBefore(before, page_size));
  v1::ListRulesetRevisionsResponse response;
  for (Ruleset& ruleset : page) *response.add_rulesets() = std::move(ruleset);
  if (static_cast<int>(page.size()) == page_size &&
      response.rulesets(page_size - 1).revision() > 1) {
    response.set_next_page_token(
        EncodePageToken("rulesets", "", absl::StrCat(response.rulesets(page_size - 1).revision())));
  }
  return response;
}

absl::StatusOr<v1::TestRulesetResponse> RoutingCore::TestRuleset(
    const v1::TestRulesetRequest& request) const {
  RETURN_IF_ERROR(ValidateTestRulesetRequest(request));
  ASSIGN_OR_RETURN(auto candidate,
                   CompiledRuleset::Compile(request.candidate(), nullptr, "candidate"));
  std::shared_ptr<const CompiledRuleset> current = active();
  v1::TestRulesetResponse response;
  std::vector<const Issue*> issues;
  std::vector<absl::optional<v1::CorrelationMatch>> matches;
  std::vector<absl::Time> create_times;
  const absl::Time now = clock_.Now();
  for (const Issue& issue : request.issues()) {
    v1::RouteComparison* comparison = response.add_results();
    *comparison->mutable_candidate() = candidate->Route(issue, false);
    if (current != nullptr) {
      *comparison->mutable_active() = current->Route(issue, false);
      comparison->set_changed(!SameOutcome(comparison->active(), comparison->candidate()));
    } else {
      comparison->set_changed(true);
    }
    issues.push_back(&issue);
    matches.push_back(comparison->candidate().has_correlation()
                          ? absl::make_optional(comparison->candidate().correlation())
                          : absl::nullopt);
    create_times.push_back(issue.has_create_time() ? FromProtoTime(issue.create_time()) : now);
  }
  for (v1::CorrelationGroup& group : GroupIntoProblems(issues, matches, create_times)) {
    *response.add_correlation_groups() = std::move(group);
  }
  response.set_problem_count(response.correlation_groups_size());
  return response;
}

void RoutingCore::ApplyRuleset(v1::ApplyRulesetRequest request, std::string author,
                               ApplyDone done) {
  {
    MutexLock lock(apply_mu_);
    if (!stopping_) {
      applies_.push_back({std::move(request), std::move(author), std::move(done)});
      apply_queued_.Signal();
      return;
    }
  }
  std::move(done)(absl::UnavailableError("the routing service is shutting down"));
}

absl::StatusOr<Ruleset> RoutingCore::ApplyRulesetAndWait(v1::ApplyRulesetRequest request,
                                                         std::string author) {
  OneShot done;
  absl::StatusOr<Ruleset> result;
  ApplyRuleset(std::move(request), std::move(author), [&](absl::StatusOr<Ruleset> outcome) {
    result = std::move(outcome);
    done.Fire();
  });
  done.Wait();
  return result;
}

void RoutingCore::RunApplier() {
  while (true) {
    PendingApply pending;
    {
      MutexLock lock(apply_mu_);
      while (!stopping_ && applies_.empty()) apply_queued_.Wait(apply_mu_);
      if (stopping_) break;
      pending = std::move(applies_.front());
      applies_.pop_front();
    }
    std::move(pending.done)(Apply(pending.request, pending.author));
  }
  std::deque<PendingApply> abandoned;
  {
    MutexLock lock(apply_mu_);
    abandoned.swap(applies_);
  }
  for (PendingApply& pending : abandoned) {
    std::move(pending.done)(absl::UnavailableError("the routing service is shutting down"));
  }
}

absl::StatusOr<Ruleset> RoutingCore::Apply(const v1::ApplyRulesetRequest& request,
                                           const std::string& author) {
  auto count = [this](const char* result) {
    metrics_.applies.Add({{"result", result}}).Increment();
  };
  if (absl::Status invalid = ValidateApplyRulesetRequest(request); !invalid.ok()) {
    count("invalid");
    return invalid;
  }
  std::shared_ptr<const CompiledRuleset> current = active();
  const int64_t current_revision = current == nullptr ? 0 : current->revision();

  Ruleset ruleset = request.ruleset();
  ruleset.set_revision(request.validate_only() ? 0 : current_revision + 1);
  ruleset.set_author(author);
  *ruleset.mutable_create_time() = ToProtoTime(clock_.Now());
  absl::StatusOr<std::shared_ptr<const CompiledRuleset>> compiled =
      CompiledRuleset::Compile(ruleset, request.validate_only() ? nullptr : &metrics_);
  if (!compiled.ok()) {
    count("invalid");
    return compiled.status();
  }
  if (request.expected_revision() != 0 && request.expected_revision() != current_revision) {
    count("aborted");
    return absl::AbortedError(absl::StrCat("expected active revision ", request.expected_revision(),
                                           ", but the active revision is ", current_revision));
  }
  if (request.validate_only()) return ruleset;

  if (store_ == nullptr) return FollowerHasNoStore();
  if (absl::Status status = store_->SaveActive(ruleset); !status.ok()) {
    count("error");
    log::Error("cannot store the ruleset", {{"revision", ruleset.revision()}, {"status", status}});
    return status;
  }
  Activate(*std::move(compiled));
  count("ok");
  log::Info("ruleset applied", {{"revision", ruleset.revision()},
                                {"rules", ruleset.rules_size()},
                                {"author", author},
                                {"comment", ruleset.comment()}});
  return ruleset;
}

}  // namespace switchboard::routing
