// The intake service's domain logic, free of gRPC: accepting issues durably
// and idempotently, their life (acknowledge, resolve, transfer), queries,
// and the IssueLedger that the dispatch loops record their work through
// (routed, published, escalated).
//
// SubmitIssue writes the issue, its request record, its index entries, a
// route task and its RECEIVED event in one batch through the commit queue
// and completes only after the fsync. A request_id is claimed in memory
// before its batch is queued, so concurrent retries of one request wait for
// the first instead of creating a second issue.
//
// Every later change to an issue goes through Update(): under one lock it
// reads the newest version (a version whose batch is still queued counts),
// computes the next one, and queues its batch — issue, index, timer and
// events together. Batches are written in the order they are queued, so an
// issue's versions and events are stored in order, and a caller hears back
// only once its version is durable. Once a batch that queued work is durable,
// the outbox's doorbell (or the timers' doorbell) wakes the loop that drains
// it.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/caller.h"
#include "common/clock.h"
#include "common/sync.h"
#include "services/intake/access.h"
#include "services/intake/census.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_id.h"
#include "services/intake/issue_ledger.h"
#include "services/intake/merged_list.h"
#include "services/intake/peers.h"
#include "services/intake/pending_writes.h"
#include "services/intake/problems.h"
#include "services/intake/store.h"
#include "switchboard/intake/v1/intake.pb.h"
#include "switchboard/intake/v1/partition.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::intake {

// What one update does to the newest version of an issue.
struct IssueChange {
  // False: the issue stays as it is (an idempotent repeat, a stale task);
  // the batch still carries the caller's other writes and the caller still
  // waits for durability.
  bool write = true;
  issue::v1::Issue updated;  // etag and update_time are set by the core
  issue::v1::EventType event = issue::v1::EVENT_TYPE_UNSPECIFIED;
  std::string actor;
  std::string caller;  // the authenticated identity, "" without authentication
  std::string reason;
  std::string previous_owner;                   // team told too, for transfers and escalations
  const issue::v1::Problem* problem = nullptr;  // the event's problem, if any
  // Partition messages to send in the same batch: {partition, message}.
  std::vector<std::pair<int, v1::PartitionMessage>> mail;
};

// The idempotency key of a lifecycle call (AIP-155): its method, its
// request_id ("" for none) and a fingerprint of the rest of the request.
struct ChangeKey {
  std::string method;
  std::string request_id;
  uint64_t fingerprint = 0;
};

// Answers a call from the record its first try kept (request_id).
using RecordDone = absl::AnyInvocable<void(absl::StatusOr<v1::ChangeRecord>) &&>;

// One partition's part of a ListProblems, and where it stopped ("" at its
// end).
struct ProblemPage {
  std::vector<issue::v1::Problem> problems;
  std::string resume;
};

class IntakeCore final : public IssueLedger {
 public:
  using IssueDone = absl::AnyInvocable<void(absl::StatusOr<issue::v1::Issue>) &&>;
  using ChangeFn = absl::FunctionRef<absl::StatusOr<IssueChange>(const issue::v1::Issue& current)>;

  // Reads where the id sequence stands. `routing` answers TransferIssue's
  // target checks.
  static absl::StatusOr<std::unique_ptr<IntakeCore>> Create(IntakeStore& store,
                                                            IntakeMetrics& metrics,
                                                            RoutingPeer& routing, Clock& clock);

  // The open issues as of the last durable change, for the census.
  const OpenIssues& open_issues() const { return *open_issues_; }

  // SubmitIssue by `caller` (whose identity the RECEIVED event records).
  // `done` runs once, after the fsync (on the commit thread) or at once for
  // an invalid or already-known request.
  void Submit(const v1::SubmitIssueRequest& request, const Caller& caller, IssueDone done);

