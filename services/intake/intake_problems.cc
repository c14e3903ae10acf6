// IntakeCore's part in broad problems (intake_core.h, docs/problems.md):
// reading problems, the messages between partitions, and what applying each
// one writes. Everything that reads or writes problem state runs under mu_,
// against the newest queued state, and queues its batch before letting go of
// the lock, as issue updates do.
#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/partition.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/intake/access.h"
#include "services/intake/intake_core.h"
#include "services/intake/issue_filter.h"
#include "services/intake/requests.h"
#include "services/intake/sla.h"

namespace switchboard::intake {

using issue::v1::Issue;
using issue::v1::Problem;

namespace {

constexpr int kProblemScanBudget = 10000;
// A correlation key longer than this is refused by routing's validation; one
// that arrives anyway is not stored.
constexpr size_t kMaxCorrelationKeyBytes = 4096;
constexpr absl::Duration kMaxCorrelationWindow = absl::Hours(24 * 30);

bool SameTarget(const issue::v1::Target& a, const issue::v1::Target& b) {
  return a.business_group() == b.business_group() && a.team() == b.team();
}

// What a problem keeps of each linked issue.
v1::LinkedIssueFacts FactsOf(const Issue& issue) {
  v1::LinkedIssueFacts facts;
  facts.set_issue(issue.name());
  *facts.mutable_customer() = issue.customer();
  facts.set_severity(issue.severity());
  facts.set_source(issue.source());
  facts.set_submitter(issue.submitter());
  *facts.mutable_create_time() = issue.create_time();
  return facts;
}

// `change.updated` joins `problem`: owned by the problem's owner from now on
// (a new owner acknowledges anew; the previous one is noted for the event,
// and `manual` says whether a person or a policy put it there), without an
// ack deadline of its own unless it is the `opener` (one SLA clock per
// problem), and acknowledged if the owner has already taken the problem.
void JoinProblem(const Problem& problem, bool opener, bool manual, absl::Time now,
                 IssueChange& change) {
  Issue& updated = change.updated;
  issue::v1::Assignment& assignment = *updated.mutable_assignment();
  if (!SameTarget(assignment.target(), problem.owner())) {
    change.previous_owner = assignment.target().team();
    *assignment.mutable_target() = problem.owner();
    *assignment.mutable_original_target() = problem.owner();
    assignment.set_escalation_level(0);
    assignment.set_manual(manual);
    *assignment.mutable_assign_time() = ToProtoTime(now);
    // A new owner has asked the customer nothing yet.
    if (updated.state() == issue::v1::STATE_WAITING_ON_CUSTOMER) EndWait(now, updated);
    updated.set_state(issue::v1::STATE_ROUTED);
  }
  if (!opener) updated.clear_ack_deadline();
  if (problem.state() == issue::v1::PROBLEM_STATE_ACKNOWLEDGED && AwaitsAcknowledgement(updated)) {
    MarkAcknowledged(now, updated);
  }
}

// The answer to a CorrelateIssue: `issue` is linked to `problem`.
v1::PartitionMessage LinkedMessage(const std::string& issue, const Problem& problem, bool opened) {
  v1::PartitionMessage message;
  message.mutable_linked()->set_issue(issue);
  *message.mutable_linked()->mutable_problem() = problem;
  message.mutable_linked()->set_opened(opened);
  return message;
}

v1::PartitionMessage DetachMessage(const v1::LinkedIssueFacts& issue, const std::string& problem) {
  v1::PartitionMessage message;
  *message.mutable_detach()->mutable_issue() = issue;
  message.mutable_detach()->set_problem(problem);
  return message;
}

// The issue as a problem's link needs it, from the facts it kept.
Issue IssueOf(const v1::LinkedIssueFacts& facts) {
  Issue issue;
  issue.set_name(facts.issue());
  *issue.mutable_customer() = facts.customer();
  issue.set_severity(facts.severity());
  issue.set_source(facts.source());
  issue.set_submitter(facts.submitter());
  *issue.mutable_create_time() = facts.create_time();
  return issue;
}

// Why `problem` was escalated by its breadth, for the event.
std::string BreadthReason(const v1::StoredProblem& stored) {
  const int customers = stored.problem().affected_customer_count();
  if (stored.escalation().min_customers() > 0 && customers >= stored.escalation().min_customers()) {
    return absl::StrCat(customers, " customers affected (threshold ",
                        stored.escalation().min_customers(), ")");
  }
  return "a strategic customer is affected";
}

}  // namespace

absl::StatusOr<Problem> IntakeCore::GetProblem(const v1::GetProblemRequest& request,
                                               const Caller& caller) const {
  RETURN_IF_ERROR(ValidateGetProblemRequest(request));
  RETURN_IF_ERROR(MayList(caller));
  const absl::string_view id = ProblemIdFromName(request.name());
  ASSIGN_OR_RETURN(absl::optional<v1::StoredProblem> stored, problems_.Get(id));
  if (!stored.has_value()) {
    return WithFieldViolation(absl::NotFoundError(absl::StrCat("no problem ", request.name())),
                              "name", "no such problem");
  }
  Problem problem = std::move(*stored->mutable_problem());
  ASSIGN_OR_RETURN(std::vector<std::string> newest,
                   problems_.NewestLinkedIssueIds(id, kMaxListedLinks));
  problem.clear_linked_issues();
  for (const std::string& issue_id : newest) problem.add_linked_issues(IssueName(issue_id));
  return problem;
}

absl::StatusOr<v1::ListProblemsResponse> IntakeCore::ListProblems(
    const v1::ListProblemsRequest& request, const Caller& caller) const {
  std::string before;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(before, DecodePageToken(request.page_token(), "problems", request.filter()));
    if (!IsValidIssueId(before)) {
      return InvalidArgumentWithViolations("invalid page_token",
                                           {{"page_token", "not a page token"}});
    }
  }
  ASSIGN_OR_RETURN(ProblemPage page, ListProblemsBefore(request, before, caller));
  v1::ListProblemsResponse response;
  for (Problem& problem : page.problems) *response.add_problems() = std::move(problem);
  if (!page.resume.empty()) {
    response.set_next_page_token(EncodePageToken("problems", request.filter(), page.resume));
  }
  return response;
}

