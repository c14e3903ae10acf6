// switchboard demo: a realistic morning of customer issues through a running
// stack — submitted, routed by the active ruleset, taken and resolved by the
// teams — and what the teams, sources and submitters were told.
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/session.h"
#include "common/proto_time.h"

namespace switchboard::cli {
namespace {

using issue::v1::Issue;

// What the owning team does with an issue in the demo.
enum class Action { kLeaveOpen, kAcknowledge, kResolve, kTransferThenResolve };

struct Scenario {
  const char* title;
  const char* description;
  const char* customer;
  issue::v1::CustomerTier tier;
  const char* country;
  const char* product;
  issue::v1::Severity severity;
  const char* region;
  const char* source;
  const char* submitter;
  Action action;
  const char* outcome;  // the resolution, or the team an issue is transferred to
};

// clang-format off
const Scenario kScenarios[] = {
    {"VMs stuck in starting state after host update", "",
     "fabrikam", issue::v1::CUSTOMER_TIER_STRATEGIC, "US", "virtual-machines",
     issue::v1::SEVERITY_CRITICAL, "amer", "crm", "ops-lead@fabrikam.com",
     Action::kResolve, "Host update rolled back on the affected cluster"},
    {"Users locked out after conditional access change", "",
     "woodgrove-bank", issue::v1::CUSTOMER_TIER_ENTERPRISE, "GB", "entra-id",
     issue::v1::SEVERITY_HIGH, "emea", "crm", "it-desk@woodgrove.example",
     Action::kResolve, "Policy exclusion for break-glass accounts restored"},
    {"Shared calendar not syncing on mobile", "",
     "tailspin-toys", issue::v1::CUSTOMER_TIER_SMB, "NL", "outlook",
     issue::v1::SEVERITY_MEDIUM, "emea", "partner-portal", "partner@tailspin.example",
     Action::kTransferThenResolve, "mail-calendar"},
    {"Scheduled refresh fails with gateway timeout", "",
     "litware", issue::v1::CUSTOMER_TIER_ENTERPRISE, "FR", "power-bi",
     issue::v1::SEVERITY_MEDIUM, "emea", "crm", "bi-team@litware.example",
     Action::kAcknowledge, ""},
    {"Battery drains overnight in sleep", "",
     "alex-k", issue::v1::CUSTOMER_TIER_CONSUMER, "AU", "surface-laptop-5",
     issue::v1::SEVERITY_HIGH, "apac", "support-portal", "alex.k@outlook.example",
     Action::kResolve, "Firmware 21.4 fixes modern standby drain; customer updated"},
    {"Invoice shows a double charge for November", "",
     "adatum", issue::v1::CUSTOMER_TIER_ENTERPRISE, "US", "m365-licensing",
     issue::v1::SEVERITY_MEDIUM, "amer", "crm", "finance@adatum.example",
     Action::kResolve, "Duplicate charge refunded"},
    {"Failover group stuck, primary unavailable", "",
     "northwind", issue::v1::CUSTOMER_TIER_STRATEGIC, "US", "sql-database",
     issue::v1::SEVERITY_CRITICAL, "amer", "crm", "dba@northwind.example",
     Action::kAcknowledge, ""},
    {"Multiplayer matchmaking fails in EU", "",
     "proseware", issue::v1::CUSTOMER_TIER_CONSUMER, "ES", "xbox-live",
     issue::v1::SEVERITY_HIGH, "emea", "support-portal", "gamer42@proseware.example",
     Action::kLeaveOpen, ""},
    {"Suspicious sign-ins flagged as possible breach", "",
     "relecloud", issue::v1::CUSTOMER_TIER_ENTERPRISE, "DE", "defender",
     issue::v1::SEVERITY_HIGH, "emea", "crm", "ciso@relecloud.example",
     Action::kResolve, "Credential-stuffing attempt blocked; no data accessed"},
    {"How do I export my support history?", "",
     "wide-world-importers", issue::v1::CUSTOMER_TIER_SMB, "CA", "support-center",
     issue::v1::SEVERITY_LOW, "amer", "crm", "office@wwi.example",
     Action::kResolve, "Sent the export guide"},
    {"Call quality drops for the Berlin office", "",
     "contoso", issue::v1::CUSTOMER_TIER_STRATEGIC, "DE", "teams",
     issue::v1::SEVERITY_HIGH, "emea", "crm", "jane.doe@contoso.com",
     Action::kLeaveOpen, ""},
};
// clang-format on

// Act 5: one storage outage in EMEA, reported by five customers through two
// sources. The sample's regional-outage policy groups them by product and
// region; the strategic customer makes it broad.
const Scenario kOutage[] = {
    {"Storage account unreachable from our web app", "", "wide-world-importers",
     issue::v1::CUSTOMER_TIER_ENTERPRISE, "GB", "azure-storage", issue::v1::SEVERITY_HIGH, "emea",
     "crm", "it@wwi.example", Action::kLeaveOpen, ""},
    {"Uploads time out for our customers in Europe", "", "tailspin-toys",
     issue::v1::CUSTOMER_TIER_SMB, "NL", "azure-storage", issue::v1::SEVERITY_HIGH, "emea",
     "partner-portal", "partner@tailspin.example", Action::kLeaveOpen, ""},
    {"Backups to blob storage failing since 09:00", "", "litware",
     issue::v1::CUSTOMER_TIER_ENTERPRISE, "FR", "azure-storage", issue::v1::SEVERITY_HIGH, "emea",
     "crm", "bi-team@litware.example", Action::kLeaveOpen, ""},
    {"Blob PUT returns 503 ServerBusy", "", "proseware", issue::v1::CUSTOMER_TIER_SMB, "DE",
     "azure-storage", issue::v1::SEVERITY_HIGH, "emea", "partner-portal", "ops@proseware.example",
     Action::kLeaveOpen, ""},
    {"Blob writes fail with 503 in West Europe",
     "Since 09:10 UTC every PUT to our storage account returns 503 ServerBusy.", "contoso",
     issue::v1::CUSTOMER_TIER_STRATEGIC, "DE", "azure-storage", issue::v1::SEVERITY_CRITICAL,
     "emea", "crm", "jane.doe@contoso.com", Action::kResolve,
     "Partition throttling limit raised; writes healthy since 10:42 UTC"},
};

// Act 6: a question for the customer, a fix that did not hold, a verdict.
const Scenario kFollowUp = {"Exported report totals differ from the dashboard",
                            "",
                            "fabrikam",
                            issue::v1::CUSTOMER_TIER_ENTERPRISE,
                            "US",
                            "power-bi",
                            issue::v1::SEVERITY_MEDIUM,
                            "amer",
                            "crm",
                            "analytics@fabrikam.com",
                            Action::kResolve,
                            "Fixed the regional filter in the shared dataset"};

// What the customers of act 1's resolved issues said, in order.
constexpr int kRatings[] = {5, 4, 2, 5, 3, 4, 5};

Issue ToIssue(const Scenario& scenario) {
  Issue issue;
  issue.set_title(scenario.title);
  issue.set_description(scenario.description);
  issue.mutable_customer()->set_id(scenario.customer);
  issue.mutable_customer()->set_tier(scenario.tier);
  issue.mutable_customer()->set_country(scenario.country);
  issue.set_product(scenario.product);
  issue.set_severity(scenario.severity);
  issue.set_region(scenario.region);
  issue.set_source(scenario.source);
  issue.set_submitter(scenario.submitter);
  (*issue.mutable_labels())["demo"] = "true";
  return issue;
}

class Demo {
 public:
  Demo(Session& session, absl::Duration wait)
      : session_(session), out_(session.out()), wait_(wait) {
    std::random_device random;
    run_ = absl::StrFormat("%06x", std::uniform_int_distribution<uint32_t>(0, 0xffffff)(random));
  }

