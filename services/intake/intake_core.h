// The intake service's domain logic, free of gRPC: accepting issues durably
// and idempotently, and answering queries.
//
// SubmitIssue writes the issue, its request record, its index entries, a
// route task and its RECEIVED event in one batch through the commit queue
// and completes only after the fsync. A request_id is claimed in memory
// before its batch is queued, so concurrent retries of one request wait for
// the first instead of creating a second issue.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_

#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/sync.h"
#include "services/intake/issue_id.h"
#include "services/intake/issue_store.h"
#include "switchboard/intake/v1/intake.pb.h"

namespace switchboard::intake {

class IntakeCore {
 public:
  using IssueDone = absl::AnyInvocable<void(absl::StatusOr<issue::v1::Issue>) &&>;

  // Reads where the id sequence and the queues stand.
  static absl::StatusOr<std::unique_ptr<IntakeCore>> Create(IssueStore& store, CommitQueue& commits,
                                                            prometheus::Registry& registry,
                                                            Clock& clock);

  // SubmitIssue. `done` runs once, after the fsync (on the commit thread) or
  // at once for an invalid or already-known request.
  void Submit(const v1::SubmitIssueRequest& request, IssueDone done);

  // GetIssue.
  absl::StatusOr<issue::v1::Issue> Get(const v1::GetIssueRequest& request) const;

  // ListIssues.
  absl::StatusOr<v1::ListIssuesResponse> List(const v1::ListIssuesRequest& request) const;

 private:
  // A SubmitIssue whose batch is queued but not yet durable.
  struct InFlight {
    uint64_t fingerprint;
    std::vector<IssueDone> waiters;
  };

  IntakeCore(IssueStore& store, CommitQueue& commits, prometheus::Registry& registry, Clock& clock,
             const std::string& last_id);

  void FinishSubmit(const std::string& request_id, const absl::Status& status,
                    const issue::v1::Issue& issue);

  IssueStore& store_;
  CommitQueue& commits_;
  Clock& clock_;
  IssueIdGenerator ids_;
  prometheus::Family<prometheus::Counter>& submitted_;

  Mutex mu_;
  absl::flat_hash_map<std::string, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t next_route_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_event_sequence_ ABSL_GUARDED_BY(mu_) = 1;
};

// The recipients and id of an event, by the rules of API.md.
issue::v1::IssueEvent MakeEvent(issue::v1::EventType type, const issue::v1::Issue& issue,
                                absl::Time time);

// A stable hash of the caller-supplied fields of an issue: equal for a retry
// of the same submission.
uint64_t SubmissionFingerprint(const issue::v1::Issue& issue);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_CORE_H_