absl::StatusOr<ProblemPage> IntakeCore::ListProblemsBefore(const v1::ListProblemsRequest& request,
                                                           absl::string_view before,
                                                           const Caller& caller) const {
  RETURN_IF_ERROR(MayList(caller));
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  ASSIGN_OR_RETURN(const std::vector<FilterTerm> terms, ParseProblemFilter(request.filter()));
  if (!before.empty() && !IsValidIssueId(before)) {
    return InvalidArgumentWithViolations("invalid page_token",
                                         {{"page_token", "not a page token"}});
  }
  ProblemPage page;
  ASSIGN_OR_RETURN(page.problems,
                   problems_.List(terms, before, page_size,
                                  std::max(kProblemScanBudget, 10 * page_size), &page.resume));
  return page;
}

void IntakeCore::SendLocked(int partition, v1::PartitionMessage message,
                            rocksdb::WriteBatch& batch) {
  *message.mutable_time() = ToProtoTime(clock_.Now());
  message.set_run(store_.mail_run());
  message.clear_sequence();  // the outbox gives it one
  store_.mail(partition).Append(message.SerializeAsString(), batch);
}

bool IntakeCore::CorrelateLocked(const Issue& routed, const routing::v1::RoutingDecision& decision,
                                 rocksdb::WriteBatch& batch) {
  if (!decision.has_correlation() || decision.correlation().key().empty()) return false;
  v1::PartitionMessage message;
  v1::CorrelateIssue& correlate = *message.mutable_correlate();
  *correlate.mutable_issue() = routed;
  correlate.mutable_issue()->clear_description();  // the problem keeps the title only
  *correlate.mutable_match() = decision.correlation();
  *correlate.mutable_escalation_contacts() = decision.escalation_contacts();
  SendLocked(PartitionOf(decision.correlation().key(), store_.intake_partitions()),
             std::move(message), batch);
  return true;
}

void IntakeCore::Deliver(const v1::DeliverPartitionMessagesRequest& request, DeliverDone done) {
  Applied applied;
  absl::Status status;
  {
    MutexLock lock(mu_);
    applied.batch = ++last_batch_;
    rocksdb::WriteBatch batch;
    absl::StatusOr<MailPosition> position = MailFromLocked(request.sender());
    if (!position.ok()) status = position.status();
    bool moved = false;
    for (const v1::PartitionMessage& message : request.messages()) {
      if (!status.ok()) break;
      const MailPosition at{message.run(), message.sequence()};
      if (at.run != 0 && at.sequence != 0) {
        if (at <= *position) continue;  // applied before: delivered again
        *position = at;
        moved = true;
      }
      switch (message.body_case()) {
        case v1::PartitionMessage::kCorrelate:
          status = ApplyCorrelateLocked(message.correlate(), batch, applied);
          break;
        case v1::PartitionMessage::kLinked:
          status = ApplyLinkedLocked(message.linked(), batch, applied);
          break;
        case v1::PartitionMessage::kCommand:
          status = ApplyCommandLocked(message.command(), batch, applied);
          break;
        case v1::PartitionMessage::kAttach:
          status = ApplyAttachLocked(message.attach(), batch, applied);
          break;
        case v1::PartitionMessage::kDetach:
          status = DetachLocked(message.detach().issue(),
                                ProblemIdFromName(message.detach().problem()), batch, applied);
          break;
        default:
          // A newer partition's message this one does not know: keeping it
          // would stop the sender's mail for good.
          log::Error("dropping a partition message of an unknown kind",
                     {{"sender", request.sender()}});
      }
      if (!status.ok()) break;
    }
    if (status.ok() && moved) {
      store_.PutMailFrom(request.sender(), *position, batch);
      pending_mail_from_.Put(absl::StrCat(request.sender()), *position, applied.batch);
    }
    if (status.ok()) {
      // Queued under the lock: the next batch builds on this one.
      commits_.Commit(std::move(batch), [this, applied = std::move(applied),
                                         done = std::move(done)](absl::Status committed) mutable {
        FinishApplied(applied, committed);
        std::move(done)(std::move(committed));
      });
      return;
    }
    // Nothing was queued: undo what building the batch did in memory, so
    // that the batches still queued before it stay what the next one reads.
    AbandonLocked(applied);
  }
  std::move(done)(status);
}

void IntakeCore::AbandonLocked(const Applied& applied) {
  pending_problems_.Abandon(applied.batch);
  pending_windows_.Abandon(applied.batch);
  pending_customers_.Abandon(applied.batch);
  pending_issue_problems_.Abandon(applied.batch);
  pending_mail_from_.Abandon(applied.batch);
  for (auto version = applied.versions.rbegin(); version != applied.versions.rend(); ++version) {
    if (!version->wrote) continue;
    const std::string id(IssueIdFromName(version->updated.name()));
    if (version->replaced_pending.has_value()) {
      pending_[id] = *version->replaced_pending;
    } else {
      pending_.erase(id);
    }
  }
}

void IntakeCore::FinishApplied(const Applied& applied, const absl::Status& status) {
  {
    MutexLock lock(mu_);
    pending_problems_.Forget(applied.batch);
    pending_windows_.Forget(applied.batch);
    pending_customers_.Forget(applied.batch);
    pending_issue_problems_.Forget(applied.batch);
    pending_mail_from_.Forget(applied.batch);
    pending_changes_.Forget(applied.batch);
  }
  for (const Prepared& version : applied.versions) Finish(version, status);
  if (!status.ok()) return;
  for (const auto& [family, group] : applied.counts) metrics_.Count(*family, group);
  if (applied.events) store_.RingEvents();
  if (applied.mail) store_.RingMail();
}

absl::StatusOr<MailPosition> IntakeCore::MailFromLocked(int sender) {
  if (const MailPosition* pending = pending_mail_from_.Find(absl::StrCat(sender))) {
    return *pending;
  }
  return store_.MailFrom(sender);
}

absl::StatusOr<absl::optional<v1::StoredProblem>> IntakeCore::ProblemLocked(absl::string_view id) {
  if (const v1::StoredProblem* pending = pending_problems_.Find(id)) return *pending;
  return problems_.Get(id);
}

absl::StatusOr<absl::optional<KeyWindow>> IntakeCore::WindowLocked(absl::string_view key) {
  if (const KeyWindow* pending = pending_windows_.Find(key)) return *pending;
  return problems_.Window(key);
}

