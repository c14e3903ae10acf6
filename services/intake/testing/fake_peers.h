// In-process stand-ins for RoutingService and NotificationService, for
// tests of the intake core and dispatcher: scriptable, and able to be "down".
#ifndef SWITCHBOARD_SERVICES_INTAKE_TESTING_FAKE_PEERS_H_
#define SWITCHBOARD_SERVICES_INTAKE_TESTING_FAKE_PEERS_H_

#include <map>
#include <string>
#include <vector>

#include "common/sync.h"
#include "services/intake/peers.h"

namespace switchboard::intake::fakes {

// Routes product P to team "P-team" of group "cloud" (everything else to
// "triage" of "support"), with a 60 s ack SLA. Team T escalates to
// "T-lead", then "duty-manager"; nothing further. An issue with a region
// matches correlation policy "outage" (key product and region, a 1 h
// window, escalated at 3 customers).
class FakeRouting final : public RoutingPeer {
 public:
  absl::StatusOr<routing::v1::RouteIssuesResponse> RouteIssues(
      const routing::v1::RouteIssuesRequest& request) override;
  absl::StatusOr<routing::v1::RoutingDecision> EscalateIssue(
      const routing::v1::EscalateIssueRequest& request) override;
  void RouteToTarget(const routing::v1::RouteToTargetRequest& request, DecisionDone done) override;

  void set_available(bool available);
  int route_calls();

 private:
  Mutex mu_;
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  int route_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeNotification final : public NotificationPeer {
 public:
  absl::Status Publish(const notification::v1::PublishRequest& request) override;

  void set_available(bool available);
  // Every event published, in order (a re-published one appears again).
  std::vector<issue::v1::IssueEvent> events();
  // The events whose recipients include `subscriber`.
  std::vector<issue::v1::IssueEvent> EventsFor(const std::string& subscriber);

 private:
  Mutex mu_;
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<issue::v1::IssueEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::intake::fakes

#endif  // SWITCHBOARD_SERVICES_INTAKE_TESTING_FAKE_PEERS_H_