  // GetIssue and ListIssues: durable state only, of the issues `caller` may
  // see (access.h); GetIssue of one it may not is PERMISSION_DENIED.
  absl::StatusOr<issue::v1::Issue> Get(const v1::GetIssueRequest& request,
                                       const Caller& caller) const;
  absl::StatusOr<v1::ListIssuesResponse> List(const v1::ListIssuesRequest& request,
                                              const Caller& caller) const;
  // This partition's issues older than `before` ("" for the newest) that
  // match the request's filter and that `caller` may see, and where the
  // scan stopped: one partition's part of a merged list (merged_list.h).
  absl::StatusOr<PartitionPage> ListBefore(const v1::ListIssuesRequest& request,
                                           absl::string_view before, const Caller& caller) const;

  // AcknowledgeIssue, ResolveIssue, TransferIssue, by a member of the team
  // that owns the issue (else PERMISSION_DENIED). `caller` must outlive
  // `done`.
  void Acknowledge(const v1::AcknowledgeIssueRequest& request, const Caller& caller,
                   IssueDone done);
  void Resolve(const v1::ResolveIssueRequest& request, const Caller& caller, IssueDone done);
  void Transfer(const v1::TransferIssueRequest& request, const Caller& caller, IssueDone done);

  // Waiting on the customer (intake_customers.cc): WaitOnCustomer and
  // ResumeIssue by a member of the owning team, RespondToIssue by a
  // submitter of the issue's source; ReopenIssue by one of them or an
  // operator; RateIssue by one of them. `caller` must outlive `done`.
  void WaitOnCustomer(const v1::WaitOnCustomerRequest& request, const Caller& caller,
                      IssueDone done);
  void Respond(const v1::RespondToIssueRequest& request, const Caller& caller, IssueDone done);
  void Resume(const v1::ResumeIssueRequest& request, const Caller& caller, IssueDone done);
  void Reopen(const v1::ReopenIssueRequest& request, const Caller& caller, IssueDone done);
  void Rate(const v1::RateIssueRequest& request, const Caller& caller, IssueDone done);

  // LinkIssue, with `problem` as read from its partition (it may change
  // before the link reaches it: see docs/problems.md), and UnlinkIssue, by
  // a member of the team that owns the issue.
  void LinkIssue(const v1::LinkIssueRequest& request, const issue::v1::Problem& problem,
                 const Caller& caller, IssueDone done);
  void UnlinkIssue(const v1::UnlinkIssueRequest& request, const Caller& caller, IssueDone done);

  // GetProblem and ListProblems, by anyone who may list issues (problems
  // carry counts, not customers). GetProblem fills `linked_issues`.
  absl::StatusOr<issue::v1::Problem> GetProblem(const v1::GetProblemRequest& request,
                                                const Caller& caller) const;
  absl::StatusOr<v1::ListProblemsResponse> ListProblems(const v1::ListProblemsRequest& request,
                                                        const Caller& caller) const;
  // This partition's problems below `before` ("" for the newest) that match
  // the request's filter: one partition's part of a partitioned list.
  absl::StatusOr<ProblemPage> ListProblemsBefore(const v1::ListProblemsRequest& request,
                                                 absl::string_view before,
                                                 const Caller& caller) const;

  // AcknowledgeProblem, ResolveProblem and TransferProblem, by a member of the team that owns
  // the problem. `done` runs after the fsync of the problem's new version
  // and of the commands that carry the change to its issues (applied to
  // them by each partition's Deliver).
  using ProblemDone = absl::AnyInvocable<void(absl::StatusOr<issue::v1::Problem>) &&>;
  void AcknowledgeProblem(const v1::AcknowledgeProblemRequest& request, const Caller& caller,
                          ProblemDone done);
  void ResolveProblem(const v1::ResolveProblemRequest& request, const Caller& caller,
                      ProblemDone done);
  // TransferProblem asks routing for the new owner first, as Transfer does.
  void TransferProblem(const v1::TransferProblemRequest& request, const Caller& caller,
                       ProblemDone done);

  // How many stored issues of a problem one ProblemCommand changes per
  // batch (tests make it small).
  void set_command_chunk(int issues) { command_chunk_ = issues; }

  // DeliverPartitionMessages: applies the messages in one batch; `done`
  // runs once, after the fsync (or at once with the error that stopped
  // them, having written nothing).
  using DeliverDone = absl::AnyInvocable<void(absl::Status) &&>;
  void Deliver(const v1::DeliverPartitionMessagesRequest& request, DeliverDone done);

