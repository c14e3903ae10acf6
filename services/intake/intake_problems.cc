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

// The answer to a CorrelateIssue: `issue` is linked to `problem`.
v1::PartitionMessage LinkedMessage(const std::string& issue, const Problem& problem, bool opened) {
  v1::PartitionMessage message;
  message.mutable_linked()->set_issue(issue);
  *message.mutable_linked()->mutable_problem() = problem;
  message.mutable_linked()->set_opened(opened);
  return message;
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
    return absl::NotFoundError(absl::StrCat("no problem ", request.name()));
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
    for (const v1::PartitionMessage& message : request.messages()) {
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
        default:
          // A newer partition's message this one does not know: keeping it
          // would stop the sender's mail for good.
          log::Error("dropping a partition message of an unknown kind",
                     {{"sender", request.sender()}});
      }
      if (!status.ok()) break;
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
  }
  for (const Prepared& version : applied.versions) Finish(version, status);
  if (!status.ok()) return;
  for (const auto& [family, group] : applied.counts) metrics_.Count(*family, group);
  if (applied.events) store_.RingEvents();
  if (applied.mail) store_.RingMail();
}

absl::StatusOr<absl::optional<v1::StoredProblem>> IntakeCore::ProblemLocked(absl::string_view id) {
  if (const v1::StoredProblem* pending = pending_problems_.Find(id)) return *pending;
  return problems_.Get(id);
}

absl::StatusOr<absl::optional<KeyWindow>> IntakeCore::WindowLocked(absl::string_view key) {
  if (const KeyWindow* pending = pending_windows_.Find(key)) return *pending;
  return problems_.Window(key);
}

absl::StatusOr<int> IntakeCore::CustomerLinksLocked(absl::string_view problem_id,
                                                    absl::string_view customer_id) {
  if (const int* pending = pending_customers_.Find(absl::StrCat(problem_id, "/", customer_id))) {
    return *pending;
  }
  return problems_.CustomerLinks(problem_id, customer_id);
}

absl::StatusOr<absl::optional<std::string>> IntakeCore::ProblemOfIssueLocked(
    absl::string_view issue_id) {
  if (const std::string* pending = pending_issue_problems_.Find(issue_id)) return *pending;
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
  Problem& problem = *stored.mutable_problem();
  const std::string problem_id(ProblemIdFromName(problem.name()));
  const std::string& group = problem.owner().business_group();

  ASSIGN_OR_RETURN(const int customer_links,
                   CustomerLinksLocked(problem_id, issue.customer().id()));
  AddLink(problem, issue, customer_links == 0, now);
  problem.clear_linked_issues();  // read from the links when asked
  const int severity = issue.severity();
  while (stored.severity_links_size() <= severity) stored.add_severity_links(0);
  stored.set_severity_links(severity, stored.severity_links(severity) + 1);
  const Problem as_linked = problem;
  const bool broad = CheckBreadth(problem, stored.escalation(), now);

  problems_.PutCustomerLinks(problem_id, issue.customer().id(), customer_links + 1, batch);
  pending_customers_.Put(absl::StrCat(problem_id, "/", issue.customer().id()), customer_links + 1,
                         applied.batch);
  v1::ProblemLinkRecord link;
  *link.mutable_issue() = FactsOf(issue);
  *link.mutable_link_time() = ToProtoTime(now);
  problems_.PutLink(problem_id, link, batch);
  problems_.PutProblemOfIssue(issue_id, problem_id, batch);
  pending_issue_problems_.Put(issue_id, problem_id, applied.batch);
  problems_.Put(open ? nullptr : &*current, stored, batch);
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
  SendLocked(home, LinkedMessage(issue.name(), problem, open), batch);
  applied.mail = true;
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
  absl::StatusOr<Prepared> version = PrepareLocked(
      issue_id,
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        if (!current.problem().empty()) return IssueChange{.write = false};  // told before
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
          updated.set_state(issue::v1::STATE_RESOLVED);
          updated.set_resolution(problem.resolution());
          change.event = issue::v1::EVENT_TYPE_RESOLVED;
          change.reason = absl::StrCat("resolved with ", problem.name());
          return change;
        }
        issue::v1::Assignment& assignment = *updated.mutable_assignment();
        if (!SameTarget(assignment.target(), problem.owner())) {
          change.previous_owner = assignment.target().team();
          *assignment.mutable_target() = problem.owner();
          *assignment.mutable_original_target() = problem.owner();
          assignment.set_escalation_level(0);
          assignment.set_manual(false);
          *assignment.mutable_assign_time() = ToProtoTime(clock_.Now());
          // The new owner acknowledges anew.
          updated.set_state(issue::v1::STATE_ROUTED);
        }
        // One SLA clock per problem: the opener's.
        if (!message.opened()) updated.clear_ack_deadline();
        if (problem.state() == issue::v1::PROBLEM_STATE_ACKNOWLEDGED &&
            updated.state() == issue::v1::STATE_ROUTED) {
          // The owner already took the problem, so it takes this issue too.
          updated.set_state(issue::v1::STATE_ACKNOWLEDGED);
        }
        return change;
      },
      batch);
  if (!version.ok()) {
    if (!absl::IsNotFound(version.status())) return version.status();
    log::Error("dropping an IssueLinked for an issue that does not exist",
               {{"issue", message.issue()}, {"problem", problem.name()}});
    return absl::OkStatus();
  }
  if (version->wrote) applied.events = true;
  applied.versions.push_back(*std::move(version));
  return absl::OkStatus();
}

