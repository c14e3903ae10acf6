// The intake service's domain logic, free of gRPC: accepting issues durably
// and idempotently, their life (acknowledge, resolve, transfer), the updates
// the dispatcher makes (routed, escalated), and queries.
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
// only once its version is durable.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/caller.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/sync.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_id.h"
#include "services/intake/issue_store.h"
#include "services/intake/peers.h"
#include "switchboard/intake/v1/intake.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::intake {

// What one update does to the newest version of an issue.
struct IssueChange {
  // False: the issue stays as it is (an idempotent repeat, a stale task);
  // the batch still carries `extra` writes and the caller still waits for
  // durability.
  bool write = true;
  issue::v1::Issue updated;  // etag and update_time are set by Update()
  issue::v1::EventType event = issue::v1::EVENT_TYPE_UNSPECIFIED;
  std::string actor;
  std::string caller;  // the authenticated identity, "" without authentication
  std::string reason;
  std::string previous_owner;  // team told too, for transfers and escalations
};

class IntakeCore {
 public:
  using IssueDone = absl::AnyInvocable<void(absl::StatusOr<issue::v1::Issue>) &&>;
  using ChangeFn = absl::FunctionRef<absl::StatusOr<IssueChange>(const issue::v1::Issue& current)>;
  using ExtraWrites = absl::FunctionRef<void(rocksdb::WriteBatch& batch)>;

  // Reads where the id sequence and the queues stand. `routing` answers
  // TransferIssue's target checks.
  static absl::StatusOr<std::unique_ptr<IntakeCore>> Create(IssueStore& store, CommitQueue& commits,
                                                            IntakeMetrics& metrics,
                                                            RoutingPeer& routing, Clock& clock);

  // SubmitIssue. `done` runs once, after the fsync (on the commit thread) or
  // at once for an invalid or already-known request.
  void Submit(const v1::SubmitIssueRequest& request, IssueDone done);

  // GetIssue and ListIssues: durable state only, of the issues `caller` may
  // see (MaySee); GetIssue of one it may not is PERMISSION_DENIED.
  absl::StatusOr<issue::v1::Issue> Get(const v1::GetIssueRequest& request,
                                       const Caller& caller) const;
  absl::StatusOr<v1::ListIssuesResponse> List(const v1::ListIssuesRequest& request,
                                              const Caller& caller) const;

  // AcknowledgeIssue, ResolveIssue, TransferIssue, by a member of the team
  // that owns the issue (else PERMISSION_DENIED). `caller` must outlive
  // `done`.
  void Acknowledge(const v1::AcknowledgeIssueRequest& request, const Caller& caller,
                   IssueDone done);
  void Resolve(const v1::ResolveIssueRequest& request, const Caller& caller, IssueDone done);
  void Transfer(const v1::TransferIssueRequest& request, const Caller& caller, IssueDone done);

  // The dispatcher's updates. RecordRouting makes a RECEIVED issue ROUTED
  // and removes its route task; RecordEscalation moves a breached issue to
  // the next owner (or, with `decision` null, disarms its timer when the
  // escalation list is exhausted). Both ignore issues that moved on since.
  void RecordRouting(const std::string& id, const routing::v1::RoutingDecision& decision,
                     uint64_t route_task, IssueDone done);
  void RecordEscalation(const std::string& id, const std::string& timer_key,
                        const routing::v1::RoutingDecision* decision, IssueDone done);

  // The newest version of an issue, durable or not yet.
  absl::StatusOr<issue::v1::Issue> Current(absl::string_view id);

  // Applies `change` to the newest version of issue `id`; see above.
  void Update(absl::string_view id, ChangeFn change, ExtraWrites extra, IssueDone done);

  // Called (on the commit thread) whenever a durable batch queued work: a
  // route task or an event. The dispatcher wakes up on it.
  void SetWorkListener(std::function<void()> listener);

 private:
  // A SubmitIssue whose batch is queued but not yet durable.
  struct InFlight {
    uint64_t fingerprint;
    std::vector<IssueDone> waiters;
  };

  IntakeCore(IssueStore& store, CommitQueue& commits, IntakeMetrics& metrics, RoutingPeer& routing,
             Clock& clock, const std::string& last_id);

  absl::StatusOr<issue::v1::Issue> CurrentLocked(absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishSubmit(const std::string& request_id, const absl::Status& status,
                    const issue::v1::Issue& issue);
  void Committed(const issue::v1::Issue& issue, issue::v1::EventType event,
                 const absl::Status& status, IssueDone done);

  IssueStore& store_;
  CommitQueue& commits_;
  IntakeMetrics& metrics_;
  RoutingPeer& routing_;
  Clock& clock_;
  IssueIdGenerator ids_;

  Mutex mu_;
  absl::flat_hash_map<std::string, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  // Versions whose batches are queued but not yet durable, by issue id.
  absl::flat_hash_map<std::string, issue::v1::Issue> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_route_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_event_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  std::function<void()> on_work_ ABSL_GUARDED_BY(mu_);
};

// The event of `type` for the issue as it is now, with its recipients by
// the rules of API.md, and an id that is stable across retries.
issue::v1::IssueEvent MakeEvent(issue::v1::EventType type, const issue::v1::Issue& issue,
                                absl::Time time);

// Whether `caller` may read `issue`: operators and services every issue,
// submitters those of their sources, team members those their teams own.
bool MaySee(const Caller& caller, const issue::v1::Issue& issue);

// A stable hash of the caller-supplied fields of an issue: equal for a retry
// of the same submission.
uint64_t SubmissionFingerprint(const issue::v1::Issue& issue);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_