absl::StatusOr<CustomerCount> IntakeCore::CustomerLinksLocked(absl::string_view problem_id,
                                                              absl::string_view customer_id) {
  if (const CustomerCount* pending =
          pending_customers_.Find(absl::StrCat(problem_id, "/", customer_id))) {
    return *pending;
  }
  return problems_.CustomerLinks(problem_id, customer_id);
}

absl::StatusOr<absl::optional<std::string>> IntakeCore::ProblemOfIssueLocked(
    absl::string_view issue_id) {
  if (const std::string* pending = pending_issue_problems_.Find(issue_id)) {
    if (pending->empty()) return absl::nullopt;  // unlinked by a queued batch
    return *pending;
  }
  return problems_.ProblemOfIssue(issue_id);
}

absl::Status IntakeCore::ApplyCorrelateLocked(const v1::CorrelateIssue& message,
                                              rocksdb::WriteBatch& batch, Applied& applied) {
  const Issue& issue = message.issue();
  const routing::v1::CorrelationMatch& match = message.match();
  const std::string issue_id(IssueIdFromName(issue.name()));
  const absl::Duration window = FromProtoDuration(match.window());
  const int home = IssuePartitionOf(issue.name(), store_.intake_partitions());
  if (issue_id.empty() || home < 0 || !issue::v1::Severity_IsValid(issue.severity()) ||
      match.key().empty() || match.key().size() > kMaxCorrelationKeyBytes ||
      window <= absl::ZeroDuration() || window > kMaxCorrelationWindow) {
    log::Error("dropping a CorrelateIssue that is not well formed",
               {{"issue", issue.name()}, {"policy", match.policy()}});
    return absl::OkStatus();
  }
  const absl::Time now = clock_.Now();

  // Linked here before (the message came again): only say so again.
  ASSIGN_OR_RETURN(absl::optional<std::string> linked_to, ProblemOfIssueLocked(issue_id));
  if (linked_to.has_value()) {
    ASSIGN_OR_RETURN(absl::optional<v1::StoredProblem> stored, ProblemLocked(*linked_to));
    if (stored.has_value()) {
      SendLocked(home,
                 LinkedMessage(issue.name(), stored->problem(),
                               stored->problem().opening_issue() == issue.name()),
                 batch);
      applied.mail = true;
    }
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(absl::optional<KeyWindow> key_window, WindowLocked(match.key()));
  absl::optional<v1::StoredProblem> current;
  if (key_window.has_value()) {
    ASSIGN_OR_RETURN(current, ProblemLocked(ProblemIdFromName(key_window->problem)));
  }
  const absl::Time created = issue.has_create_time() ? FromProtoTime(issue.create_time()) : now;
  const bool open = !current.has_value() || DecideCorrelation(key_window, &current->problem(),
                                                              created) == Correlation::kOpen;
  // kLinkThenResolve links to a resolved problem: IssueLinked carries it
  // resolved, and the issue's partition resolves the issue with it.
  v1::StoredProblem stored;
  if (open) {
    *stored.mutable_problem() = OpenProblem(ProblemName(problem_ids_.Next()), issue, match, now);
    *stored.mutable_escalation() = match.escalation();
    *stored.mutable_escalation_contacts() = message.escalation_contacts();
    const KeyWindow opened = WindowOf(stored.problem());
    problems_.PutWindow(match.key(), opened, batch);
    pending_windows_.Put(match.key(), opened, applied.batch);
  } else {
    stored = *current;
  }
  RETURN_IF_ERROR(
      LinkLocked(open ? nullptr : &*current, stored, issue, /*manual=*/false, batch, applied));
  SendLocked(home, LinkedMessage(issue.name(), stored.problem(), open), batch);
  applied.mail = true;
  return absl::OkStatus();
}

absl::Status IntakeCore::LinkLocked(const v1::StoredProblem* current, v1::StoredProblem& stored,
                                    const Issue& issue, bool manual, rocksdb::WriteBatch& batch,
                                    Applied& applied) {
  const absl::Time now = clock_.Now();
  const bool open = current == nullptr;
  const std::string issue_id(IssueIdFromName(issue.name()));
  Problem& problem = *stored.mutable_problem();
  const std::string problem_id(ProblemIdFromName(problem.name()));
  const std::string& group = problem.owner().business_group();

  ASSIGN_OR_RETURN(CustomerCount customer, CustomerLinksLocked(problem_id, issue.customer().id()));
  const bool new_customer = customer.links == 0;
  AddLink(problem, issue, new_customer, now);
  if (new_customer) customer.tier = issue.customer().tier();  // counted in its first link's tier
  ++customer.links;
  problem.clear_linked_issues();  // read from the links when asked
  const int severity = issue.severity();
  while (stored.severity_links_size() <= severity) stored.add_severity_links(0);
  stored.set_severity_links(severity, stored.severity_links(severity) + 1);
  const Problem as_linked = problem;
  const bool broad = CheckBreadth(problem, stored.escalation(), now);

  problems_.PutCustomerLinks(problem_id, issue.customer().id(), customer, batch);
  pending_customers_.Put(absl::StrCat(problem_id, "/", issue.customer().id()), customer,
                         applied.batch);
  v1::ProblemLinkRecord link;
  *link.mutable_issue() = FactsOf(issue);
  *link.mutable_link_time() = ToProtoTime(now);
  link.set_manual(manual);
  problems_.PutLink(problem_id, link, batch);
  problems_.PutProblemOfIssue(issue_id, problem_id, batch);
  pending_issue_problems_.Put(issue_id, problem_id, applied.batch);
  problems_.Put(current, stored, batch);
  pending_problems_.Put(problem_id, stored, applied.batch);

  if (open) {
    store_.AppendEvent(MakeProblemEvent(issue::v1::EVENT_TYPE_PROBLEM_OPENED, as_linked, now),
                       batch);
    applied.counts.emplace_back(&metrics_.problems_opened, group);
  }
  if (broad) {
    const std::vector<issue::v1::Target> contacts(stored.escalation_contacts().begin(),
                                                  stored.escalation_contacts().end());
    issue::v1::IssueEvent escalated =
        MakeProblemEvent(issue::v1::EVENT_TYPE_PROBLEM_ESCALATED, problem, now, contacts);
    escalated.set_reason(BreadthReason(stored));
    store_.AppendEvent(escalated, batch);
    applied.counts.emplace_back(&metrics_.problem_escalations, group);
    log::Info("problem escalated by its breadth",
              {{"problem", problem.name()}, {"reason", escalated.reason()}});
  }
  applied.events = true;
  applied.counts.emplace_back(&metrics_.problem_links, group);
  return absl::OkStatus();
}

absl::Status IntakeCore::ApplyLinkedLocked(const v1::IssueLinked& message,
                                           rocksdb::WriteBatch& batch, Applied& applied) {
  const Problem& problem = message.problem();
  const std::string issue_id(IssueIdFromName(message.issue()));
  if (issue_id.empty() || ProblemIdFromName(problem.name()).empty()) {
    log::Error("dropping an IssueLinked that is not well formed", {{"issue", message.issue()}});
    return absl::OkStatus();
  }
  // Linked by hand to another problem while its correlation was on its way:
  // the hand wins, and the problem of the policy lets the issue go.
  absl::optional<v1::LinkedIssueFacts> let_go;
  absl::StatusOr<Prepared> version = PrepareLocked(
      issue_id,
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        if (!current.problem().empty()) {
          if (current.problem() != problem.name()) let_go = FactsOf(current);
          return IssueChange{.write = false};  // told before
        }
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_PROBLEM_LINKED,
                           .reason = absl::StrCat("linked to ", problem.name(), " by policy ",
                                                  problem.correlation_policy()),
                           .problem = &problem};
        Issue& updated = change.updated;
        updated.set_problem(problem.name());
        if (updated.state() == issue::v1::STATE_RESOLVED) return change;
        if (problem.state() == issue::v1::PROBLEM_STATE_RESOLVED) {
          // Raised before the fix and linked after it: resolved with it.
          MarkResolved(clock_.Now(), problem.resolution(), updated);
          change.event = issue::v1::EVENT_TYPE_RESOLVED;
          change.reason = absl::StrCat("resolved with ", problem.name());
          return change;
        }
        JoinProblem(problem, message.opened(), /*manual=*/false, clock_.Now(), change);
        return change;
      },
      batch);
  if (!version.ok()) {
    if (!absl::IsNotFound(version.status())) return version.status();
    log::Error("dropping an IssueLinked for an issue that does not exist",
               {{"issue", message.issue()}, {"problem", problem.name()}});
    return absl::OkStatus();
  }
  if (let_go.has_value()) {
    SendLocked(ProblemPartitionOf(problem.name(), store_.intake_partitions()),
               DetachMessage(*let_go, problem.name()), batch);
    applied.mail = true;
  }
  if (version->wrote) applied.events = true;
  applied.versions.push_back(*std::move(version));
  return absl::OkStatus();
}

