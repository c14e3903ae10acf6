// The routing service's domain logic, free of gRPC: decisions on the active
// compiled ruleset, and the ruleset's life (apply, history, backtests).
//
// Decisions read the active CompiledRuleset through one shared_ptr copy, so
// an apply that swaps it in never shows a decision half of two rulesets.
// Applies run one at a time, in arrival order, on the core's own thread: each
// is validated and compiled, checked against `expected_revision`, stored
// durably as the next revision, and only then activated.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ROUTING_CORE_H_
#define SWITCHBOARD_SERVICES_ROUTING_ROUTING_CORE_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include <prometheus/registry.h>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/sync.h"
#include "services/routing/compiled_ruleset.h"
#include "services/routing/routing_metrics.h"
#include "services/routing/ruleset_store.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

// Something told of each ruleset the core activates: a WatchActiveRuleset
// stream. Called under the core's watch lock; must not block.
class RulesetWatcher {
 public:
  virtual ~RulesetWatcher() = default;
  virtual void OnActivated(std::shared_ptr<const CompiledRuleset> ruleset) = 0;
  // The service is draining: end the stream.
  virtual void OnShutdown() = 0;
};

class RoutingCore {
 public:
  // Loads and compiles the active ruleset, if one was ever applied, and
  // starts the apply thread. DATA_LOSS if the stored active ruleset is
  // unreadable.
  static absl::StatusOr<std::unique_ptr<RoutingCore>> Create(RulesetStore& store,
                                                             prometheus::Registry& registry,
                                                             Clock& clock);

  // A core that keeps no revisions and follows a writer's (Follow()): the
  // routing replicas of docs/scale-out.md. Applies, GetRuleset of a revision
  // and ListRulesetRevisions are the writer's to answer.
  static std::unique_ptr<RoutingCore> CreateFollower(prometheus::Registry& registry, Clock& clock);

  // Stops the apply thread; queued applies finish with UNAVAILABLE.
  ~RoutingCore();

  // A follower activates `ruleset`, read from its writer, when it is newer
  // than the active one. INVALID_ARGUMENT if it does not compile here.
  absl::Status Follow(const v1::Ruleset& ruleset);

  // Tells `watcher` of every ruleset activated from now until Unwatch().
  void Watch(RulesetWatcher* watcher);
  void Unwatch(RulesetWatcher* watcher);
  // OnShutdown() to every watcher, as the service starts to drain.
  void EndWatches();

  // RouteIssue: INVALID_ARGUMENT for an invalid issue, FAILED_PRECONDITION
  // before the first apply.
  absl::StatusOr<v1::RoutingDecision> Route(const v1::RouteIssueRequest& request) const;

  // RouteIssues: 1..1000 requests, all decided on one revision.
  absl::StatusOr<v1::RouteIssuesResponse> RouteBatch(const v1::RouteIssuesRequest& request) const;

  // EscalateIssue.
  absl::StatusOr<v1::RoutingDecision> Escalate(const v1::EscalateIssueRequest& request) const;

  // RouteToTarget.
  absl::StatusOr<v1::RoutingDecision> RouteToTarget(const v1::RouteToTargetRequest& request) const;

  // GetRuleset: revision 0 is the active one; NOT_FOUND for an unknown one.
  absl::StatusOr<v1::Ruleset> GetRuleset(const v1::GetRulesetRequest& request) const;

  // ListRulesetRevisions, newest first.
  absl::StatusOr<v1::ListRulesetRevisionsResponse> ListRevisions(
      const v1::ListRulesetRevisionsRequest& request) const;

  // TestRuleset: the candidate against the active ruleset on given issues.
  absl::StatusOr<v1::TestRulesetResponse> TestRuleset(const v1::TestRulesetRequest& request) const;

  using ApplyDone = absl::AnyInvocable<void(absl::StatusOr<v1::Ruleset>) &&>;

  // Queues an ApplyRuleset by `author`; `done` runs on the apply thread with
  // the stored ruleset (revision, author and create_time set), or the error.
  void ApplyRuleset(v1::ApplyRulesetRequest request, std::string author, ApplyDone done);

  // ApplyRuleset, waiting for the outcome: for start-up, not for handlers.
  absl::StatusOr<v1::Ruleset> ApplyRulesetAndWait(v1::ApplyRulesetRequest request,
                                                  std::string author);

  // The active compiled ruleset, or null before the first apply.
  std::shared_ptr<const CompiledRuleset> active() const;

 private:
  struct PendingApply {
    v1::ApplyRulesetRequest request;
    std::string author;
    ApplyDone done;
  };

  RoutingCore(RulesetStore* store, prometheus::Registry& registry, Clock& clock);

  absl::StatusOr<std::shared_ptr<const CompiledRuleset>> ActiveOrFailed() const;
  void Activate(const std::shared_ptr<const CompiledRuleset>& compiled);
  void RunApplier();
  absl::StatusOr<v1::Ruleset> Apply(const v1::ApplyRulesetRequest& request,
                                    const std::string& author);

  RulesetStore* const store_;  // null for a follower
  Clock& clock_;
  mutable RoutingMetrics metrics_;

  mutable Mutex active_mu_;
  std::shared_ptr<const CompiledRuleset> active_ ABSL_GUARDED_BY(active_mu_);

  Mutex apply_mu_;
  CondVar apply_queued_;
  std::deque<PendingApply> applies_ ABSL_GUARDED_BY(apply_mu_);
  bool stopping_ ABSL_GUARDED_BY(apply_mu_) = false;
  std::thread applier_;

  Mutex watch_mu_;
  absl::flat_hash_set<RulesetWatcher*> watchers_ ABSL_GUARDED_BY(watch_mu_);
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ROUTING_CORE_H_