  // IssueLedger, for the dispatch loops.
  absl::StatusOr<issue::v1::Issue> Current(absl::string_view id) override;
  absl::Status RecordRoutings(const std::vector<Routed>& routed) override;
  absl::Status RemovePublished(Outbox& outbox, const std::vector<Outbox::Item>& events) override;
  absl::StatusOr<absl::optional<SlaTimer>> NextTimer() override;
  absl::Status RecordEscalation(const SlaTimer& timer,
                                const routing::v1::RoutingDecision* decision) override;

 private:
  // A SubmitIssue whose batch is queued but not yet durable.
  struct InFlight {
    uint64_t fingerprint;
    std::vector<IssueDone> waiters;
  };

  // An update added to a batch, to be finished once the batch is durable.
  struct Prepared {
    issue::v1::Issue updated;  // the new version, or the current one unchanged
    issue::v1::EventType event = issue::v1::EVENT_TYPE_UNSPECIFIED;
    bool wrote = false;
    bool timer_changed = false;
    bool mailed = false;
    OpenIssues::Place before;         // where the open-issue tally had it
    issue::v1::SlaStatus sla_before;  // the SLA record it replaced, for the SLA metrics
    // The queued version this one replaced in pending_, if any: put back if
    // the batch is abandoned before it is queued.
    absl::optional<issue::v1::Issue> replaced_pending;
  };

  // What one batch of partition messages did, to finish once it is durable.
  struct Applied {
    uint64_t batch = 0;  // its PendingWrites tag
    std::vector<Prepared> versions;
    bool events = false;
    bool mail = false;
    // Counters to count once the batch is durable, by business group.
    std::vector<std::pair<prometheus::Family<prometheus::Counter>*, std::string>> counts;
  };

  IntakeCore(IntakeStore& store, IntakeMetrics& metrics, RoutingPeer& routing, Clock& clock,
             const std::string& last_id, const std::string& last_problem_id,
             std::unique_ptr<OpenIssues> open_issues);

