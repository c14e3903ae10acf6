// The open-issue census: how many issues wait in each state, for which
// business group, and for how long the oldest has waited.
//
//   switchboard_intake_open_issues{state,business_group}
//   switchboard_intake_open_issue_oldest_age_seconds{state,business_group}
//
// state is received, routed or acknowledged; received issues have no owner
// yet (business_group=""). OpenIssues keeps the tally in memory: loaded by
// one pass over the open issues when intake starts, then moved by each
// durable change (IntakeCore calls it), so a census costs the number of
// series, not of open issues. The census publishes it every
// --census_interval; a series that empties is set to 0, not left at its
// last value.
#ifndef SWITCHBOARD_SERVICES_INTAKE_CENSUS_H_
#define SWITCHBOARD_SERVICES_INTAKE_CENSUS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/periodic.h"
#include "common/sync.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_store.h"

namespace switchboard::intake {

// The open issues by (state, business group): how many, and the creation
// time of the oldest. Thread-safe. Memory: one entry per distinct creation
// time of an open issue (about 50 bytes), so about 50 MB per million open
// issues.
class OpenIssues {
 public:
  using Key = std::pair<issue::v1::State, std::string>;
  struct Tally {
    int64_t issues = 0;
    absl::Time oldest = absl::InfiniteFuture();  // creation time
  };

  // The tally of what `store` holds now. Every open issue is read once, on a
  // thread of its own, from a snapshot taken here, so that a restart does
  // not wait for it (a million open issues take about 10 s on 2 cores);
  // changes told meanwhile count already, and the loaded issues are added
  // to them when the pass ends. Call before any change is committed.
  static std::unique_ptr<OpenIssues> Load(const IssueStore& store);
  ~OpenIssues();

  // Whether the pass over the stored issues is over and counted.
  bool loaded() const;
  // Blocks until it is (for tests).
  void WaitUntilLoaded() const;

  // What the tally needs of one version of an issue.
  struct Place {
    issue::v1::State state = issue::v1::STATE_UNSPECIFIED;
    std::string business_group;
    absl::Time created;
    static Place Of(const issue::v1::Issue& issue);
  };

  // A durable change of one issue from `before` (null: it is new) to `after`.
  // Changes of one issue may be told out of order: each moves the issue
  // out of one tally and into another, and those moves add up the same in
  // any order.
  void Changed(const Place* before, const Place& after);

  absl::flat_hash_map<Key, Tally> Tallies() const;

 private:
  OpenIssues() = default;
  void Run(const IssueStore& store, std::unique_ptr<rocksdb::ManagedSnapshot> snapshot);
  void AddLocked(const Place& place, int64_t delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  struct Open {
    int64_t issues = 0;
    // Creation time → open issues created then (briefly negative while an
    // issue's changes are told out of order).
    absl::btree_map<absl::Time, int64_t> by_creation;
  };
  absl::flat_hash_map<Key, Open> open_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  mutable CondVar loaded_changed_;
  std::atomic<bool> stop_{false};
  std::thread loader_;
};

class OpenIssueCensus {
 public:
  // (state label, business group label)
  using Key = std::pair<std::string, std::string>;
  struct Tally {
    int64_t issues = 0;
    absl::Duration oldest = absl::ZeroDuration();
  };
  using Result = absl::flat_hash_map<Key, Tally>;

  OpenIssueCensus(const OpenIssues& open, IntakeMetrics& metrics, Clock& clock,
                  absl::Duration interval);

  // Runs a pass now and then every interval, on its own thread.
  void Start() { task_.Start(); }
  void Stop() { task_.Stop(); }

  // One pass on the caller's thread; sets the gauges.
  Result RunOnce();

 private:
  const OpenIssues& open_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  Mutex mu_;  // one pass at a time
  absl::flat_hash_set<Key> published_ ABSL_GUARDED_BY(mu_);
  PeriodicTask task_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_CENSUS_H_
