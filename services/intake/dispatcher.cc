#include "services/intake/dispatcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/proto_time.h"
#include "common/status.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;

// Waits for the outcome of an IntakeCore update.
class UpdateWaiter {
 public:
  IntakeCore::IssueDone Callback() {
    return [this](const absl::StatusOr<Issue>& result) {
      MutexLock lock(mu_);
      if (!result.ok() && status_.ok()) status_ = result.status();
      if (--pending_ == 0) done_.SignalAll();
    };
  }
  void Expect(int n) {
    MutexLock lock(mu_);
    pending_ += n;
  }
  absl::Status Wait() {
    MutexLock lock(mu_);
    while (pending_ > 0) done_.Wait(mu_);
    return status_;
  }

 private:
  Mutex mu_;
  CondVar done_;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

Dispatcher::Dispatcher(IntakeCore& core, IssueStore& store, CommitQueue& commits,
                       RoutingPeer& routing, NotificationPeer& notification, IntakeMetrics& metrics,
                       Clock& timer_clock, Options options)
    : core_(core),
      store_(store),
      commits_(commits),
      routing_(routing),
      notification_(notification),
      metrics_(metrics),
      timer_clock_(timer_clock),
      options_(options) {}

Dispatcher::~Dispatcher() { Stop(); }

absl::Status Dispatcher::Start() {
  core_.SetWorkListener([this] { Wake(); });
  router_ = std::thread([this] { RouteLoop(); });
  publisher_ = std::thread([this] { PublishLoop(); });
  timers_ = std::thread([this] { TimerLoop(); });
  return absl::OkStatus();
}

void Dispatcher::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    timer_wake_ = true;
    woken_.SignalAll();
  }
  core_.SetWorkListener(nullptr);
  for (std::thread* thread : {&router_, &publisher_, &timers_}) {
    if (thread->joinable()) thread->join();
  }
}

void Dispatcher::Wake() {
  MutexLock lock(mu_);
  ++generation_;
  timer_wake_ = true;
  woken_.SignalAll();
}

uint64_t Dispatcher::generation() {
  MutexLock lock(mu_);
  return generation_;
}

bool Dispatcher::stopping() {
  MutexLock lock(mu_);
  return stopping_;
}

void Dispatcher::Idle(uint64_t seen, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(mu_);
  while (!stopping_ && generation_ == seen) {
    if (!woken_.WaitWithDeadline(mu_, deadline)) return;
  }
}

void Dispatcher::Failed(absl::string_view peer, const absl::Status& status,
                        ExponentialBackoff& backoff) {
  metrics_.dispatch_failures
      .Add({{"peer", std::string(peer)}, {"code", std::string(StatusCodeName(status.code()))}})
      .Increment();
  const absl::Duration delay = backoff.Next();
  log::Warning("dispatch call failed; retrying",
               {{"peer", peer}, {"status", status}, {"retry_in", delay}});
  // Sleep out the backoff unless stopped; new work does not cut it short.
  const absl::Time deadline = absl::Now() + delay;
  MutexLock lock(mu_);
  while (!stopping_ && woken_.WaitWithDeadline(mu_, deadline)) {
  }
}