absl::Status IntakeCore::ApplyAttachLocked(const v1::AttachIssue& message,
                                           rocksdb::WriteBatch& batch, Applied& applied) {
  const v1::LinkedIssueFacts& facts = message.issue();
  const std::string issue_id(IssueIdFromName(facts.issue()));
  const std::string problem_id(ProblemIdFromName(message.problem()));
  const int home = IssuePartitionOf(facts.issue(), store_.intake_partitions());
  if (issue_id.empty() || problem_id.empty() || home < 0 ||
      !issue::v1::Severity_IsValid(facts.severity())) {
    log::Error("dropping an AttachIssue that is not well formed",
               {{"issue", facts.issue()}, {"problem", message.problem()}});
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(absl::optional<std::string> linked_to, ProblemOfIssueLocked(issue_id));
  if (linked_to == problem_id) return absl::OkStatus();  // the message came again
  if (linked_to.has_value()) {
    // A policy linked it here too, while the hand was on its way: the hand
    // wins.
    RETURN_IF_ERROR(DetachLocked(facts, *linked_to, batch, applied));
  }
  ASSIGN_OR_RETURN(absl::optional<v1::StoredProblem> current, ProblemLocked(problem_id));
  if (!current.has_value()) {
    log::Error("dropping an AttachIssue to a problem that does not exist",
               {{"issue", facts.issue()}, {"problem", message.problem()}});
    return absl::OkStatus();
  }
  v1::StoredProblem stored = *current;
  RETURN_IF_ERROR(LinkLocked(&*current, stored, IssueOf(facts), /*manual=*/true, batch, applied));
  // LinkIssue read the problem before it wrote the link: catch the issue up
  // with what happened to the problem in between.
  const Problem& now = stored.problem();
  v1::PartitionMessage command;
  *command.mutable_command()->mutable_problem() = now;
  if (now.state() == issue::v1::PROBLEM_STATE_RESOLVED) {
    command.mutable_command()->set_kind(v1::ProblemCommand::KIND_RESOLVE);
  } else if (message.has_owner() && !SameTarget(message.owner(), now.owner())) {
    command.mutable_command()->set_kind(v1::ProblemCommand::KIND_TRANSFER);
    *command.mutable_command()->mutable_previous_owner() = message.owner();
  } else if (now.state() == issue::v1::PROBLEM_STATE_ACKNOWLEDGED &&
             message.state() == issue::v1::STATE_ROUTED) {
    command.mutable_command()->set_kind(v1::ProblemCommand::KIND_ACKNOWLEDGE);
  } else {
    return absl::OkStatus();
  }
  SendLocked(home, std::move(command), batch);
  applied.mail = true;
  return absl::OkStatus();
}

absl::Status IntakeCore::DetachLocked(const v1::LinkedIssueFacts& facts,
                                      absl::string_view problem_id, rocksdb::WriteBatch& batch,
                                      Applied& applied) {
  const std::string issue_id(IssueIdFromName(facts.issue()));
  if (issue_id.empty() || problem_id.empty() || !issue::v1::Severity_IsValid(facts.severity())) {
    log::Error("dropping a DetachIssue that is not well formed", {{"issue", facts.issue()}});
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(absl::optional<std::string> linked_to, ProblemOfIssueLocked(issue_id));
  if (linked_to != problem_id) return absl::OkStatus();  // not counted in here (any more)
  ASSIGN_OR_RETURN(absl::optional<v1::StoredProblem> current, ProblemLocked(problem_id));
  if (!current.has_value()) return absl::OkStatus();
  v1::StoredProblem stored = *current;
  const std::string& customer = facts.customer().id();
  ASSIGN_OR_RETURN(CustomerCount count, CustomerLinksLocked(problem_id, customer));
  // A record of the first version has no tier: the issue's is the best guess.
  const issue::v1::CustomerTier counted_tier =
      count.tier != issue::v1::CUSTOMER_TIER_UNSPECIFIED ? count.tier : facts.customer().tier();
  count.links = std::max(0, count.links - 1);
  const int left = count.links;
  const int severity = facts.severity();
  if (severity < stored.severity_links_size() && stored.severity_links(severity) > 0) {
    stored.set_severity_links(severity, stored.severity_links(severity) - 1);
  }
  issue::v1::Severity highest_left = issue::v1::SEVERITY_UNSPECIFIED;
  for (int level = issue::v1::SEVERITY_CRITICAL; level < stored.severity_links_size(); ++level) {
    if (stored.severity_links(level) > 0) {
      highest_left = static_cast<issue::v1::Severity>(level);
      break;
    }
  }
  const absl::Time now = clock_.Now();
  RemoveLink(*stored.mutable_problem(), facts.issue(), counted_tier, left == 0, highest_left, now);
  problems_.PutCustomerLinks(problem_id, customer, count, batch);
  pending_customers_.Put(absl::StrCat(problem_id, "/", customer), count, applied.batch);
  problems_.DeleteLink(problem_id, issue_id, batch);
  problems_.PutProblemOfIssue(issue_id, "", batch);
  pending_issue_problems_.Put(issue_id, "", applied.batch);
  problems_.Put(&*current, stored, batch);
  pending_problems_.Put(std::string(problem_id), stored, applied.batch);
  return absl::OkStatus();
}

absl::Status IntakeCore::ApplyCommandLocked(const v1::ProblemCommand& message,
                                            rocksdb::WriteBatch& batch, Applied& applied) {
  const Problem& problem = message.problem();
  if (ProblemIdFromName(problem.name()).empty() ||
      (message.kind() != v1::ProblemCommand::KIND_ACKNOWLEDGE &&
       message.kind() != v1::ProblemCommand::KIND_RESOLVE &&
       message.kind() != v1::ProblemCommand::KIND_TRANSFER)) {
    log::Error("dropping a ProblemCommand that is not well formed", {{"problem", problem.name()}});
    return absl::OkStatus();
  }
  // This partition's issues of the problem: stored, and linked by a batch
  // still queued (an IssueLinked is always applied before a later command
  // from the same problem partition, as both come through one outbox). At
  // most command_chunk_ stored ones per batch, newest first: where the
  // chunk ends, the partition sends itself the rest of the command, so a
  // problem with very many issues here never holds the lock for long or
  // makes one huge batch.
  std::string resume;
  ASSIGN_OR_RETURN(std::vector<Issue> stored,
                   issues_.List({{FilterField::kProblem, problem.name()}}, message.before(),
                                command_chunk_, std::numeric_limits<int>::max(), &resume));
  absl::flat_hash_set<std::string> ids;
  for (const Issue& issue : stored) ids.insert(std::string(IssueIdFromName(issue.name())));
  if (message.before().empty()) {
    for (const auto& [id, issue] : pending_) {
      if (issue.problem() == problem.name()) ids.insert(id);
    }
  }
  if (!resume.empty()) {
    v1::PartitionMessage rest;
    *rest.mutable_command() = message;
    rest.mutable_command()->set_before(resume);
    SendLocked(store_.partition(), std::move(rest), batch);
    applied.mail = true;
  }
  std::vector<std::string> ordered(ids.begin(), ids.end());
  std::sort(ordered.begin(), ordered.end());
  for (const std::string& id : ordered) {
    absl::StatusOr<Prepared> version = PrepareLocked(
        id,
        [&](const Issue& current) -> absl::StatusOr<IssueChange> {
          if (current.problem() != problem.name()) return IssueChange{.write = false};
          IssueChange change{.updated = current,
                             .actor = message.actor(),
                             .caller = message.caller(),
                             .problem = &problem};
          if (message.kind() == v1::ProblemCommand::KIND_RESOLVE) {
            if (!IsActive(current.state())) return IssueChange{.write = false};
            MarkResolved(clock_.Now(), problem.resolution(), change.updated);
            change.event = issue::v1::EVENT_TYPE_RESOLVED;
            change.reason = absl::StrCat("resolved with ", problem.name());
          } else if (message.kind() == v1::ProblemCommand::KIND_TRANSFER) {
            // Only issues the previous owner held: one transferred or
            // escalated elsewhere since stays with that team.
            if (!IsActive(current.state()) ||
                !SameTarget(current.assignment().target(), message.previous_owner())) {
              return IssueChange{.write = false};
            }
            const absl::Time now = clock_.Now();
            // The new owner has asked the customer nothing yet.
            if (current.state() == issue::v1::STATE_WAITING_ON_CUSTOMER) {
              EndWait(now, change.updated);
            }
            if (message.has_sla()) *change.updated.mutable_sla()->mutable_terms() = message.sla();
            change.event = issue::v1::EVENT_TYPE_TRANSFERRED;
            change.reason = message.reason().empty()
                                ? absl::StrCat("transferred with ", problem.name())
                                : message.reason();
            change.previous_owner = current.assignment().target().team();
            Issue& updated = change.updated;
            updated.set_state(issue::v1::STATE_ROUTED);  // the new owner acknowledges anew
            issue::v1::Assignment& assignment = *updated.mutable_assignment();
            *assignment.mutable_target() = problem.owner();
            *assignment.mutable_original_target() = problem.owner();
            assignment.set_escalation_level(0);
            assignment.set_manual(true);
            *assignment.mutable_assign_time() = ToProtoTime(now);
            // One SLA clock per problem: the opener's, restarted.
            if (current.name() == problem.opening_issue() && message.has_ack_deadline()) {
              *updated.mutable_ack_deadline() = message.ack_deadline();
            } else {
              updated.clear_ack_deadline();
            }
          } else {
            // Only issues the problem's owner holds: one transferred or
            // escalated elsewhere since is that team's to take.
            if (!AwaitsAcknowledgement(current) ||
                !SameTarget(current.assignment().target(), problem.owner())) {
              return IssueChange{.write = false};
            }
            MarkAcknowledged(clock_.Now(), change.updated);
            change.event = issue::v1::EVENT_TYPE_ACKNOWLEDGED;
            change.reason = absl::StrCat("acknowledged with ", problem.name());
          }
          return change;
        },
        batch);
    if (!version.ok()) return version.status();
    if (version->wrote) applied.events = true;
    applied.versions.push_back(*std::move(version));
  }
  return absl::OkStatus();
}

void IntakeCore::UpdateProblem(absl::string_view id_view, ProblemChangeFn change, ProblemDone done,
                               const ChangeKey& key) {
  const std::string id(id_view);
  const std::string record_id = ProblemRecordId(id);
  absl::AnyInvocable<void() &&> reply;  // an answer that needs no commit, made unlocked
  {
    MutexLock lock(mu_);
    // Looked up under the same lock as the change, as in Update().
    absl::optional<Replayed> replayed = FindReplayLocked(record_id, ProblemName(id), key);
    if (replayed.has_value()) {
      RecordDone replay = AnswerProblem(std::move(done));
      if (AnswerQueuedLocked(record_id, key, *replayed, replay)) return;
      reply = [replay = std::move(replay), record = std::move(replayed->record)]() mutable {
        std::move(replay)(std::move(record));
      };
    } else {
      ApplyProblemChangeLocked(id, record_id, change, key, std::move(done), reply);
    }
  }
  if (reply) std::move(reply)();  // else the commit answers
}

void IntakeCore::ApplyProblemChangeLocked(const std::string& id, const std::string& record_id,
                                          ProblemChangeFn change, const ChangeKey& key,
                                          ProblemDone done, absl::AnyInvocable<void() &&>& reply) {
  Applied applied;
  absl::StatusOr<absl::optional<v1::StoredProblem>> current = ProblemLocked(id);
  absl::StatusOr<ProblemChange> changed = WithFieldViolation(
      absl::NotFoundError(absl::StrCat("no problem ", ProblemName(id))), "name", "no such problem");
  if (!current.ok()) {
    changed = current.status();
  } else if (current->has_value()) {
    changed = change(**current);
  }
  if (changed.ok()) {
    applied.batch = ++last_batch_;
    rocksdb::WriteBatch batch;
    Problem result = (*current)->problem();
    if (changed->write) {
      const absl::Time now = clock_.Now();
      v1::StoredProblem& updated = changed->updated;
      Problem& problem = *updated.mutable_problem();
      NextVersion(problem, now);
      problems_.Put(&**current, updated, batch);
      pending_problems_.Put(id, updated, applied.batch);
      issue::v1::IssueEvent event = MakeProblemEvent(changed->event, problem, now, changed->also);
      event.set_actor(changed->actor);
      event.set_caller(changed->caller);
      event.set_reason(changed->reason);
      store_.AppendEvent(event, batch);
      applied.events = true;
      v1::PartitionMessage command;
      *command.mutable_command() = std::move(changed->command);
      *command.mutable_command()->mutable_problem() = problem;
      command.mutable_command()->set_actor(changed->actor);
      command.mutable_command()->set_caller(changed->caller);
      command.mutable_command()->set_reason(changed->reason);
      for (int partition = 0; partition < store_.intake_partitions(); ++partition) {
        SendLocked(partition, command, batch);
      }
      applied.mail = true;
      if (command.command().kind() == v1::ProblemCommand::KIND_RESOLVE) {
        applied.counts.emplace_back(&metrics_.problems_resolved, problem.owner().business_group());
      }
      result = problem;
    }
    if (!key.request_id.empty()) {
      v1::ChangeRecord record;
      *record.mutable_problem() = result;
      KeepRecordLocked(record_id, key, std::move(record), applied.batch, batch);
    }
    // Queued under the lock: the problem's versions are stored in order.
    commits_.Commit(std::move(batch),
                    [this, applied = std::move(applied), result = std::move(result),
                     done = std::move(done)](absl::Status status) mutable {
                      FinishApplied(applied, status);
                      if (status.ok()) {
                        std::move(done)(std::move(result));
                      } else {
                        std::move(done)(std::move(status));
                      }
                    });
    return;
  }
  reply = [done = std::move(done), status = changed.status()]() mutable {
    std::move(done)(status);
  };
}

void IntakeCore::AcknowledgeProblem(const v1::AcknowledgeProblemRequest& request,
                                    const Caller& caller, ProblemDone done) {
  if (absl::Status invalid = ValidateAcknowledgeProblemRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  UpdateProblem(
      ProblemIdFromName(request.name()),
      [&](const v1::StoredProblem& current) -> absl::StatusOr<ProblemChange> {
        const Problem& problem = current.problem();
        RETURN_IF_ERROR(MayChangeProblem(caller, problem, "acknowledge"));
        if (problem.state() == issue::v1::PROBLEM_STATE_ACKNOWLEDGED) {
          return ProblemChange{.write = false};
        }
        if (problem.state() != issue::v1::PROBLEM_STATE_OPEN) {
          return absl::FailedPreconditionError(
              absl::StrCat("cannot acknowledge ", problem.name(), ": it is ",
                           issue::v1::ProblemState_Name(problem.state()),
                           "; only PROBLEM_STATE_OPEN problems can be"));
        }
        RETURN_IF_ERROR(CheckEtag(request.etag(), problem));
        ProblemChange change{.updated = current,
                             .event = issue::v1::EVENT_TYPE_PROBLEM_ACKNOWLEDGED,
                             .actor = request.actor(),
                             .caller = CallerIdentity(caller)};
        change.command.set_kind(v1::ProblemCommand::KIND_ACKNOWLEDGE);
        change.updated.mutable_problem()->set_state(issue::v1::PROBLEM_STATE_ACKNOWLEDGED);
        return change;
      },
      std::move(done), ChangeKeyOf("AcknowledgeProblem", request, caller));
}

void IntakeCore::ResolveProblem(const v1::ResolveProblemRequest& request, const Caller& caller,
                                ProblemDone done) {
  if (absl::Status invalid = ValidateResolveProblemRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  UpdateProblem(
      ProblemIdFromName(request.name()),
      [&](const v1::StoredProblem& current) -> absl::StatusOr<ProblemChange> {
        const Problem& problem = current.problem();
        RETURN_IF_ERROR(MayChangeProblem(caller, problem, "resolve"));
        if (problem.state() == issue::v1::PROBLEM_STATE_RESOLVED) {
          return absl::FailedPreconditionError(
              absl::StrCat("cannot resolve ", problem.name(), ": it is already resolved"));
        }
        RETURN_IF_ERROR(CheckEtag(request.etag(), problem));
        ProblemChange change{.updated = current,
                             .event = issue::v1::EVENT_TYPE_PROBLEM_RESOLVED,
                             .actor = request.actor(),
                             .caller = CallerIdentity(caller)};
        change.command.set_kind(v1::ProblemCommand::KIND_RESOLVE);
        if (problem.escalated()) {
          // Those told of its breadth hear of its end.
          change.also.assign(current.escalation_contacts().begin(),
                             current.escalation_contacts().end());
        }
        Problem& resolved = *change.updated.mutable_problem();
        resolved.set_state(issue::v1::PROBLEM_STATE_RESOLVED);
        resolved.set_resolution(request.resolution());
        *resolved.mutable_resolve_time() = ToProtoTime(clock_.Now());
        return change;
      },
      std::move(done), ChangeKeyOf("ResolveProblem", request, caller));
}

namespace {

// What routing needs to check a problem's new owner and give its SLA: the
// problem's facts, with the customer, source and submitter of `link` (the
// opening issue's, or another's).
Issue RoutingInputOf(const Problem& problem, const v1::LinkedIssueFacts& link) {
  Issue input;
  input.set_title(problem.title());
  input.set_product(problem.product());
  input.set_region(problem.region());
  input.set_severity(problem.severity());
  *input.mutable_customer() = link.customer();
  input.set_source(link.source());
  input.set_submitter(link.submitter());
  return input;
}

// Whether `caller` may transfer the problem as `request` asks (access,
// state, etag).
absl::Status CheckTransferable(const v1::StoredProblem& current,
                               const v1::TransferProblemRequest& request, const Caller& caller) {
  const Problem& problem = current.problem();
  RETURN_IF_ERROR(MayChangeProblem(caller, problem, "transfer"));
  if (problem.state() == issue::v1::PROBLEM_STATE_RESOLVED) {
    return WithFieldViolation(absl::FailedPreconditionError(absl::StrCat(
                                  "cannot transfer ", problem.name(), ": it is resolved")),
                              "name", "the problem is resolved");
  }
  // Already there: a retry of this very transfer, whose etag is now stale.
  if (SameTarget(problem.owner(), request.target())) return absl::OkStatus();
  return CheckEtag(request.etag(), problem);
}

}  // namespace

absl::StatusOr<v1::LinkedIssueFacts> IntakeCore::SomeLink(const Problem& problem) const {
  const std::string id(ProblemIdFromName(problem.name()));
  ASSIGN_OR_RETURN(absl::optional<v1::ProblemLinkRecord> opener,
                   problems_.Link(id, IssueIdFromName(problem.opening_issue())));
  if (opener.has_value()) return std::move(*opener->mutable_issue());
  ASSIGN_OR_RETURN(std::vector<std::string> any, problems_.LinkedIssueIds(id, "", 1));
  if (!any.empty()) {
    ASSIGN_OR_RETURN(absl::optional<v1::ProblemLinkRecord> link, problems_.Link(id, any.front()));
    if (link.has_value()) return std::move(*link->mutable_issue());
  }
  if (problem.linked_issue_count() == 0) {
    return WithFieldViolation(
        absl::FailedPreconditionError(
            absl::StrCat("cannot transfer ", problem.name(), ": every issue was unlinked from it")),
        "name", "the problem has no linked issues");
  }
  return absl::AbortedError(absl::StrCat("cannot transfer ", problem.name(),
                                         " now: its first link is still being written; retry"));
}

void IntakeCore::TransferProblem(const v1::TransferProblemRequest& request, const Caller& caller,
                                 ProblemDone done) {
  if (absl::Status invalid = ValidateTransferProblemRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const std::string id(ProblemIdFromName(request.name()));
  const ChangeKey key = ChangeKeyOf("TransferProblem", request, caller);
  if (ReplayProblem(id, key, done)) return;
  absl::StatusOr<absl::optional<v1::StoredProblem>> read;
  {
    MutexLock lock(mu_);
    read = ProblemLocked(id);
  }
  absl::Status refused = read.status();
  if (refused.ok() && !read->has_value()) {
    refused = WithFieldViolation(absl::NotFoundError(absl::StrCat("no problem ", request.name())),
                                 "name", "no such problem");
  }
  if (refused.ok()) refused = CheckTransferable(**read, request, caller);
  absl::StatusOr<v1::LinkedIssueFacts> link = refused.ok() ? SomeLink((*read)->problem()) : refused;
  if (!link.ok()) {
    std::move(done)(link.status());
    return;
  }
  routing::v1::RouteToTargetRequest check;
  *check.mutable_issue() = RoutingInputOf((*read)->problem(), *link);
  *check.mutable_target() = request.target();
  routing_.RouteToTarget(check, [this, id, request, key, &caller, done = std::move(done)](
                                    absl::StatusOr<routing::v1::RoutingDecision> decision) mutable {
    if (!decision.ok()) {
      std::move(done)(decision.status());
      return;
    }
    UpdateProblem(
        id,
        [&](const v1::StoredProblem& current) -> absl::StatusOr<ProblemChange> {
          // The problem may have changed while routing answered.
          RETURN_IF_ERROR(CheckTransferable(current, request, caller));
          const Problem& problem = current.problem();
          if (SameTarget(problem.owner(), decision->target())) {
            return ProblemChange{.write = false};  // already there: a retry, most likely
          }
          const absl::Time now = clock_.Now();
          ProblemChange change{.updated = current,
                               .event = issue::v1::EVENT_TYPE_PROBLEM_TRANSFERRED,
                               .actor = request.actor(),
                               .caller = CallerIdentity(caller),
                               .reason = request.reason(),
                               .also = {problem.owner()}};
          change.command.set_kind(v1::ProblemCommand::KIND_TRANSFER);
          *change.command.mutable_previous_owner() = problem.owner();
          Problem& transferred = *change.updated.mutable_problem();
          *change.command.mutable_sla() = TermsOf(*decision);
          if (absl::optional<absl::Time> deadline = AckDeadline(*decision, now)) {
            *change.command.mutable_ack_deadline() = ToProtoTime(*deadline);
            *transferred.mutable_ack_deadline() = change.command.ack_deadline();
          } else {
            transferred.clear_ack_deadline();
          }
          *change.updated.mutable_escalation_contacts() = decision->escalation_contacts();
          *transferred.mutable_owner() = decision->target();
          transferred.set_state(issue::v1::PROBLEM_STATE_OPEN);  // the new owner acknowledges anew
          transferred.set_escalation_level(0);
          return change;
        },
        std::move(done), key);
  });
}

void IntakeCore::LinkIssue(const v1::LinkIssueRequest& request, const Problem& problem,
                           const Caller& caller, IssueDone done) {
  if (absl::Status invalid = ValidateLinkIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  Update(
      IssueIdFromName(request.name()),
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayChange(caller, current, "link"));
        if (current.problem() == problem.name()) return IssueChange{.write = false};
        if (!current.problem().empty()) {
          return WithFieldViolation(
              absl::FailedPreconditionError(absl::StrCat("cannot link ", current.name(), " to ",
                                                         problem.name(), ": it is linked to ",
                                                         current.problem(), "; unlink it first")),
              "name", absl::StrCat("already linked to ", current.problem()));
        }
        if (current.state() != issue::v1::STATE_ROUTED &&
            current.state() != issue::v1::STATE_ACKNOWLEDGED) {
          return WithFieldViolation(
              WrongState("link", current, "ROUTED or ACKNOWLEDGED"), "name",
              absl::StrCat("the issue is ", issue::v1::State_Name(current.state())));
        }
        if (problem.state() == issue::v1::PROBLEM_STATE_RESOLVED) {
          return WithFieldViolation(absl::FailedPreconditionError(
                                        absl::StrCat("cannot link ", current.name(), " to ",
                                                     problem.name(), ": the problem is resolved")),
                                    "problem", "the problem is resolved");
        }
        RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_PROBLEM_LINKED,
                           .actor = request.actor(),
                           .caller = CallerIdentity(caller),
                           .reason = absl::StrCat("linked to ", problem.name(), " by hand"),
                           .problem = &problem};
        change.updated.set_problem(problem.name());
        JoinProblem(problem, /*opener=*/false, /*manual=*/true, clock_.Now(), change);
        v1::PartitionMessage attach;
        *attach.mutable_attach()->mutable_issue() = FactsOf(change.updated);
        attach.mutable_attach()->set_problem(problem.name());
        *attach.mutable_attach()->mutable_owner() = change.updated.assignment().target();
        attach.mutable_attach()->set_state(change.updated.state());
        change.mail.emplace_back(ProblemPartitionOf(problem.name(), store_.intake_partitions()),
                                 std::move(attach));
        return change;
      },
      std::move(done), ChangeKeyOf("LinkIssue", request, caller));
}

namespace {

// Whether `caller` may unlink `current` as `request` asks.
absl::Status CheckUnlinkable(const Issue& current, const v1::UnlinkIssueRequest& request,
                             const Caller& caller) {
  RETURN_IF_ERROR(MayChange(caller, current, "unlink"));
  if (current.problem() != request.problem()) {
    const std::string linked = current.problem().empty()
                                   ? "not linked to a problem"
                                   : absl::StrCat("linked to ", current.problem());
    return WithFieldViolation(
        absl::FailedPreconditionError(absl::StrCat("cannot unlink ", current.name(), " from ",
                                                   request.problem(), ": it is ", linked)),
        "problem", absl::StrCat("the issue is ", linked));
  }
  if (current.state() != issue::v1::STATE_ROUTED &&
      current.state() != issue::v1::STATE_ACKNOWLEDGED) {
    return WithFieldViolation(
        WrongState("unlink", current, "ROUTED or ACKNOWLEDGED"), "name",
        absl::StrCat("the issue is ", issue::v1::State_Name(current.state())));
  }
  return absl::OkStatus();
}

}  // namespace

void IntakeCore::UnlinkIssue(const v1::UnlinkIssueRequest& request, const Caller& caller,
                             IssueDone done) {
  if (absl::Status invalid = ValidateUnlinkIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const std::string id(IssueIdFromName(request.name()));
  const ChangeKey key = ChangeKeyOf("UnlinkIssue", request, caller);
  if (Replay(id, key, done)) return;
  absl::StatusOr<Issue> current = Current(id);
  if (current.ok()) {
    if (absl::Status refused = CheckUnlinkable(*current, request, caller); !refused.ok()) {
      current = refused;
    }
  }
  if (!current.ok()) {
    std::move(done)(current.status());
    return;
  }
  // The issue's own ack clock starts again, by its owner's SLA.
  routing::v1::RouteToTargetRequest check;
  *check.mutable_issue() = InputFields(*current);
  *check.mutable_target() = current->assignment().target();
  routing_.RouteToTarget(check, [this, id, request, key, &caller, done = std::move(done)](
                                    absl::StatusOr<routing::v1::RoutingDecision> decision) mutable {
    if (!decision.ok()) {
      std::move(done)(decision.status());
      return;
    }
    Problem left;
    left.set_name(request.problem());
    Update(
        id,
        [&](const Issue& latest) -> absl::StatusOr<IssueChange> {
          RETURN_IF_ERROR(CheckUnlinkable(latest, request, caller));
          RETURN_IF_ERROR(CheckEtag(request.etag(), latest));
          IssueChange change{.updated = latest,
                             .event = issue::v1::EVENT_TYPE_PROBLEM_UNLINKED,
                             .actor = request.actor(),
                             .caller = CallerIdentity(caller),
                             .reason = request.reason().empty()
                                           ? absl::StrCat("unlinked from ", request.problem())
                                           : request.reason(),
                             .problem = &left};
          Issue& updated = change.updated;
          updated.clear_problem();
          *updated.mutable_sla()->mutable_terms() = TermsOf(*decision);
          if (updated.state() == issue::v1::STATE_ROUTED) {
            if (absl::optional<absl::Time> deadline = AckDeadline(*decision, clock_.Now())) {
              *updated.mutable_ack_deadline() = ToProtoTime(*deadline);
            }
          }
          change.mail.emplace_back(
              ProblemPartitionOf(request.problem(), store_.intake_partitions()),
              DetachMessage(FactsOf(latest), request.problem()));
          return change;
        },
        std::move(done), key);
  });
}

}  // namespace switchboard::intake
