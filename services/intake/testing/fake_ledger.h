// An IssueLedger over a map, for the dispatch loops' tests: it records what
// the loops asked for, removes outbox items as the real ledger does (so the
// loops see them gone), and can be told to fail.
#ifndef SWITCHBOARD_SERVICES_INTAKE_TESTING_FAKE_LEDGER_H_
#define SWITCHBOARD_SERVICES_INTAKE_TESTING_FAKE_LEDGER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/commit_queue.h"
#include "common/status.h"
#include "common/sync.h"
#include "services/intake/issue_ledger.h"

namespace switchboard::intake::fakes {

class FakeLedger final : public IssueLedger {
 public:
  // `tasks` is the outbox the route loop drains (the publish loop names its
  // event outbox in each call); `commits` writes their removals.
  FakeLedger(CommitQueue& commits, Outbox& tasks) : commits_(commits), tasks_(tasks) {}

  void Put(const issue::v1::Issue& issue) {
    MutexLock lock(mu_);
    issues_[std::string(issue.name().substr(issue.name().find('/') + 1))] = issue;
  }
  void SetTimer(absl::optional<SlaTimer> timer) {
    MutexLock lock(mu_);
    timer_ = std::move(timer);
  }
  void FailWrites(absl::Status status) {
    MutexLock lock(mu_);
    fail_ = std::move(status);
  }

  std::vector<Routed> routed() {
    MutexLock lock(mu_);
    return routed_;
  }
  std::vector<uint64_t> removed_events() {
    MutexLock lock(mu_);
    return removed_events_;
  }
  // (timer key, the decision's team or "" for none), in order.
  std::vector<std::pair<std::string, std::string>> escalations() {
    MutexLock lock(mu_);
    return escalations_;
  }

  absl::StatusOr<issue::v1::Issue> Current(absl::string_view id) override {
    MutexLock lock(mu_);
    auto found = issues_.find(std::string(id));
    if (found == issues_.end()) return absl::NotFoundError(absl::StrCat("no issue ", id));
    return found->second;
  }

  absl::Status RecordRoutings(const std::vector<Routed>& routed) override {
    {
      MutexLock lock(mu_);
      RETURN_IF_ERROR(fail_);
      routed_.insert(routed_.end(), routed.begin(), routed.end());
    }
    rocksdb::WriteBatch batch;
    for (const Routed& one : routed) tasks_.Remove(one.task, batch);
    return commits_.CommitAndWait(std::move(batch));
  }

  absl::Status RemovePublished(Outbox& outbox, const std::vector<Outbox::Item>& events) override {
    {
      MutexLock lock(mu_);
      RETURN_IF_ERROR(fail_);
      for (const Outbox::Item& event : events) removed_events_.push_back(event.sequence);
    }
    rocksdb::WriteBatch batch;
    for (const Outbox::Item& event : events) outbox.Remove(event, batch);
    return commits_.CommitAndWait(std::move(batch));
  }

  absl::StatusOr<absl::optional<SlaTimer>> NextTimer() override {
    MutexLock lock(mu_);
    return timer_;
  }

  absl::Status RecordEscalation(const SlaTimer& timer,
                                const routing::v1::RoutingDecision* decision) override {
    MutexLock lock(mu_);
    RETURN_IF_ERROR(fail_);
    escalations_.emplace_back(timer.key, decision == nullptr ? "" : decision->target().team());
    if (timer_.has_value() && timer_->key == timer.key) timer_.reset();
    return absl::OkStatus();
  }

 private:
  CommitQueue& commits_;
  Outbox& tasks_;
  Mutex mu_;
  std::map<std::string, issue::v1::Issue> issues_ ABSL_GUARDED_BY(mu_);
  absl::optional<SlaTimer> timer_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::vector<Routed> routed_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> removed_events_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, std::string>> escalations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::intake::fakes

#endif  // SWITCHBOARD_SERVICES_INTAKE_TESTING_FAKE_LEDGER_H_