absl::Status Dispatcher::CommitAndWait(rocksdb::WriteBatch batch) {
  Notification done;
  absl::Status result;
  commits_.Commit(std::move(batch), [&](const absl::Status& status) {
    result = status;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

void Dispatcher::UpdateBacklog(absl::string_view queue, int64_t size, absl::Duration oldest) {
  metrics_.backlog.Add({{"queue", std::string(queue)}}).Set(static_cast<double>(size));
  metrics_.backlog_oldest_age.Add({{"queue", std::string(queue)}})
      .Set(std::max(0.0, absl::ToDoubleSeconds(oldest)));
}

void Dispatcher::RouteLoop() {
  ExponentialBackoff backoff(options_.backoff);
  while (!stopping()) {
    const uint64_t seen = generation();
    if (!RouteOnce(backoff)) Idle(seen, options_.idle_poll);
  }
}

bool Dispatcher::RouteOnce(ExponentialBackoff& backoff) {
  absl::StatusOr<std::vector<QueueItem>> tasks =
      store_.PeekRouteTasks(options_.route_batch, route_from_);
  if (!tasks.ok()) {
    log::Error("cannot read the route queue", {{"status", tasks.status()}});
    return false;
  }
  if (tasks->empty()) {
    UpdateBacklog("route", 0, absl::ZeroDuration());
    return false;
  }
  routing::v1::RouteIssuesRequest request;
  std::vector<const QueueItem*> routed;
  rocksdb::WriteBatch orphans;
  absl::Time oldest = absl::InfiniteFuture();
  for (const QueueItem& task : *tasks) {
    absl::StatusOr<Issue> issue = core_.Current(task.value);
    if (!issue.ok()) {
      log::Error("dropping a route task whose issue cannot be read",
                 {{"issue", task.value}, {"status", issue.status()}});
      store_.DeleteRouteTask(task.sequence, orphans);
      continue;
    }
    oldest = std::min(oldest, FromProtoTime(issue->create_time()));
    *request.add_requests()->mutable_issue() = *std::move(issue);
    routed.push_back(&task);
  }
  UpdateBacklog("route",
                static_cast<int64_t>(tasks->size()) < options_.route_batch
                    ? static_cast<int64_t>(tasks->size())
                    : std::max<int64_t>(store_.EstimateRouteTasks(), options_.route_batch),
                absl::Now() - oldest);
  const uint64_t next = tasks->back().sequence + 1;
  if (orphans.Count() > 0 && !CommitAndWait(std::move(orphans)).ok()) return false;
  if (routed.empty()) {
    route_from_ = next;
    return true;
  }

  absl::StatusOr<routing::v1::RouteIssuesResponse> response = routing_.RouteIssues(request);
  if (response.ok() && response->decisions_size() != request.requests_size()) {
    response = absl::InternalError("RouteIssues answered a different number of decisions");
  }
  if (!response.ok()) {
    Failed("routing", response.status(), backoff);
    return false;
  }
  backoff.Reset();
  UpdateWaiter waiter;
  waiter.Expect(static_cast<int>(routed.size()));
  for (size_t i = 0; i < routed.size(); ++i) {
    core_.RecordRouting(routed[i]->value, response->decisions(static_cast<int>(i)),
                        routed[i]->sequence, waiter.Callback());
  }
  if (absl::Status recorded = waiter.Wait(); !recorded.ok()) {
    log::Error("cannot record routing decisions", {{"status", recorded}});
    return false;
  }
  route_from_ = next;
  return true;
}

void Dispatcher::PublishLoop() {
  ExponentialBackoff backoff(options_.backoff);
  while (!stopping()) {
    const uint64_t seen = generation();
    if (!PublishOnce(backoff)) Idle(seen, options_.idle_poll);
  }
}

bool Dispatcher::PublishOnce(ExponentialBackoff& backoff) {
  absl::StatusOr<std::vector<QueueItem>> items =
      store_.PeekEvents(options_.publish_batch, publish_from_);
  if (!items.ok()) {
    log::Error("cannot read the event queue", {{"status", items.status()}});
    return false;
  }
  if (items->empty()) {
    UpdateBacklog("publish", 0, absl::ZeroDuration());
    return false;
  }
  notification::v1::PublishRequest request;
  rocksdb::WriteBatch published;
  for (const QueueItem& item : *items) {
    if (!request.add_events()->ParseFromString(item.value)) {
      log::Error("dropping an event that does not parse", {{"sequence", item.sequence}});
      request.mutable_events()->RemoveLast();
    }
    store_.DeleteEvent(item.sequence, published);
  }
  UpdateBacklog("publish",
                static_cast<int64_t>(items->size()) < options_.publish_batch
                    ? static_cast<int64_t>(items->size())
                    : std::max<int64_t>(store_.EstimateEvents(), options_.publish_batch),
                request.events().empty() ? absl::ZeroDuration()
                                         : absl::Now() - FromProtoTime(request.events(0).time()));
  if (!request.events().empty()) {
    if (absl::Status status = notification_.Publish(request); !status.ok()) {
      Failed("notification", status, backoff);
      return false;
    }
  }
  backoff.Reset();
  if (absl::Status removed = CommitAndWait(std::move(published)); !removed.ok()) {
    log::Error("cannot remove published events", {{"status", removed}});
    return false;
  }
  publish_from_ = items->back().sequence + 1;
  return true;
}

void Dispatcher::TimerLoop() {
  ExponentialBackoff backoff(options_.backoff);
  while (!stopping()) {
    if (!FireNextTimer(backoff)) {
      // Nothing due: wait for the earliest deadline on the timer clock, or
      // for new work (which may arm an earlier timer).
      absl::StatusOr<absl::optional<Timer>> next = store_.FirstTimer();
      const absl::Time deadline = next.ok() && next->has_value()
                                      ? (*next)->deadline
                                      : timer_clock_.Now() + options_.idle_poll;
      MutexLock lock(mu_);
      if (!stopping_ && !timer_wake_)
        timer_clock_.AwaitDeadline(mu_, woken_, timer_wake_, deadline);
      timer_wake_ = false;
    }
  }
}

bool Dispatcher::FireNextTimer(ExponentialBackoff& backoff) {
  absl::StatusOr<absl::optional<Timer>> timer = store_.FirstTimer();
  if (!timer.ok()) {
    log::Error("cannot read the timers", {{"status", timer.status()}});
    return false;
  }
  if (!timer->has_value() || (*timer)->deadline > timer_clock_.Now()) return false;
  const Timer& due = **timer;
  absl::StatusOr<Issue> issue = core_.Current(due.issue_id);
  if (!issue.ok()) {
    log::Error("dropping a timer whose issue cannot be read", {{"issue", due.issue_id}});
    rocksdb::WriteBatch batch;
    store_.DeleteTimer(due.key, batch);
    return CommitAndWait(std::move(batch)).ok();
  }
  absl::StatusOr<routing::v1::RoutingDecision> decision;
  if (TimerKey(*issue) == due.key) {
    routing::v1::EscalateIssueRequest request;
    *request.mutable_issue() = *issue;
    decision = routing_.EscalateIssue(request);
    if (!decision.ok() && decision.status().code() != absl::StatusCode::kFailedPrecondition &&
        decision.status().code() != absl::StatusCode::kInvalidArgument) {
      Failed("routing", decision.status(), backoff);
      return false;
    }
    backoff.Reset();
    if (!decision.ok()) {
      log::Warning("ack deadline passed and nobody is left to escalate to",
                   {{"issue", issue->name()}, {"status", decision.status()}});
    }
  }
  UpdateWaiter waiter;
  waiter.Expect(1);
  core_.RecordEscalation(due.issue_id, due.key, decision.ok() ? &*decision : nullptr,
                         waiter.Callback());
  if (absl::Status recorded = waiter.Wait(); !recorded.ok()) {
    log::Error("cannot record an escalation", {{"issue", due.issue_id}, {"status", recorded}});
    return false;
  }
  return true;
}

}  // namespace switchboard::intake