  int Run() {
    out_ << "Switchboard demo, run " << run_ << ": " << std::size(kScenarios)
         << " customer issues from the CRM, the partner portal and the support portal.\n";
    if (!Submit() || !AwaitRouting() || !Work() || !AwaitNotifications()) return kExitFailure;
    ShowNotifications();
    if (!RegionalOutage() || !FollowUp() || !Verdicts()) return kExitFailure;
    out_ << "\nNext, try:\n"
         << "  build/bin/switchboard issue list --filter 'state=STATE_ROUTED'\n"
         << "  build/bin/switchboard issue explain " << issues_.back().name() << "\n"
         << "  build/bin/switchboard notifications watch teams/storage-oncall\n"
         << "  build/bin/switchboard problem list\n"
         << "  build/bin/switchboard issue list --rating 2\n";
    return 0;
  }

 private:
  struct Tracked {
    const Scenario* scenario;
    Issue issue;
  };

  bool Submit() {
    out_ << "\n1. Submitted (each reply means stored durably):\n";
    int n = 0;
    for (const Scenario& scenario : kScenarios) {
      intake::v1::SubmitIssueRequest request;
      *request.mutable_issue() = ToIssue(scenario);
      request.set_request_id(absl::StrCat("demo-", run_, "-", ++n));
      auto context = session_.Context();
      Issue created;
      grpc::Status status = session_.intake().SubmitIssue(context.get(), request, &created);
      if (!status.ok()) {
        session_.Fail(absl::StrCat("cannot submit \"", scenario.title, "\""), status, "intake");
        return false;
      }
      out_ << absl::StrFormat(
          "   %s  %-8s  %-32s %-16s %s\n", created.name(),
          ShortEnumName(*issue::v1::Severity_descriptor(), created.severity()),
          absl::StrCat(scenario.customer, " (",
                       ShortEnumName(*issue::v1::CustomerTier_descriptor(), scenario.tier), ")"),
          scenario.source, scenario.title);
      issues_.push_back(std::move(created));
      scenarios_[issues_.back().name()] = &scenario;
    }
    return true;
  }

