#include "services/intake/testing/fake_peers.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace switchboard::intake::fakes {
namespace {

issue::v1::Target Team(const std::string& group, const std::string& team) {
  issue::v1::Target target;
  target.set_business_group(group);
  target.set_team(team);
  return target;
}

}  // namespace

absl::StatusOr<routing::v1::RouteIssuesResponse> FakeRouting::RouteIssues(
    const routing::v1::RouteIssuesRequest& request) {
  {
    MutexLock lock(mu_);
    ++route_calls_;
    if (!available_) return absl::UnavailableError("fake routing is down");
  }
  routing::v1::RouteIssuesResponse response;
  for (const auto& one : request.requests()) {
    routing::v1::RoutingDecision* decision = response.add_decisions();
    const std::string& product = one.issue().product();
    if (product == "unrouted") {
      *decision->mutable_target() = Team("support", "triage");
    } else {
      *decision->mutable_target() = Team("cloud", product + "-team");
      decision->set_rule(product);
      *decision->add_watchers() = Team("support", "care-managers");
    }
    decision->set_ruleset_revision(1);
    decision->mutable_ack_within()->set_seconds(60);
    decision->mutable_resolve_within()->set_seconds(3600);
    *decision->mutable_original_target() = decision->target();
    if (!one.issue().region().empty()) {
      routing::v1::CorrelationMatch& match = *decision->mutable_correlation();
      match.set_policy("outage");
      match.set_key(absl::StrCat("outage|product=", product, "|region=", one.issue().region()));
      match.mutable_window()->set_seconds(3600);
      match.mutable_escalation()->set_min_customers(3);
      *decision->add_escalation_contacts() = Team("cloud", product + "-team-lead");
    }
  }
  return response;
}

absl::StatusOr<routing::v1::RoutingDecision> FakeRouting::EscalateIssue(
    const routing::v1::EscalateIssueRequest& request) {
  {
    MutexLock lock(mu_);
    if (!available_) return absl::UnavailableError("fake routing is down");
  }
  const auto& assignment = request.issue().assignment();
  const std::string origin = assignment.original_target().team();
  const std::vector<std::string> chain = {origin + "-lead", "duty-manager"};
  const int level = assignment.escalation_level();
  if (level >= static_cast<int>(chain.size())) {
    return absl::FailedPreconditionError(absl::StrCat("escalation list of ", origin, " exhausted"));
  }
  routing::v1::RoutingDecision decision;
  *decision.mutable_target() = Team("cloud", chain[level]);
  decision.set_escalation_level(level + 1);
  *decision.mutable_original_target() = assignment.original_target();
  decision.mutable_ack_within()->set_seconds(60);
  return decision;
}

void FakeRouting::RouteToTarget(const routing::v1::RouteToTargetRequest& request,
                                DecisionDone done) {
  {
    MutexLock lock(mu_);
    if (!available_) {
      std::move(done)(absl::UnavailableError("fake routing is down"));
      return;
    }
  }
  if (absl::StartsWith(request.target().team(), "no-such")) {
    std::move(done)(InvalidArgumentWithViolations("unknown target", {{"target", "no such team"}}));
    return;
  }
  routing::v1::RoutingDecision decision;
  *decision.mutable_target() = request.target();
  *decision.mutable_original_target() = request.target();
  decision.mutable_ack_within()->set_seconds(120);
  std::move(done)(decision);
}

void FakeRouting::set_available(bool available) {
  MutexLock lock(mu_);
  available_ = available;
}

int FakeRouting::route_calls() {
  MutexLock lock(mu_);
  return route_calls_;
}

absl::Status FakeNotification::Publish(const notification::v1::PublishRequest& request) {
  MutexLock lock(mu_);
  if (!available_) return absl::UnavailableError("fake notification is down");
  // As a server refuses a request over its receive limit (common/server.h).
  if (request.ByteSizeLong() > 1024 * 1024) {
    return absl::ResourceExhaustedError("fake notification: request over 1 MiB");
  }
  events_.insert(events_.end(), request.events().begin(), request.events().end());
  return absl::OkStatus();
}

void FakeNotification::set_available(bool available) {
  MutexLock lock(mu_);
  available_ = available;
}

std::vector<issue::v1::IssueEvent> FakeNotification::events() {
  MutexLock lock(mu_);
  return events_;
}

std::vector<issue::v1::IssueEvent> FakeNotification::EventsFor(const std::string& subscriber) {
  std::vector<issue::v1::IssueEvent> matching;
  for (const auto& event : events()) {
    for (const std::string& recipient : event.recipients()) {
      if (recipient == subscriber) matching.push_back(event);
    }
  }
  return matching;
}

}  // namespace switchboard::intake::fakes
