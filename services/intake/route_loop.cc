#include "services/intake/route_loop.h"

#include <utility>
#include <vector>

#include "common/logging.h"

namespace switchboard::intake {

RouteLoop::RouteLoop(Outbox& tasks, IssueLedger& ledger, RoutingPeer& routing,
                     IntakeMetrics& metrics, Clock& clock, Options options)
    : tasks_(tasks),
      ledger_(ledger),
      routing_(routing),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      loop_("route", clock, tasks.doorbell(), options.loop, [this] { return RunOnce(); }) {}

WorkerLoop::Step RouteLoop::RunOnce() {
  absl::StatusOr<std::vector<Outbox::Item>> tasks = tasks_.Peek(options_.batch);
  if (!tasks.ok()) {
    log::Error("cannot read the route queue", {{"status", tasks.status()}});
    return WorkerLoop::Step::Failed();
  }
  if (tasks->empty()) {
    metrics_.SetBacklog("route", 0, absl::ZeroDuration());
    return WorkerLoop::Step::Idle();
  }
  const int64_t size = static_cast<int64_t>(tasks->size());
  if (size < options_.batch) {
    metrics_.SetBacklog("route", size, clock_.Now() - tasks->front().append_time);
  } else if (absl::StatusOr<Outbox::Backlog> backlog = tasks_.Measure(); backlog.ok()) {
    metrics_.SetBacklog("route", std::max<int64_t>(backlog->size, size), backlog->oldest_age);
  }

  std::vector<IssueLedger::Routed> routed;
  std::vector<size_t> asked;  // indexes into `routed` of the issues in the request
  routing::v1::RouteIssuesRequest request;
  for (Outbox::Item& task : *tasks) {
    absl::StatusOr<issue::v1::Issue> issue = ledger_.Current(task.value);
    if (!issue.ok()) {
      log::Error("dropping a route task whose issue cannot be read",
                 {{"issue", task.value}, {"status", issue.status()}});
    } else {
      asked.push_back(routed.size());
      *request.add_requests()->mutable_issue() = *std::move(issue);
    }
    routed.push_back({std::move(task), absl::nullopt});
  }
  if (!asked.empty()) {
    absl::StatusOr<routing::v1::RouteIssuesResponse> response = routing_.RouteIssues(request);
    if (response.ok() && response->decisions_size() != request.requests_size()) {
      response = absl::InternalError("RouteIssues answered a different number of decisions");
    }
    if (!response.ok()) {
      metrics_.CountDispatchFailure("routing", response.status());
      log::Warning("RouteIssues failed; retrying after a backoff",
                   {{"issues", request.requests_size()}, {"status", response.status()}});
      return WorkerLoop::Step::Failed();
    }
    for (size_t i = 0; i < asked.size(); ++i) {
      routed[asked[i]].decision = std::move(*response->mutable_decisions(static_cast<int>(i)));
    }
  }
  if (absl::Status recorded = ledger_.RecordRoutings(routed); !recorded.ok()) {
    log::Error("cannot record routing decisions", {{"status", recorded}});
    return WorkerLoop::Step::Failed();
  }
  tasks_.Consumed(routed.back().task.sequence);
  return WorkerLoop::Step::Progress();
}

}  // namespace switchboard::intake