  absl::StatusOr<issue::v1::Issue> CurrentLocked(absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies `change` to the newest version of issue `id`, adding its writes
  // (issue, index, timer, event) to `batch` and remembering the version as
  // pending until Finish().
  absl::StatusOr<Prepared> PrepareLocked(const std::string& id, ChangeFn change,
                                         rocksdb::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After the batch holding `prepared` completed with `status`: forgets the
  // pending version, counts the metrics and rings the loops' doorbells.
  void Finish(const Prepared& prepared, const absl::Status& status);
  // The SLA and CSAT metrics of a durable change.
  void CountSla(const Prepared& prepared);
  // Update() for the handlers: one change in its own batch; `done` runs
  // after the fsync. With a request_id in `key`, the outcome is kept with
  // the issue in the same batch, and a call that finds it kept answers it
  // again instead of changing anything (ALREADY_EXISTS if the request
  // differs).
  void Update(absl::string_view id, ChangeFn change, IssueDone done, const ChangeKey& key = {});
  // When `key` has a request_id that was used on issue `id` before: answers
  // `done` with that call's outcome (once it is durable) and returns true.
  // For the calls that ask routing first, before they check anything.
  bool Replay(const std::string& id, const ChangeKey& key, IssueDone& done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The same for problem `id`'s calls.
  bool ReplayProblem(const std::string& id, const ChangeKey& key, ProblemDone& done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // What a call with `key` answered before, kept under `record_id` (an
  // issue id, or ProblemRecordId of a problem's) about `name`: its record
  // (or ALREADY_EXISTS for another request with the same request_id), and
  // whether the batch that kept it is still queued. nullopt for none.
  struct Replayed {
    absl::StatusOr<v1::ChangeRecord> record;
    bool queued = false;
  };
  absl::optional<Replayed> FindReplayLocked(const std::string& record_id, absl::string_view name,
                                            const ChangeKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // For a kept record whose batch is still queued: calls `answer` with it
  // once it is durable (or with the error if that batch failed) and returns
  // true; false leaves the answer to the caller.
  bool AnswerQueuedLocked(const std::string& record_id, const ChangeKey& key, Replayed& replayed,
                          RecordDone& answer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replay() for a record_id: with a record, answers the RecordDone that
  // `answerer` makes (it takes the caller's done).
  bool ReplayRecord(const std::string& record_id, absl::string_view name, const ChangeKey& key,
                    absl::FunctionRef<RecordDone()> answerer) ABSL_LOCKS_EXCLUDED(mu_);
  // Keeps `record` under `record_id` and `key` in `batch`, pending until
  // the batch tagged `tag` is durable.
  void KeepRecordLocked(const std::string& record_id, const ChangeKey& key, v1::ChangeRecord record,
                        uint64_t tag, rocksdb::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishSubmit(const std::string& request_id, const absl::Status& status,
                    const issue::v1::Issue& issue);

  // Partition messages (intake_problems.cc).
  void SendLocked(int partition, v1::PartitionMessage message, rocksdb::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // In RecordRoutings: sends a CorrelateIssue for `routed` if its decision
  // matched a policy. True if it did.
  bool CorrelateLocked(const issue::v1::Issue& routed, const routing::v1::RoutingDecision& decision,
                       rocksdb::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyCorrelateLocked(const v1::CorrelateIssue& message, rocksdb::WriteBatch& batch,
                                    Applied& applied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyLinkedLocked(const v1::IssueLinked& message, rocksdb::WriteBatch& batch,
                                 Applied& applied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyCommandLocked(const v1::ProblemCommand& message, rocksdb::WriteBatch& batch,
                                  Applied& applied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyAttachLocked(const v1::AttachIssue& message, rocksdb::WriteBatch& batch,
                                 Applied& applied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // DetachIssue: counts the issue out of the problem if this partition has
  // it counted in.
  absl::Status DetachLocked(const v1::LinkedIssueFacts& issue, absl::string_view problem_id,
                            rocksdb::WriteBatch& batch, Applied& applied)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts `issue` into `stored` (the newest version of a problem of this
  // partition, `current` before it, nullptr for one just opened): its link,
  // its customer, its severity, the breadth check and its events.
  absl::Status LinkLocked(const v1::StoredProblem* current, v1::StoredProblem& stored,
                          const issue::v1::Issue& issue, bool manual, rocksdb::WriteBatch& batch,
                          Applied& applied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What one change does to a problem (for AcknowledgeProblem,
  // TransferProblem and ResolveProblem): its next version, its event and
  // the command its issues get (UpdateProblem fills in the problem, actor
  // and caller); write=false leaves it as it is.
  struct ProblemChange {
    bool write = true;
    v1::StoredProblem updated;
    issue::v1::EventType event = issue::v1::EVENT_TYPE_UNSPECIFIED;
    v1::ProblemCommand command;
    std::string actor;
    std::string caller;
    std::string reason;
    std::vector<issue::v1::Target> also;  // told besides the owner and its group
  };
  using ProblemChangeFn =
      absl::FunctionRef<absl::StatusOr<ProblemChange>(const v1::StoredProblem& current)>;
  // With a request_id in `key`, the problem as the call left it is kept in
  // the same batch, as Update() does for issues.
  void UpdateProblem(absl::string_view id, ProblemChangeFn change, ProblemDone done,
                     const ChangeKey& key = {});
  // UpdateProblem's change, once no kept record answered: queues its batch
  // (answering `done` after it), or sets `reply` to answer the refusal.
  void ApplyProblemChangeLocked(const std::string& id, const std::string& record_id,
                                ProblemChangeFn change, const ChangeKey& key, ProblemDone done,
                                absl::AnyInvocable<void() &&>& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The facts of the problem's opening issue (or, if it is gone, of another
  // linked issue), as routing needs them to check a new owner.
  absl::StatusOr<v1::LinkedIssueFacts> SomeLink(const issue::v1::Problem& problem) const;
  void FinishApplied(const Applied& applied, const absl::Status& status);
  // Undoes what building `applied` did to the in-memory state, for a batch
  // that failed before it was queued.
  void AbandonLocked(const Applied& applied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The newest queued or stored problem, window, customer count and issue
  // link.
  absl::StatusOr<absl::optional<v1::StoredProblem>> ProblemLocked(absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<absl::optional<KeyWindow>> WindowLocked(absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<CustomerCount> CustomerLinksLocked(absl::string_view problem_id,
                                                    absl::string_view customer_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<absl::optional<std::string>> ProblemOfIssueLocked(absl::string_view issue_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<MailPosition> MailFromLocked(int sender) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  IntakeStore& store_;
  IssueStore& issues_;
  CommitQueue& commits_;
  IntakeMetrics& metrics_;
  RoutingPeer& routing_;
  Clock& clock_;
  IssueIdGenerator ids_;
  ProblemStore& problems_;
  IssueIdGenerator problem_ids_;
  const std::unique_ptr<OpenIssues> open_issues_;

  Mutex mu_;
  absl::flat_hash_map<std::string, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  // Versions whose batches are queued but not yet durable, by issue id.
  absl::flat_hash_map<std::string, issue::v1::Issue> pending_ ABSL_GUARDED_BY(mu_);
  // The same for problem state, by the batch that wrote it.
  uint64_t last_batch_ ABSL_GUARDED_BY(mu_) = 0;
  PendingWrites<v1::StoredProblem> pending_problems_ ABSL_GUARDED_BY(mu_);
  PendingWrites<KeyWindow> pending_windows_ ABSL_GUARDED_BY(mu_);
  PendingWrites<CustomerCount> pending_customers_ ABSL_GUARDED_BY(mu_);
  PendingWrites<std::string> pending_issue_problems_ ABSL_GUARDED_BY(mu_);
  // Where each sender's mail stands, by sender, for batches not yet durable.
  PendingWrites<MailPosition> pending_mail_from_ ABSL_GUARDED_BY(mu_);
  // Change records (by issue id + request_id) of batches not yet durable.
  PendingWrites<v1::ChangeRecord> pending_changes_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> command_chunk_{500};
};

// The event of `type` for the issue as it is now, with its recipients by
// the rules in proto/switchboard/issue/v1/issue.proto, and an id that is stable across retries.
issue::v1::IssueEvent MakeEvent(issue::v1::EventType type, const issue::v1::Issue& issue,
                                absl::Time time);

// ABORTED unless `etag` is "" or the issue's (the problem's) current etag.
absl::Status CheckEtag(absl::string_view etag, const issue::v1::Issue& current);
absl::Status CheckEtag(absl::string_view etag, const issue::v1::Problem& current);

// The answer of a problem call from the record its first try kept.
RecordDone AnswerProblem(IntakeCore::ProblemDone done);

// Where a problem call's request_id record is kept in change_requests
// (issue calls' are kept under the issue id).
std::string ProblemRecordId(absl::string_view problem_id);

// The fields a caller may set on SubmitIssue; the rest are output only.
issue::v1::Issue InputFields(const issue::v1::Issue& issue);

// FAILED_PRECONDITION: `current` is not in a state that allows `action`.
absl::Status WrongState(absl::string_view action, const issue::v1::Issue& current,
                        absl::string_view allowed);

// A stable hash of a message's deterministic serialisation, or of text.
uint64_t RequestFingerprint(const google::protobuf::Message& message);
uint64_t RequestFingerprint(absl::string_view text);

// The idempotency key of a lifecycle request by `caller`: `method`, its
// request_id and a stable fingerprint of its other fields and of who sent
// it (another caller's request_id is not a way to read the outcome).
template <typename Request>
ChangeKey ChangeKeyOf(absl::string_view method, Request request, const Caller& caller) {
  ChangeKey key{.method = std::string(method), .request_id = request.request_id()};
  if (key.request_id.empty()) return key;
  request.clear_request_id();
  key.fingerprint = RequestFingerprint(request) ^ RequestFingerprint(CallerIdentity(caller));
  return key;
}

// A stable hash of the caller-supplied fields of an issue: equal for a retry
// of the same submission.
uint64_t SubmissionFingerprint(const issue::v1::Issue& issue);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_