  std::optional<Issue> Get(const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    auto context = session_.Context();
    Issue issue;
    grpc::Status status = session_.intake().GetIssue(context.get(), request, &issue);
    if (!status.ok()) {
      session_.Fail(absl::StrCat("cannot get ", name), status, "intake");
      return std::nullopt;
    }
    return issue;
  }

  bool AwaitRouting() {
    const absl::Time deadline = absl::Now() + wait_;
    for (Issue& issue : issues_) {
      while (issue.state() == issue::v1::STATE_RECEIVED) {
        if (absl::Now() > deadline) {
          session_.err() << "error: " << issue.name() << " was not routed within "
                         << HumanDuration(wait_) << "; is routing running at "
                         << session_.routing_target() << "?\n";
          return false;
        }
        absl::SleepFor(absl::Milliseconds(50));
        std::optional<Issue> latest = Get(issue.name());
        if (!latest) return false;
        issue = *std::move(latest);
      }
    }
    out_ << "\n2. Routed by the active ruleset:\n";
    for (const Issue& issue : issues_) {
      teams_.insert(absl::StrCat("teams/", issue.assignment().target().team()));
      const issue::v1::Assignment& assignment = issue.assignment();
      const absl::Duration ack_within =
          FromProtoTime(issue.ack_deadline()) - FromProtoTime(assignment.assign_time());
      out_ << absl::StrFormat(
          "   %s  → %-30s %-34s ack within %s\n", issue.name(), FormatTarget(assignment.target()),
          assignment.rule().empty() ? "(default route)" : absl::StrCat("rule ", assignment.rule()),
          HumanDuration(ack_within));
    }
    return true;
  }

  bool Call(const std::string& what, const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
    auto context = session_.Context();
    grpc::Status status = rpc(context.get());
    if (!status.ok()) session_.Fail(what, status, "intake");
    return status.ok();
  }