absl::Status IntakeCore::ApplyCommandLocked(const v1::ProblemCommand& message,
                                            rocksdb::WriteBatch& batch, Applied& applied) {
  const Problem& problem = message.problem();
  if (ProblemIdFromName(problem.name()).empty() ||
      (message.kind() != v1::ProblemCommand::KIND_ACKNOWLEDGE &&
       message.kind() != v1::ProblemCommand::KIND_RESOLVE)) {
    log::Error("dropping a ProblemCommand that is not well formed", {{"problem", problem.name()}});
    return absl::OkStatus();
  }
  // This partition's issues of the problem: stored, and linked by a batch
  // still queued (an IssueLinked is always applied before a later command
  // from the same problem partition, as both come through one outbox).
  std::string resume;
  ASSIGN_OR_RETURN(
      std::vector<Issue> stored,
      issues_.List({{FilterField::kProblem, problem.name()}}, "", std::numeric_limits<int>::max(),
                   std::numeric_limits<int>::max(), &resume));
  absl::flat_hash_set<std::string> ids;
  for (const Issue& issue : stored) ids.insert(std::string(IssueIdFromName(issue.name())));
  for (const auto& [id, issue] : pending_) {
    if (issue.problem() == problem.name()) ids.insert(id);
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
            if (current.state() != issue::v1::STATE_ROUTED &&
                current.state() != issue::v1::STATE_ACKNOWLEDGED) {
              return IssueChange{.write = false};
            }
            change.updated.set_state(issue::v1::STATE_RESOLVED);
            change.updated.set_resolution(problem.resolution());
            change.event = issue::v1::EVENT_TYPE_RESOLVED;
            change.reason = absl::StrCat("resolved with ", problem.name());
          } else {
            // Only issues the problem's owner holds: one transferred or
            // escalated elsewhere since is that team's to take.
            if (current.state() != issue::v1::STATE_ROUTED ||
                !SameTarget(current.assignment().target(), problem.owner())) {
              return IssueChange{.write = false};
            }
            change.updated.set_state(issue::v1::STATE_ACKNOWLEDGED);
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

void IntakeCore::UpdateProblem(absl::string_view id_view, ProblemChangeFn change,
                               ProblemDone done) {
  const std::string id(id_view);
  Applied applied;
  absl::Status error;
  {
    MutexLock lock(mu_);
    absl::StatusOr<absl::optional<v1::StoredProblem>> current = ProblemLocked(id);
    absl::StatusOr<ProblemChange> changed =
        absl::NotFoundError(absl::StrCat("no problem ", ProblemName(id)));
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
        std::vector<issue::v1::Target> also;
        if (changed->event == issue::v1::EVENT_TYPE_PROBLEM_RESOLVED && problem.escalated()) {
          also.assign(updated.escalation_contacts().begin(), updated.escalation_contacts().end());
        }
        issue::v1::IssueEvent event = MakeProblemEvent(changed->event, problem, now, also);
        event.set_actor(changed->actor);
        event.set_caller(changed->caller);
        store_.AppendEvent(event, batch);
        applied.events = true;
        v1::PartitionMessage command;
        command.mutable_command()->set_kind(changed->command);
        *command.mutable_command()->mutable_problem() = problem;
        command.mutable_command()->set_actor(changed->actor);
        command.mutable_command()->set_caller(changed->caller);
        for (int partition = 0; partition < store_.intake_partitions(); ++partition) {
          SendLocked(partition, command, batch);
        }
        applied.mail = true;
        if (changed->command == v1::ProblemCommand::KIND_RESOLVE) {
          applied.counts.emplace_back(&metrics_.problems_resolved,
                                      problem.owner().business_group());
        }
        result = problem;
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
    error = changed.status();
  }
  std::move(done)(error);
}

namespace {

absl::Status CheckProblemEtag(absl::string_view etag, const Problem& current) {
  if (etag.empty() || etag == current.etag()) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat("etag \"", etag, "\" is stale: the problem is at etag \"",
                                         current.etag(), "\"; read it again"));
}

}  // namespace

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
        RETURN_IF_ERROR(CheckProblemEtag(request.etag(), problem));
        ProblemChange change{.updated = current,
                             .event = issue::v1::EVENT_TYPE_PROBLEM_ACKNOWLEDGED,
                             .command = v1::ProblemCommand::KIND_ACKNOWLEDGE,
                             .actor = request.actor(),
                             .caller = CallerIdentity(caller)};
        change.updated.mutable_problem()->set_state(issue::v1::PROBLEM_STATE_ACKNOWLEDGED);
        return change;
      },
      std::move(done));
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
        RETURN_IF_ERROR(CheckProblemEtag(request.etag(), problem));
        ProblemChange change{.updated = current,
                             .event = issue::v1::EVENT_TYPE_PROBLEM_RESOLVED,
                             .command = v1::ProblemCommand::KIND_RESOLVE,
                             .actor = request.actor(),
                             .caller = CallerIdentity(caller)};
        Problem& resolved = *change.updated.mutable_problem();
        resolved.set_state(issue::v1::PROBLEM_STATE_RESOLVED);
        resolved.set_resolution(request.resolution());
        *resolved.mutable_resolve_time() = ToProtoTime(clock_.Now());
        return change;
      },
      std::move(done));
}

}  // namespace switchboard::intake
