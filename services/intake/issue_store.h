// The issue schema of intake's RocksDB: issues, their idempotency records
// and their indexes. Every change to an issue is one WriteBatch through the
// commit queue, so an issue and its indexes never disagree after a crash.
//
//   issues    issue id → Issue
//   requests  request_id → "{issue id}:{fingerprint}" (SubmitIssue idempotency)
//   change_requests  issue id (or "problems/{problem id}") + request_id →
//             ChangeRecord (idempotency of the lifecycle calls that carry a
//             request_id)
//   index     "{field}\0{value}\0{issue id}" → "" (ListIssues filters)
//   timers    fixed64 ack deadline (Unix ns) + issue id → escalation level:
//             an index of the ROUTED issues by ack deadline, which the SLA
//             timer loop reads in deadline order
//
// The work that leaves intake (route tasks, events) is in outboxes
// (common/outbox.h) written in the same batches; see store.h.
#ifndef SWITCHBOARD_SERVICES_INTAKE_ISSUE_STORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_ISSUE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "common/rocks.h"
#include "services/intake/issue_filter.h"
#include "switchboard/intake/v1/partition.pb.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::intake {

// An armed SLA timer.
struct SlaTimer {
  absl::Time deadline;
  std::string issue_id;
  std::string key;
};

// What SubmitIssue stored for a request_id.
struct RequestRecord {
  std::string issue_id;
  uint64_t fingerprint;
};

class IssueStore {
 public:
  static std::vector<ColumnFamily> ColumnFamilies();

  explicit IssueStore(Database& db);

  // NOT_FOUND if there is no such issue.
  absl::StatusOr<issue::v1::Issue> Get(absl::string_view id) const;

  absl::StatusOr<absl::optional<RequestRecord>> FindRequest(absl::string_view request_id) const;

  // What a lifecycle call with `request_id` did to the issue, or nullopt.
  absl::StatusOr<absl::optional<v1::ChangeRecord>> FindChange(absl::string_view issue_id,
                                                              absl::string_view request_id) const;
  void PutChange(absl::string_view issue_id, absl::string_view request_id,
                 const v1::ChangeRecord& record, rocksdb::WriteBatch& batch) const;

  // The highest issue id stored, or "".
  absl::StatusOr<std::string> LastIssueId() const;

  // One page of ListIssues: issues with ids below `before` ("" for no
  // bound), newest first, matching `terms` and `visible`, at most `limit`.
  // Examines at most `scan_budget` entries; `*resume` is set to where the
  // next page starts ("" when nothing is left).
  absl::StatusOr<std::vector<issue::v1::Issue>> List(
      const std::vector<FilterTerm>& terms, absl::string_view before, int limit, int scan_budget,
      std::string* resume,
      absl::FunctionRef<bool(const issue::v1::Issue&)> visible = [](const issue::v1::Issue&) {
        return true;
      }) const;

  // Adds to `batch` what a newly accepted issue writes here: the issue, its
  // request record and its index entries.
  void AddNewIssue(const issue::v1::Issue& issue, absl::string_view request_id,
                   uint64_t fingerprint, rocksdb::WriteBatch& batch) const;

  // Calls `fn` with every issue whose state is `state`, all read from
  // `snapshot` (null: one taken now), until `fn` returns false.
  absl::Status ForEachInState(issue::v1::State state,
                              absl::FunctionRef<bool(const issue::v1::Issue&)> fn,
                              const rocksdb::Snapshot* snapshot = nullptr) const;

  // The store as it is now, for reading later.
  std::unique_ptr<rocksdb::ManagedSnapshot> TakeSnapshot() const;

  // The earliest armed timer, if any.
  absl::StatusOr<absl::optional<SlaTimer>> FirstTimer() const;

  // Batch edits of issue updates.
  void PutIssue(const issue::v1::Issue& issue, rocksdb::WriteBatch& batch) const;
  void UpdateIndex(const issue::v1::Issue& before, const issue::v1::Issue& after,
                   rocksdb::WriteBatch& batch) const;
  // Removes `before`'s timer and arms `after`'s: an issue has a timer exactly
  // while it is ROUTED with an ack deadline.
  void UpdateTimer(const issue::v1::Issue& before, const issue::v1::Issue& after,
                   rocksdb::WriteBatch& batch) const;
  void DeleteTimer(const std::string& key, rocksdb::WriteBatch& batch) const;

 private:
  Database& db_;
  rocksdb::ColumnFamilyHandle* issues_;
  rocksdb::ColumnFamilyHandle* requests_;
  rocksdb::ColumnFamilyHandle* index_;
  rocksdb::ColumnFamilyHandle* timers_;
  rocksdb::ColumnFamilyHandle* changes_;
};

// The timer key of an issue that is ROUTED with an ack deadline, else "".
std::string TimerKey(const issue::v1::Issue& issue);

// Decoders of what the store reads back: a timer key (deadline, then issue
// id) and a request record's value ("{issue_id}:{fingerprint}"). DATA_LOSS
// for bytes no version of the store wrote.
absl::StatusOr<SlaTimer> DecodeTimerKey(absl::string_view key);
absl::StatusOr<RequestRecord> DecodeRequestRecord(absl::string_view value);

// The index keys of `issue`, one per filterable field that has a value.
std::vector<std::string> IndexKeys(const issue::v1::Issue& issue, absl::string_view id);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ISSUE_STORE_H_
