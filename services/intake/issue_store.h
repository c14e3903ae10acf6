// The intake service's RocksDB schema. Every change to an issue is one
// WriteBatch through the commit queue, so an issue, its indexes and its
// queued work never disagree after a crash.
//
//   issues       issue id → Issue
//   requests     request_id → "{issue id}:{fingerprint}" (SubmitIssue idempotency)
//   index        "{field}\0{value}\0{issue id}" → "" (ListIssues filters)
//   route_queue  fixed64 sequence → issue id (accepted, waiting to be routed)
//   event_queue  fixed64 sequence → IssueEvent (waiting to be published)
#ifndef SWITCHBOARD_SERVICES_INTAKE_ISSUE_STORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_ISSUE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "common/rocks.h"
#include "services/intake/issue_filter.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::intake {

// What SubmitIssue stored for a request_id.
struct RequestRecord {
  std::string issue_id;
  uint64_t fingerprint;
};

class IssueStore {
 public:
  static std::vector<std::string> ColumnFamilies();

  explicit IssueStore(Database& db);

  // NOT_FOUND if there is no such issue.
  absl::StatusOr<issue::v1::Issue> Get(absl::string_view id) const;

  absl::StatusOr<absl::optional<RequestRecord>> FindRequest(absl::string_view request_id) const;

  // The highest issue id stored, or "".
  absl::StatusOr<std::string> LastIssueId() const;

  // One page of ListIssues: issues with ids below `before` ("" for no
  // bound), newest first, matching `terms`, at most `limit`. Examines at
  // most `scan_budget` entries; `*resume` is set to where the next page
  // starts ("" when nothing is left).
  absl::StatusOr<std::vector<issue::v1::Issue>> List(const std::vector<FilterTerm>& terms,
                                                     absl::string_view before, int limit,
                                                     int scan_budget, std::string* resume) const;

  // Adds to `batch` everything a newly accepted issue writes: the issue, its
  // request record, its index entries, a route task and `events`.
  void AddNewIssue(const issue::v1::Issue& issue, absl::string_view request_id,
                   uint64_t fingerprint, uint64_t route_sequence,
                   const std::vector<std::pair<uint64_t, issue::v1::IssueEvent>>& events,
                   rocksdb::WriteBatch& batch) const;

  // The next free sequence numbers of the route and event queues.
  absl::StatusOr<uint64_t> NextRouteSequence() const;
  absl::StatusOr<uint64_t> NextEventSequence() const;

 private:
  absl::StatusOr<uint64_t> NextSequence(rocksdb::ColumnFamilyHandle* family) const;

  Database& db_;
  rocksdb::ColumnFamilyHandle* issues_;
  rocksdb::ColumnFamilyHandle* requests_;
  rocksdb::ColumnFamilyHandle* index_;
  rocksdb::ColumnFamilyHandle* route_queue_;
  rocksdb::ColumnFamilyHandle* event_queue_;
};

// The index keys of `issue`, one per filterable field that has a value.
std::vector<std::string> IndexKeys(const issue::v1::Issue& issue, absl::string_view id);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ISSUE_STORE_H_