  bool Work() {
    out_ << "\n3. The teams at work:\n";
    for (Issue& issue : issues_) {
      const Scenario& scenario = *scenarios_[issue.name()];
      const std::string actor = absl::StrCat("oncall@", issue.assignment().target().team());
      const std::string& name = issue.name();
      Issue updated;
      switch (scenario.action) {
        case Action::kLeaveOpen:
          out_ << "   " << name << "  left for " << issue.assignment().target().team()
               << " — nobody has taken it yet; its SLA timer escalates it at the ack deadline\n";
          continue;
        case Action::kTransferThenResolve: {
          intake::v1::TransferIssueRequest transfer;
          transfer.set_name(name);
          transfer.mutable_target()->set_business_group("productivity");
          transfer.mutable_target()->set_team(scenario.outcome);
          transfer.set_reason("It is a mailbox sync problem, not a partner question");
          transfer.set_actor(actor);
          if (!Call("cannot transfer", [&](grpc::ClientContext* c) {
                return session_.intake().TransferIssue(c, transfer, &updated);
              })) {
            return false;
          }
          out_ << "   " << name << "  transferred by " << actor << " to "
               << FormatTarget(updated.assignment().target()) << "\n";
          issue = updated;
          break;
        }
        default:
          break;
      }
      const std::string owner_actor = absl::StrCat("oncall@", issue.assignment().target().team());
      intake::v1::AcknowledgeIssueRequest ack;
      ack.set_name(name);
      ack.set_actor(owner_actor);
      if (!Call("cannot acknowledge", [&](grpc::ClientContext* c) {
            return session_.intake().AcknowledgeIssue(c, ack, &updated);
          })) {
        return false;
      }
      if (scenario.action == Action::kAcknowledge) {
        out_ << "   " << name << "  acknowledged by " << owner_actor << ", being worked on\n";
        issue = updated;
        continue;
      }
      intake::v1::ResolveIssueRequest resolve;
      resolve.set_name(name);
      resolve.set_actor(owner_actor);
      resolve.set_resolution(scenario.action == Action::kTransferThenResolve
                                 ? "Re-registered the device with the mailbox"
                                 : scenario.outcome);
      if (!Call("cannot resolve", [&](grpc::ClientContext* c) {
            return session_.intake().ResolveIssue(c, resolve, &updated);
          })) {
        return false;
      }
      out_ << "   " << name << "  acknowledged and resolved by " << owner_actor << ": "
           << updated.resolution() << "\n";
      issue = updated;
    }
    return true;
  }

  // This run's notifications of `subscriber`, in sequence order.
  std::optional<std::vector<notification::v1::Notification>> NotificationsOf(
      const std::string& subscriber) {
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    notification::v1::ListNotificationsResponse all;
    grpc::Status status = session_.Pages(
        request, true,
        [&](auto* context, const auto& r, auto* page) {
          return session_.notification().ListNotifications(context, r, page);
        },
        all);
    if (!status.ok()) {
      session_.Fail(absl::StrCat("cannot list the notifications of ", subscriber), status,
                    "notification");
      return std::nullopt;
    }
    std::vector<notification::v1::Notification> ours;
    for (auto& notification : *all.mutable_notifications()) {
      if (scenarios_.contains(notification.event().issue().name())) {
        ours.push_back(std::move(notification));
      }
    }
    return ours;
  }

