// Intake's RocksDB schema for broad problems. Every write goes into the
// caller's batch, so a problem's new version, its index entries, its links
// and its key's window are made durable together with whatever caused them.
//
//   problems             problem id → StoredProblem
//   problem_index        "{field}\0{value}\0{problem id}" → "" (state, business_group,
//                        team, product), for ListProblems
//   problem_links        "{problem id}\0{issue id}" → ProblemLinkRecord
//   problem_customers    "{problem id}\0{customer id}" → "{links}:{tier number}"
//   correlation_windows  correlation key → CorrelationWindow (the key's latest)
//   linked_issues        issue id → problem id, for each issue linked here: a
//                        message asking to link it again finds it (its problem
//                        partition is where its link is decided once)
//
// Problem ids have the issue id form (time-ordered, 26 characters).
#ifndef SWITCHBOARD_SERVICES_INTAKE_PROBLEM_STORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_PROBLEM_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/rocks.h"
#include "services/intake/issue_filter.h"
#include "services/intake/problems.h"
#include "switchboard/intake/v1/partition.pb.h"

namespace switchboard::intake {

// How many of a problem's linked issues are one customer's, and the tier
// the customer is counted in (its first link's).
struct CustomerCount {
  int links = 0;
  issue::v1::CustomerTier tier = issue::v1::CUSTOMER_TIER_UNSPECIFIED;
};

class ProblemStore {
 public:
  static std::vector<ColumnFamily> ColumnFamilies();

  explicit ProblemStore(Database& db);

  // The stored problem, or nullopt when there is none.
  absl::StatusOr<absl::optional<v1::StoredProblem>> Get(absl::string_view id) const;

  // The highest problem id stored; "" when there is none.
  absl::StatusOr<std::string> LastProblemId() const;

  // The latest window of a correlation key, or nullopt.
  absl::StatusOr<absl::optional<KeyWindow>> Window(absl::string_view key) const;

  // The link of the issue (by id) to the problem, or nullopt.
  absl::StatusOr<absl::optional<v1::ProblemLinkRecord>> Link(absl::string_view problem_id,
                                                             absl::string_view issue_id) const;

  // How many of the problem's linked issues are the customer's; 0 for none.
  absl::StatusOr<CustomerCount> CustomerLinks(absl::string_view problem_id,
                                              absl::string_view customer_id) const;

  // Up to `limit` ids of issues linked to the problem, in id order, after
  // `after_issue` ("" from the first).
  absl::StatusOr<std::vector<std::string>> LinkedIssueIds(absl::string_view problem_id,
                                                          absl::string_view after_issue,
                                                          int limit) const;

  // The ids of the `limit` newest issues linked to the problem, newest
  // first.
  absl::StatusOr<std::vector<std::string>> NewestLinkedIssueIds(absl::string_view problem_id,
                                                                int limit) const;

  // The problem issue `issue_id` was linked to here, or nullopt.
  absl::StatusOr<absl::optional<std::string>> ProblemOfIssue(absl::string_view issue_id) const;

  // One page of ListProblems: problems with ids below `before` ("" for no
  // bound), newest first, matching `terms`, at most `limit`. Examines at
  // most `scan_budget` entries; `*resume` is set to where the next page
  // starts ("" when nothing is left). `linked_issues` is not filled.
  absl::StatusOr<std::vector<issue::v1::Problem>> List(const std::vector<FilterTerm>& terms,
                                                       absl::string_view before, int limit,
                                                       int scan_budget, std::string* resume) const;

  // Writes `after`, a new version of `before` (nullptr for a new problem),
  // with its index entries moved to match.
  void Put(const v1::StoredProblem* before, const v1::StoredProblem& after,
           rocksdb::WriteBatch& batch) const;

  void PutWindow(absl::string_view key, const KeyWindow& window, rocksdb::WriteBatch& batch) const;

  // Records the link of `record.issue` to the problem, or removes it.
  void PutLink(absl::string_view problem_id, const v1::ProblemLinkRecord& record,
               rocksdb::WriteBatch& batch) const;
  void DeleteLink(absl::string_view problem_id, absl::string_view issue_id,
                  rocksdb::WriteBatch& batch) const;
  // Records the problem `issue_id` is linked to ("" removes the record).
  void PutProblemOfIssue(absl::string_view issue_id, absl::string_view problem_id,
                         rocksdb::WriteBatch& batch) const;

  // Sets how many linked issues the customer has; 0 deletes the record.
  void PutCustomerLinks(absl::string_view problem_id, absl::string_view customer_id,
                        const CustomerCount& count, rocksdb::WriteBatch& batch) const;

 private:
  Database& db_;
  rocksdb::ColumnFamilyHandle* problems_;
  rocksdb::ColumnFamilyHandle* index_;
  rocksdb::ColumnFamilyHandle* links_;
  rocksdb::ColumnFamilyHandle* customers_;
  rocksdb::ColumnFamilyHandle* windows_;
  rocksdb::ColumnFamilyHandle* linked_issues_;
};

// The index keys of a problem: one per non-empty field of state,
// business_group, team and product.
std::vector<std::string> ProblemIndexKeys(const issue::v1::Problem& problem);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PROBLEM_STORE_H_