  // Waits until every source has heard of the last step of each of its
  // issues: the intake publishes in order, so then everyone else has too.
  bool AwaitNotifications() {
    std::map<std::string, size_t> expected;  // sources/{source} → events
    for (const Issue& issue : issues_) {
      const Scenario& scenario = *scenarios_[issue.name()];
      size_t events = 1;  // RECEIVED
      if (scenario.action == Action::kTransferThenResolve) events += 1;
      if (scenario.action != Action::kLeaveOpen) events += 1;  // ACKNOWLEDGED
      if (scenario.action == Action::kResolve || scenario.action == Action::kTransferThenResolve) {
        events += 1;  // RESOLVED
      }
      expected[absl::StrCat("sources/", scenario.source)] += events;
    }
    const absl::Time deadline = absl::Now() + wait_;
    for (const auto& [subscriber, count] : expected) {
      while (true) {
        auto received = NotificationsOf(subscriber);
        if (!received) return false;
        if (received->size() >= count) break;
        if (absl::Now() > deadline) {
          session_.err() << "error: " << subscriber << " received " << received->size() << " of "
                         << count << " notifications within " << HumanDuration(wait_)
                         << "; is notification running at " << session_.notification_target()
                         << "?\n";
          return false;
        }
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    return true;
  }

  void ShowNotifications() {
    std::set<std::string> teams = teams_;         // the first owners, and now:
    std::map<std::string, size_t> other_sources;  // subscriber → notifications
    for (const Issue& issue : issues_) {
      teams.insert(absl::StrCat("teams/", issue.assignment().target().team()));
      other_sources[absl::StrCat("sources/", scenarios_[issue.name()]->source)] = 0;
    }
    teams.insert("teams/care-managers");  // watches strategic criticals and breaches
    std::vector<std::string> shown(teams.begin(), teams.end());
    shown.push_back("sources/partner-portal");
    shown.push_back(absl::StrCat("submitters/", kScenarios[0].submitter));
    other_sources.erase("sources/partner-portal");

    out_ << "\n4. What they were told (this run's notifications, by issue):\n";
    for (const std::string& subscriber : shown) {
      auto received = NotificationsOf(subscriber);
      if (!received || received->empty()) continue;
      out_ << "   " << subscriber << "\n";
      std::vector<std::string> order;  // issue names, first heard first
      std::map<std::string, std::string> chains;
      for (const auto& notification : *received) {
        const std::string& name = notification.event().issue().name();
        std::string& chain = chains[name];
        if (chain.empty()) order.push_back(name);
        absl::StrAppend(
            &chain, chain.empty() ? "" : " → ", "#", notification.sequence(), " ",
            ShortEnumName(*issue::v1::EventType_descriptor(), notification.event().type()));
      }
      for (const std::string& name : order) {
        out_ << absl::StrFormat("     %-48s %s\n", scenarios_[name]->title, chains[name]);
      }
    }
    for (auto& [subscriber, count] : other_sources) {
      auto received = NotificationsOf(subscriber);
      if (received) count = received->size();
      out_ << "   " << subscriber << " heard of every step of its issues too (" << count
           << " notifications)\n";
    }
  }

  // Polls `name` until `done(issue)` holds or the wait is over.
  std::optional<Issue> AwaitIssue(const std::string& name,
                                  const std::function<bool(const Issue&)>& done,
                                  absl::string_view what) {
    const absl::Time deadline = absl::Now() + wait_;
    while (true) {
      std::optional<Issue> issue = Get(name);
      if (!issue || done(*issue)) return issue;
      if (absl::Now() > deadline) {
        session_.err() << "error: " << name << " was not " << what << " within "
                       << HumanDuration(wait_) << "\n";
        return std::nullopt;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  bool RegionalOutage() {
    out_ << "\n5. A regional outage: " << std::size(kOutage)
         << " customers report azure-storage failing in emea, through two sources\n";
    std::vector<Issue> outage;
    int n = 0;
    for (const Scenario& scenario : kOutage) {
      intake::v1::SubmitIssueRequest request;
      *request.mutable_issue() = ToIssue(scenario);
      request.set_request_id(absl::StrCat("demo-", run_, "-outage-", ++n));
      Issue created;
      if (!Call("cannot submit", [&](grpc::ClientContext* c) {
            return session_.intake().SubmitIssue(c, request, &created);
          })) {
        return false;
      }
      out_ << absl::StrFormat(
          "   %s  %-8s  %-34s %-16s %s\n", created.name(),
          ShortEnumName(*issue::v1::Severity_descriptor(), created.severity()),
          absl::StrCat(scenario.customer, " (",
                       ShortEnumName(*issue::v1::CustomerTier_descriptor(), scenario.tier), ")"),
          scenario.source, scenario.title);
      outage.push_back(std::move(created));
    }
    for (Issue& issue : outage) {
      std::optional<Issue> linked = AwaitIssue(
          issue.name(), [](const Issue& i) { return !i.problem().empty(); }, "linked to a problem");
      if (!linked) return false;
      issue = *std::move(linked);
    }
    intake::v1::GetProblemRequest get;
    get.set_name(outage.back().problem());
    issue::v1::Problem problem;
    if (!Call("cannot get the problem", [&](grpc::ClientContext* c) {
          return session_.intake().GetProblem(c, get, &problem);
        })) {
      return false;
    }
    std::vector<std::string> tiers;
    for (const issue::v1::CustomerTierCount& count : problem.affected_customer_tiers()) {
      tiers.push_back(
          absl::StrCat(count.customers(), " ",
                       ShortEnumName(*issue::v1::CustomerTier_descriptor(), count.tier())));
    }
    out_ << "   grouped by policy " << problem.correlation_policy() << " into " << problem.name()
         << ":\n     " << problem.linked_issue_count() << " issues, "
         << problem.affected_customer_count() << " customers (" << absl::StrJoin(tiers, ", ")
         << "), owner " << FormatTarget(problem.owner()) << ", severity "
         << ShortEnumName(*issue::v1::Severity_descriptor(), problem.severity())
         << (problem.escalated() ? ", escalated by its breadth" : "") << "\n";

    // The business group heard of it as one broad problem.
    const std::string group = absl::StrCat("business-groups/", problem.owner().business_group());
    notification::v1::ListNotificationsRequest list;
    list.set_subscriber(group);
    list.set_page_size(1000);
    notification::v1::ListNotificationsResponse told;
    if (session_
            .Pages(
                list, true,
                [&](auto* context, const auto& r, auto* page) {
                  return session_.notification().ListNotifications(context, r, page);
                },
                told)
            .ok()) {
      for (const auto& notification : told.notifications()) {
        const issue::v1::IssueEvent& event = notification.event();
        if (event.problem().name() != problem.name() || event.has_issue()) continue;
        out_ << "   " << group << " was told: #" << notification.sequence() << " "
             << ShortEnumName(*issue::v1::EventType_descriptor(), event.type())
             << (event.reason().empty() ? "" : absl::StrCat(" (", event.reason(), ")")) << "\n";
      }
    }

    // Fixed once, for everyone.
    intake::v1::ResolveProblemRequest resolve;
    resolve.set_name(problem.name());
    resolve.set_actor(absl::StrCat("oncall@", problem.owner().team()));
    resolve.set_resolution(kOutage[std::size(kOutage) - 1].outcome);
    issue::v1::Problem resolved;
    if (!Call("cannot resolve the problem", [&](grpc::ClientContext* c) {
          return session_.intake().ResolveProblem(c, resolve, &resolved);
        })) {
      return false;
    }
    out_ << "   " << resolve.actor() << " resolved " << problem.name()
         << " once: " << resolved.resolution() << "\n";
    for (const Issue& issue : outage) {
      if (!AwaitIssue(
              issue.name(), [](const Issue& i) { return i.state() == issue::v1::STATE_RESOLVED; },
              "resolved with its problem")) {
        return false;
      }
    }
    out_ << "   and every submitter was told:\n";
    const absl::Time deadline = absl::Now() + wait_;
    for (const Issue& issue : outage) {
      const std::string subscriber = absl::StrCat("submitters/", issue.submitter());
      bool heard = false;
      while (!heard) {
        notification::v1::ListNotificationsRequest request;
        request.set_subscriber(subscriber);
        request.set_page_size(1000);
        notification::v1::ListNotificationsResponse log;
        if (!session_
                 .Pages(
                     request, true,
                     [&](auto* context, const auto& r, auto* page) {
                       return session_.notification().ListNotifications(context, r, page);
                     },
                     log)
                 .ok()) {
          return false;
        }
        for (const auto& notification : log.notifications()) {
          const issue::v1::IssueEvent& event = notification.event();
          if (event.issue().name() != issue.name() ||
              event.type() != issue::v1::EVENT_TYPE_RESOLVED) {
            continue;
          }
          out_ << absl::StrFormat("     %-38s #%d RESOLVED with %s\n", subscriber,
                                  notification.sequence(), event.problem().name());
          heard = true;
        }
        if (!heard && absl::Now() > deadline) {
          session_.err() << "error: " << subscriber << " did not hear of the resolution within "
                         << HumanDuration(wait_) << "\n";
          return false;
        }
        if (!heard) absl::SleepFor(absl::Milliseconds(100));
      }
    }
    return true;
  }

  // An issue-changing call of act 6, reported on failure.
  template <typename Request, typename Rpc>
  std::optional<Issue> Change(const std::string& what, const Request& request, Rpc rpc) {
    Issue updated;
    if (!Call(what, [&](grpc::ClientContext* c) { return rpc(c, request, &updated); })) {
      return std::nullopt;
    }
    return updated;
  }

  bool FollowUp() {
    out_ << "\n6. A question for the customer, a fix that did not hold, and the verdict\n";
    intake::v1::SubmitIssueRequest submit;
    *submit.mutable_issue() = ToIssue(kFollowUp);
    submit.set_request_id(absl::StrCat("demo-", run_, "-follow-up"));
    std::optional<Issue> issue = Change(
        "cannot submit", submit,
        [&](auto* c, const auto& r, Issue* i) { return session_.intake().SubmitIssue(c, r, i); });
    if (!issue) return false;
    issue = AwaitIssue(
        issue->name(), [](const Issue& i) { return i.state() == issue::v1::STATE_ROUTED; },
        "routed");
    if (!issue) return false;
    const std::string name = issue->name();
    const std::string team = absl::StrCat("oncall@", issue->assignment().target().team());
    const absl::Time now = absl::Now();
    out_ << "   " << name << "  " << kFollowUp.title << "\n"
         << "   routed to " << FormatTarget(issue->assignment().target()) << ", resolve by "
         << FormatTime(issue->resolve_deadline(), now) << "\n";

    intake::v1::WaitOnCustomerRequest wait;
    wait.set_name(name);
    wait.set_actor(team);
    wait.set_question("Which workspace and report show the difference?");
    issue = Change("cannot wait on the customer", wait, [&](auto* c, const auto& r, Issue* i) {
      return session_.intake().WaitOnCustomer(c, r, i);
    });
    if (!issue) return false;
    out_ << "   " << team << " asked the customer: \"" << wait.question()
         << "\" (state waiting_on_customer; SLA clocks paused, no escalation)\n";
    absl::SleepFor(absl::Seconds(2));  // the customer takes a moment to answer

    intake::v1::RespondToIssueRequest respond;
    respond.set_name(name);
    respond.set_actor(kFollowUp.submitter);
    respond.set_response("Sales workspace, the Q3 regional report");
    issue = Change("cannot answer", respond, [&](auto* c, const auto& r, Issue* i) {
      return session_.intake().RespondToIssue(c, r, i);
    });
    if (!issue) return false;
    out_ << "   the CRM answered for the customer: \"" << respond.response() << "\"\n"
         << "   paused " << HumanDuration(FromProtoDuration(issue->sla().paused_duration()))
         << "; resolve by moved to " << FormatTime(issue->resolve_deadline(), absl::Now()) << "\n";
    if (!Resolve(name, team, "Refreshed the dataset's aggregation table")) return false;
    out_ << "   " << team << " resolved it: Refreshed the dataset's aggregation table\n";

    intake::v1::ReopenIssueRequest reopen;
    reopen.set_name(name);
    reopen.set_actor(kFollowUp.submitter);
    reopen.set_reason("Totals still differ for the EMEA region");
    issue = Change("cannot reopen", reopen, [&](auto* c, const auto& r, Issue* i) {
      return session_.intake().ReopenIssue(c, r, i);
    });
    if (!issue) return false;
    out_ << "   the customer reopened it: \"" << reopen.reason() << "\" -> "
         << FormatTarget(issue->assignment().target()) << " again, reopened "
         << issue->sla().reopen_count() << "x, ack by "
         << FormatTime(issue->ack_deadline(), absl::Now()) << "\n";
    if (!Resolve(name, team, kFollowUp.outcome)) return false;
    out_ << "   " << team << " resolved it again: " << kFollowUp.outcome << "\n";
    std::optional<Issue> rated = Rate(name, 4, "Second fix did it; thanks for asking first");
    if (!rated) return false;
    out_ << "   the customer rated it " << rated->sla().rating() << "/5: \""
         << rated->sla().rating_comment() << "\"\n";
    issues_.push_back(*std::move(rated));
    return true;
  }

  bool Resolve(const std::string& name, const std::string& actor, const std::string& resolution) {
    intake::v1::ResolveIssueRequest resolve;
    resolve.set_name(name);
    resolve.set_actor(actor);
    resolve.set_resolution(resolution);
    return Change("cannot resolve", resolve,
                  [&](auto* c, const auto& r, Issue* i) {
                    return session_.intake().ResolveIssue(c, r, i);
                  })
        .has_value();
  }

  std::optional<Issue> Rate(const std::string& name, int rating, const std::string& comment) {
    intake::v1::RateIssueRequest rate;
    rate.set_name(name);
    rate.set_actor("crm");
    rate.set_rating(rating);
    rate.set_comment(comment);
    return Change("cannot rate", rate, [&](auto* c, const auto& r, Issue* i) {
      return session_.intake().RateIssue(c, r, i);
    });
  }

  // The customers of act 1 rate their resolved issues; then the SLA and CSAT
  // figures of every issue of this run, by business group.
  bool Verdicts() {
    size_t next = 0;
    for (Issue& issue : issues_) {
      if (issue.state() != issue::v1::STATE_RESOLVED || issue.sla().rating() != 0) continue;
      std::optional<Issue> rated = Rate(issue.name(), kRatings[next++ % std::size(kRatings)], "");
      if (!rated) return false;
      issue = *std::move(rated);
    }
    struct Figures {
      int acks = 0, acks_met = 0, resolves = 0, resolves_met = 0, ratings = 0, satisfied = 0;
      int rating_sum = 0;
    };
    std::map<std::string, Figures> groups;
    for (const Issue& stored : issues_) {
      std::optional<Issue> issue = Get(stored.name());
      if (!issue) return false;
      Figures& figures = groups[issue->assignment().target().business_group()];
      const issue::v1::SlaStatus& sla = issue->sla();
      if (sla.ack_outcome() != issue::v1::SLA_OUTCOME_UNSPECIFIED) {
        ++figures.acks;
        figures.acks_met += sla.ack_outcome() == issue::v1::SLA_OUTCOME_MET;
      }
      if (sla.resolve_outcome() != issue::v1::SLA_OUTCOME_UNSPECIFIED) {
        ++figures.resolves;
        figures.resolves_met += sla.resolve_outcome() == issue::v1::SLA_OUTCOME_MET;
      }
      if (sla.rating() > 0) {
        ++figures.ratings;
        figures.rating_sum += sla.rating();
        figures.satisfied += sla.rating() >= 4;
      }
    }
    out_ << "\n7. SLA and CSAT by business group (this run's issues; Grafana's \"Customers kept\n"
            "   happy\" row shows the same from the metrics):\n"
         << absl::StrFormat("   %-16s  %-9s  %-9s  %-7s  %-9s  %s\n", "GROUP", "ACK MET",
                            "RESOLVED", "RATINGS", "MEAN", "CSAT (4-5)");
    const auto share = [](int part, int whole) {
      return whole == 0 ? std::string("-") : absl::StrCat(part, "/", whole);
    };
    for (const auto& [group, figures] : groups) {
      out_ << absl::StrFormat(
          "   %-16s  %-9s  %-9s  %-7d  %-9s  %s\n", group, share(figures.acks_met, figures.acks),
          share(figures.resolves_met, figures.resolves), figures.ratings,
          figures.ratings == 0
              ? std::string("-")
              : absl::StrFormat("%.1f", static_cast<double>(figures.rating_sum) / figures.ratings),
          figures.ratings == 0
              ? std::string("-")
              : absl::StrFormat("%d%%", 100 * figures.satisfied / figures.ratings));
    }
    return true;
  }

  Session& session_;
  std::ostream& out_;
  const absl::Duration wait_;
  std::string run_;
  std::vector<Issue> issues_;
  std::set<std::string> teams_;                       // subscriber names of the teams routing chose
  std::map<std::string, const Scenario*> scenarios_;  // by issue name
};

int RunDemo(Session& session, const ParsedArgs& args) {
  auto wait = args.GetDuration("wait", absl::Seconds(30));
  if (!wait.ok()) return session.UsageError(wait.status().message());
  return Demo(session, *wait).Run();
}

}  // namespace

void AddDemoCommand(CommandLine& command_line) {
  command_line.Add({
      .path = {"demo"},
      .summary = "run a realistic batch of customer issues through the running stack",
      .description =
          "Submits a dozen customer issues, shows where the active ruleset routed them, has\n"
          "the owning teams acknowledge, transfer and resolve them, and prints what the\n"
          "teams, sources and submitters were told. Then a regional outage: five customers'\n"
          "issues grouped into one problem, escalated by its breadth and resolved once. Last,\n"
          "an issue waits on its customer, is reopened and rated, and the SLA and CSAT\n"
          "figures of every group follow.\n"
          "Start the stack first\n"
          "(scripts/run-local.sh), or run scripts/demo.sh, which does both.",
      .flags = {{.name = "wait",
                 .value_name = "DURATION",
                 .help = "how long to wait for routing and notifications (default 30s)"}},
      .run = RunDemo,
  });
}

}  // namespace switchboard::cli
